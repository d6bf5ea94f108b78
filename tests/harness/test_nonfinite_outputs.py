"""Never pass what is broken: NaN/inf in a device output fails naming the component and the count, NaN in the
reference is an error naming the weights, and two all-NaN outputs (all-NaN weights) fail, also under an update."""

from __future__ import annotations

import pytest

CASES = """
import math

import torch


def golden():
    return torch.rand((1, 56, 84), generator=torch.Generator().manual_seed(0)) * 100


def test_device_nan(ttpose_check, ttpose_dtype_pair):
    calculated = golden().clone()
    calculated[0, 7, :5] = math.nan  # visibility of keypoint 0, five anchors
    ttpose_check.pcc(golden(), calculated)


def test_device_inf_block(ttpose_check):
    calculated = golden().clone()
    calculated[0, 0, 0] = math.inf
    ttpose_check.tensor_pcc(golden(), calculated)


def test_reference_nan(ttpose_check, ttpose_dtype_pair):
    reference = golden().clone()
    reference[0, 0, 0] = math.nan
    ttpose_check.pcc(reference, golden())


def test_all_nan(ttpose_check, ttpose_dtype_pair):
    ttpose_check.pcc(torch.full((1, 56, 84), math.nan), torch.full((1, 56, 84), math.nan))
"""


def test_nonfinite_outputs_never_pass(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_broken=CASES)
    result = fake_tester.runpytest_subprocess("--ttpose-dtypes=bfloat16", "--ttpose-update-baselines")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        [
            "*the device output is not finite for test_broken.py::test_device_nan*",
            "*device output component 'kpt_vis' holds 5 NaN/inf value(s)*",
        ]
    )
    result.stdout.fnmatch_lines(["*device output component 'all' holds 1 NaN/inf value(s)*"])
    result.stdout.fnmatch_lines(
        [
            "*ReferenceOutputError: the torch reference output is not finite for test_broken.py::test_reference_nan*",
            "*weights: bundled yolo11n-pose: they produce NaN/inf*",
        ]
    )
    assert "test_all_nan" in result.stdout.str()
    assert not baseline_json.path.exists(), "a broken output was stored as a baseline"
