"""The --ttpose-weights file is opened and checked once, at session start: any problem is one usage error (rc 4) in a
few lines, before any case runs, instead of one error per case (or an unhandled IndexError for a text file)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from pytest_ttpose.reference.model import YoloV11Pose

CASES = """
import pytest

@pytest.mark.parametrize("index", range(3))
def test_case(ttpose_reference, index):
    pass
"""


def _write_state(path: Path, scale: str = "n", fill: float | None = None) -> None:
    state = YoloV11Pose(scale).state_dict()
    if fill is not None:
        state = {k: torch.full_like(v, fill) if v.is_floating_point() else v for k, v in state.items()}
    torch.save(state, path)


def _make(kind: str, path: Path) -> None:
    if kind == "text":
        path.write_text("weights: yolo11n-pose\nthis is not a torch file\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        _write_state(path)
        path.write_bytes(path.read_bytes()[:4096])
    elif kind == "not a state dict":
        torch.save([torch.zeros(3)], path)
    elif kind == "wrong scale":
        _write_state(path, "s")
    elif kind == "nan":
        _write_state(path, fill=math.nan)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("text", "not a torch weights file (it starts with 'weights: yolo11n'"),
        ("empty", "the weights file is empty (0 bytes)"),
        ("truncated", "truncated or corrupt weights file"),
        ("not a state dict", "holds a list, not a state dict"),
        ("wrong scale", "weights do not fit the YOLO11-pose scale 'n'"),
        ("nan", "tensor(s) hold NaN/inf values"),
    ],
)
def test_bad_weights_file_is_one_usage_error(fake_tester: pytest.Pytester, kind: str, message: str) -> None:
    _make(kind, fake_tester.path / "w.pt")
    fake_tester.makepyfile(test_cases=CASES)
    result = fake_tester.runpytest("--ttpose-weights=w.pt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert output.count(message) == 1, output
    assert f"--ttpose-weights={fake_tester.path / 'w.pt'}: " in output
    assert len(output.splitlines()) < 25, output
    result.assert_outcomes()


def test_weights_are_not_opened_when_no_case_builds_the_reference(fake_tester: pytest.Pytester) -> None:
    (fake_tester.path / "w.pt").write_text("text")
    fake_tester.makepyfile(test_cases="def test_plain(ttpose_settings):\n    pass\n")
    fake_tester.runpytest("--ttpose-weights=w.pt").assert_outcomes(passed=1)


def test_a_good_weights_file_is_loaded_once_and_named(fake_tester: pytest.Pytester) -> None:
    _write_state(fake_tester.path / "w.pt")
    fake_tester.makepyfile(test_cases=CASES.replace("    pass", "    print('SOURCE', ttpose_reference.weights_source)"))
    result = fake_tester.runpytest("-s", "--ttpose-weights=w.pt")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"*SOURCE {fake_tester.path / 'w.pt'} (sha256 *"])


def test_under_xdist_the_controller_checks_the_weights_before_workers_start(fake_tester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    _make("text", fake_tester.path / "w.pt")
    fake_tester.makepyfile(test_cases=CASES)
    result = fake_tester.runpytest_subprocess("-n", "2", "--ttpose-weights=w.pt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert output.count("not a torch weights file") == 1, output
