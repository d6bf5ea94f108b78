"""Dry-run backends (ttnn-mock): PCC is not asserted, the summary says "dry run" and shows the fit report."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

DRY_BACKEND = """

class DryBackend(FakeBackend):
    name = "dry"
    dry_run = True


def pytest_ttpose_add_backends(backends):
    backends["fake"] = FakeBackend
    backends["dry"] = DryBackend
"""

CASES = """
def test_model(ttpose_check, ttpose_device, benchmark):
    assert ttpose_check.pcc("zeros", "zeros") is None
    assert ttpose_check.tensor_pcc("zeros", "zeros") is None
    assert ttpose_check.pcc_values({"all": 0.0}) == {"all": 0.0}, "a dry run asserts no PCC"
    ran = []
    assert ttpose_check.perf(benchmark, lambda: ran.append(1), device=ttpose_device) is None
    assert ran == [1]
    ttpose_check.fit({"summary": "L1 812/1464 KiB per core", "peak_l1_bytes_per_core": 831488})
"""


def test_dry_run_reports_instead_of_asserting(fake_tester: pytest.Pytester) -> None:
    conftest = fake_tester.path / "conftest.py"
    conftest.write_text(conftest.read_text().split("def pytest_ttpose_add_backends")[0] + DRY_BACKEND)
    fake_tester.makepyfile(test_dry=CASES)
    result = fake_tester.runpytest("--ttpose-backend=dry", "--ttpose-report=r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["test_dry.py::test_model *dry run *- *not measured *- *- *passed (L1 812/1464 KiB per core)"]
    )
    assert "warning" not in result.stdout.str()
    (case,) = json.loads((fake_tester.path / "r.json").read_text())["cases"]
    assert case["dry_run"] is True and case["pcc"] is None and case["perf_note"] == "dry run"
    assert case["fit"]["peak_l1_bytes_per_core"] == 831488


def test_mock_backend_header(pytester: pytest.Pytester) -> None:
    if importlib.util.find_spec("ttnn") is None:
        pytest.skip("needs the real ttnn package: pip install 'pytest-ttpose[ttnn]'")
    result = pytester.runpytest_subprocess("--ttpose-backend=ttnn-mock", "--ttpose-arch=2xp150")
    result.stdout.fnmatch_lines(
        [
            "ttpose: backend ttnn-mock, arch 2xp150, device 0 of 2, mesh 1x2, ttnn *",
            "ttpose: baselines *ttnn-mock_2xp150_mesh1x2_ttnn-*.json*",
        ]
    )


MOCK_CASES = """
def test_single(ttpose_device, ttpose_backend):
    assert ttpose_device.get_num_devices() == 1
    assert set(ttpose_backend.memory_snapshot(ttpose_device)) == {"L1", "L1_SMALL", "DRAM", "TRACE"}


def test_mesh_dp(ttpose_mesh_device):
    assert (ttpose_mesh_device.get_num_devices(), tuple(ttpose_mesh_device.shape)) == (2, (1, 2))
"""


def test_mock_backend_opens_device_then_mesh(pytester: pytest.Pytester) -> None:
    if importlib.util.find_spec("ttnn") is None or shutil.which("riscv64-unknown-elf-as") is None:
        pytest.skip(
            "needs the real ttnn and binutils-riscv64-unknown-elf (apt-get install binutils-riscv64-unknown-elf)"
        )
    pytester.makepyfile(test_mock=MOCK_CASES)
    result = pytester.runpytest_subprocess("--ttpose-backend=ttnn-mock", "--ttpose-arch=2xp150")
    result.assert_outcomes(passed=2)
