"""--ttpose-dtypes / --ttpose-resolutions / --ttpose-batch-sizes / --ttpose-model: the ids, ini mirrors, bad values."""

from __future__ import annotations

import pytest

POINT_TEST = """
def test_point(ttpose_point):
    pass

def test_pair(ttpose_dtype_pair):
    pass
"""


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_default_matrix_ids(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(POINT_TEST)
    ids = collected(fake_tester.runpytest("--co", "-q"))
    assert ids == [
        "test_default_matrix_ids.py::test_point[n-640x640-b1-bfloat8_b-bfloat8_b]",
        "test_default_matrix_ids.py::test_point[n-640x640-b2-bfloat8_b-bfloat8_b]",
        "test_default_matrix_ids.py::test_point[n-320x320-b1-bfloat8_b-bfloat8_b]",
        "test_default_matrix_ids.py::test_point[n-320x320-b2-bfloat8_b-bfloat8_b]",
        "test_default_matrix_ids.py::test_point[n-640x640-b1-bfloat16-bfloat16]",
        "test_default_matrix_ids.py::test_point[n-640x640-b2-bfloat16-bfloat16]",
        "test_default_matrix_ids.py::test_point[n-320x320-b1-bfloat16-bfloat16]",
        "test_default_matrix_ids.py::test_point[n-320x320-b2-bfloat16-bfloat16]",
        "test_default_matrix_ids.py::test_pair[bfloat8_b-bfloat8_b]",
        "test_default_matrix_ids.py::test_pair[bfloat16-bfloat16]",
    ]


def test_matrix_options(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(POINT_TEST)
    result = fake_tester.runpytest(
        "--co",
        "-q",
        "--ttpose-dtypes=bfloat16/bfloat8_b",
        "--ttpose-resolutions=256x320",
        "--ttpose-batch-sizes=4",
        "--ttpose-model=s",
    )
    assert [line.split("::")[1] for line in collected(result)] == [
        "test_point[s-256x320-b4-bfloat16-bfloat8_b]",
        "test_pair[bfloat16-bfloat8_b]",
    ]


def test_ini_mirrors_and_cli_wins(fake_tester: pytest.Pytester) -> None:
    fake_tester.makeini(
        "[pytest]\nttpose_backend = fake\nttpose_dtypes = bfloat16\nttpose_resolutions = 64\nttpose_batch_sizes = 3\n"
    )
    fake_tester.makepyfile(POINT_TEST)
    from_ini = collected(fake_tester.runpytest("--co", "-q"))
    assert [line.split("::")[1] for line in from_ini] == [
        "test_point[n-64x64-b3-bfloat16-bfloat16]",
        "test_pair[bfloat16-bfloat16]",
    ]
    from_cli = collected(fake_tester.runpytest("--co", "-q", "--ttpose-batch-sizes=1"))
    assert from_cli[0].endswith("test_point[n-64x64-b1-bfloat16-bfloat16]")


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        (
            "--ttpose-dtypes=bfloat9",
            "*--ttpose-dtypes=bfloat9: not a dtype the YOLO11-pose TT model supports. Accepted: bfloat16, bfloat8_b.*",
        ),
        ("--ttpose-dtypes=a/b/c", "*--ttpose-dtypes=a/b/c: 'a/b/c' is not ACT/WEIGHT*"),
        ("--ttpose-resolutions=600", "*--ttpose-resolutions=600: resolution '600' is not a positive multiple of 32*"),
        ("--ttpose-resolutions=640by640", "*--ttpose-resolutions=640by640: malformed resolution*"),
        ("--ttpose-batch-sizes=0", "*--ttpose-batch-sizes=0: bad batch size '0'*"),
        ("--ttpose-model=xl", "*--ttpose-model=xl: unknown model scale. Accepted: n, s, m, l, x*"),
    ],
)
def test_bad_values_are_usage_errors(fake_tester: pytest.Pytester, argument: str, expected: str) -> None:
    result = fake_tester.runpytest(argument)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([expected])


def test_bad_ini_value_names_the_option(fake_tester: pytest.Pytester) -> None:
    fake_tester.makeini("[pytest]\nttpose_backend = fake\nttpose_dtypes = float8\n")
    result = fake_tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ttpose-dtypes=float8: not a dtype the YOLO11-pose TT model supports*"])
