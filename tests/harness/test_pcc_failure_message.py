"""A PCC failure shows measured vs threshold vs baseline, the file, the command, and the per-layer table with the
first layer below threshold marked; a broken table never hides the PCC failure."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_ttpose.harness.checks import format_layer_table

CASES = """
from types import SimpleNamespace

ROWS = [
    SimpleNamespace(name="0.Conv", shape=(1, 16, 32, 32), pcc=0.9999, max_abs_error=0.01),
    SimpleNamespace(name="9.SPPF", shape=(1, 256, 2, 2), pcc=0.91, max_abs_error=1.5),
    SimpleNamespace(name="10.C2PSA", shape=(1, 256, 2, 2), pcc=0.90, max_abs_error=1.7),
]


def test_low(ttpose_check, ttpose_dtype_pair):
    ttpose_check.pcc_values({"all": 0.9, "box": 0.95}, layers=lambda: ROWS)


def test_broken_table(ttpose_check):
    ttpose_check.pcc_values({"all": 0.5}, layers=lambda: 1 / 0)
"""


def test_failure_message(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(test_low=CASES)
    result = fake_tester.runpytest("--ttpose-dtypes=bfloat8_b")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*PCC below the bar for test_low.py::test_low[[]bfloat8_b-bfloat8_b[]]",
            "*all          0.900000   0.970000          -  FAIL below threshold",
            "*box          0.950000   0.970000          -  FAIL below threshold",
            "baseline file: *fake_fakearch_mesh1x2_ttnn-fake-1.json",
            "*fix the model*",
            "baseline regeneration command: pytest 'test_low.py::test_low[[]bfloat8_b-bfloat8_b[]]' "
            "--ttpose-update-baselines --ttpose-dtypes=bfloat8_b",
            "per-layer PCC (threshold 0.9700; '<<' marks the first layer below it):",
            "  0.Conv * pcc 0.999900  shape (1, 16, 32, 32)  max|err| 0.01",
            "  9.SPPF * pcc 0.910000  shape (1, 256, 2, 2)  max|err| 1.5  << first below threshold",
            "  10.C2PSA * pcc 0.900000  shape (1, 256, 2, 2)  max|err| 1.7",
        ]
    )
    result.stdout.fnmatch_lines(["*per-layer PCC table unavailable: ZeroDivisionError: division by zero"])


def test_table_without_a_low_layer_says_so() -> None:
    lines = format_layer_table([SimpleNamespace(name="head", pcc=0.999)], 0.99)
    assert lines[-1] == "  (no layer below the threshold: the drop is in the final output only)"
    assert "<<" not in lines[1]


def test_nan_layer_counts_as_below() -> None:
    lines = format_layer_table([SimpleNamespace(name="a", pcc=float("nan"))], 0.99)
    assert lines[1].endswith("<< first below threshold")
