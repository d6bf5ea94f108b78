"""ttpose_check.pcc on (B, 56, A) outputs (per component through pytest_ttpose.pose.metrics) and tensor_pcc on any
tensor pair, end to end with torch in a subprocess."""

from __future__ import annotations

import json

import pytest

CASES = """
import torch


def outputs(noise):
    generator = torch.Generator().manual_seed(0)
    golden = torch.rand((1, 56, 84), generator=generator) * 100
    return golden, golden + noise * torch.randn(golden.shape, generator=generator)


def test_output(ttpose_check, ttpose_dtype_pair):
    golden, calculated = outputs(0.01)
    ttpose_check.pcc(golden, calculated)


def test_block(ttpose_check):
    golden, calculated = outputs(0.01)
    assert ttpose_check.tensor_pcc(golden[:, :4], calculated[:, :4]) > 0.999
"""


def test_pcc_from_tensors(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(test_tensors=CASES)
    args = ["--ttpose-dtypes=bfloat16", "--ttpose-report=r.json"]
    fake_tester.runpytest_subprocess("--ttpose-update-baselines", *args).assert_outcomes(passed=2)
    fake_tester.runpytest_subprocess(*args).assert_outcomes(passed=2)
    cases = {case["node_id"]: case for case in json.loads((fake_tester.path / "r.json").read_text())["cases"]}
    output = cases["test_tensors.py::test_output[bfloat16-bfloat16]"]
    assert set(output["pcc"]) == {"all", "box", "score", "kpt_xy", "kpt_vis"}
    assert output["pcc_baseline"] == pytest.approx(output["pcc"], abs=1e-6)
    assert set(cases["test_tensors.py::test_block"]["pcc"]) == {"all"}
    fake_tester.makepyfile(test_tensors=CASES.replace("outputs(0.01)", "outputs(30.0)"))
    result = fake_tester.runpytest_subprocess(*args)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*PCC below the bar for test_tensors.py::test_output*", "*FAIL below threshold*"])
