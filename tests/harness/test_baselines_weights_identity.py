"""The weights are part of what an entry is compared against: another weights' run neither compares with nor
overwrites the bundled weights' entries, the header names the weights, and --ttpose-mesh-shape=1 keeps the
single-device fingerprint."""

from __future__ import annotations

import hashlib
import json

import pytest

CASES = """
def test_alpha(ttpose_check):
    ttpose_check.pcc_values({"all": 1.0})
"""


def test_other_weights_use_their_own_file(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.write({"test_cases.py::test_alpha": {"pcc": {"all": 0.99999}}})
    before = baseline_json.path.read_bytes()
    (fake_tester.path / "mine.pt").write_bytes(b"other weights")
    digest = hashlib.sha256(b"other weights").hexdigest()
    result = fake_tester.runpytest("--ttpose-weights=mine.pt", "--ttpose-update-baselines")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"ttpose: weights *mine.pt (sha256 {digest[:12]})"])
    assert baseline_json.path.read_bytes() == before, "another weights' update overwrote the bundled entries"
    own = baseline_json.path.with_name(f"fake_fakearch_mesh1x2_ttnn-fake-1_weights-{digest[:12]}.json")
    document = json.loads(own.read_text())
    assert document["fingerprint"]["weights"] == f"sha256:{digest}"
    assert document["entries"] == {"test_cases.py::test_alpha": {"pcc": {"all": 1.0}}}
    # The bundled weights still compare with their own entry (0.99999), not with the other weights' 1.0.
    result = fake_tester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ttpose: weights bundled yolo11n-pose", "*test_alpha  1.00000 all  0.99999*"])


def test_fingerprint_without_weights_is_the_bundled_weights(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.write({"test_cases.py::test_alpha": {"pcc": {"all": 0.99999}}})
    assert "weights" not in json.loads(baseline_json.path.read_text())["fingerprint"]
    fake_tester.runpytest("--ttpose-update-baselines").assert_outcomes(passed=1)
    assert json.loads(baseline_json.path.read_text())["fingerprint"]["weights"] == "bundled yolo11n-pose"


def test_a_file_of_other_weights_is_refused(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.fingerprint = {**baseline_json.fingerprint, "weights": "sha256:0123"}
    baseline_json.write({"test_cases.py::test_alpha": {"pcc": {"all": 1.0}}})
    result = fake_tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*$.fingerprint: file is for*sha256:0123*"])


def test_mesh_shape_one_keeps_the_single_device_fingerprint(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.write({"test_cases.py::test_alpha": {"pcc": {"all": 0.99999}}})
    for mesh in ("1", "1x1"):
        result = fake_tester.runpytest(f"--ttpose-mesh-shape={mesh}")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines([f"*baselines {baseline_json.path} *"])
