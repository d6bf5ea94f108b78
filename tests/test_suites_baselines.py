"""The committed emulator baselines cover the default suite matrix and validate against the baseline schema.

The suites are collected (not run) on the emulator backend with the default options, in a subprocess, exactly as
``./dev suites`` collects them; every case that stores values must have its entry in the committed baseline file,
and the file must not keep entries of cases that no longer exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ttpose.harness.backends import BackendRequest, EmulatorBackend
from pytest_ttpose.harness.baselines import BaselineFile, baseline_path
from pytest_ttpose.harness.modelled_perf import load_optables, optable_path
from pytest_ttpose.harness.settings import DEFAULT_BASELINE_DIR, MeshShape

ROOT = Path(__file__).resolve().parents[1]
# Cases that store nothing: the demo's verdict is an OKS bar (not a baseline value), the release check an equality,
# the trace speedup a ratio against the spec's 1.5x.
NO_BASELINE_TESTS = ("test_demo_pose", "test_trace_pose_release", "test_trace_speedup_pose")
PERF_TESTS = ("test_e2e_performant_pose", "test_e2e_performant_pose_dp")


def _test_name(node_id: str) -> str:
    return node_id.split("::")[-1].split("[")[0]


@pytest.fixture(scope="module")
def emulator_baselines() -> BaselineFile:
    backend = EmulatorBackend(BackendRequest(arch=None, mesh_shape=None))
    fingerprint = backend.fingerprint(MeshShape(1, backend.device_count))
    path = baseline_path(ROOT / DEFAULT_BASELINE_DIR, fingerprint)
    assert path.is_file(), f"no committed emulator baseline file {path.relative_to(ROOT)}"
    return BaselineFile.load(path, fingerprint)  # raises BaselineFileError (file, position) on a schema problem


@pytest.fixture(scope="module")
def default_suite_cases() -> list[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + ["--ttpose-backend=emulator"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    cases = [line.strip() for line in completed.stdout.splitlines() if line.startswith("suites/") and "::" in line]
    assert cases, completed.stdout[-3000:]
    return cases


def test_every_default_suite_case_has_a_baseline_entry(
    emulator_baselines: BaselineFile, default_suite_cases: list[str]
) -> None:
    expected = [case for case in default_suite_cases if _test_name(case) not in NO_BASELINE_TESTS]
    missing = [case for case in expected if emulator_baselines.get(case) is None]
    assert not missing, f"{len(missing)} suite case(s) without a baseline entry (run ./dev suites " + (
        "--ttpose-update-baselines):\n  " + "\n  ".join(missing)
    )
    for case in expected:
        entry = emulator_baselines.get(case)
        assert entry is not None and entry.pcc, f"{case}: the baseline entry has no PCC"
        if _test_name(case) in PERF_TESTS:
            assert entry.fps is not None and entry.fps > 0, f"{case}: a performance case needs its FPS baseline"


def test_every_perf_case_has_its_modelled_op_table(
    emulator_baselines: BaselineFile, default_suite_cases: list[str]
) -> None:
    tables = load_optables(optable_path(emulator_baselines.path))
    perf_cases = [case for case in default_suite_cases if _test_name(case) in PERF_TESTS]
    missing = [case for case in perf_cases if not tables.get(case)]
    assert not missing, "perf case(s) without a per-op table beside the baseline file:\n  " + "\n  ".join(missing)


def test_the_baseline_file_has_no_entry_of_a_test_that_no_longer_exists(
    emulator_baselines: BaselineFile, default_suite_cases: list[str]
) -> None:
    # Entries of matrix points beyond the default (a larger matrix run with --ttpose-update-baselines) are fine;
    # entries of a test function that was renamed or removed are dead weight.
    tests = {case.split("[")[0] for case in default_suite_cases}
    stale = sorted(entry for entry in emulator_baselines.entries if entry.split("[")[0] not in tests)
    assert not stale, "baseline entries of tests the suites no longer have:\n  " + "\n  ".join(stale)


def test_every_suite_file_is_in_the_default_run(default_suite_cases: list[str]) -> None:
    files = {case.split("::")[0] for case in default_suite_cases}
    assert files == {f"suites/{path.name}" for path in (ROOT / "suites").glob("test_*.py")}
