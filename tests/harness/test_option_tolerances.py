"""--ttpose-pcc-tolerance and --ttpose-perf-tolerance: the allowed drop below the baseline; bad values."""

from __future__ import annotations

import pytest

PCC_TEST = """
def test_alpha(ttpose_check):
    ttpose_check.pcc_values({"all": 0.995})
"""
PERF_TEST = """
import time

def test_speed(ttpose_check, benchmark):
    ttpose_check.perf(benchmark, lambda: time.sleep(0.01), frames=1, rounds=2, warmup_rounds=0)
"""
NODE = "test_{name}.py::test_alpha"


def test_pcc_within_tolerance_passes_and_beyond_fails(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_pcc=PCC_TEST)
    baseline_json.write({"test_pcc.py::test_alpha": {"pcc": {"all": 0.999}}})
    fake_tester.runpytest("--ttpose-pcc-tolerance=0.005").assert_outcomes(passed=1)
    result = fake_tester.runpytest("--ttpose-pcc-tolerance=0.001")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*PCC below the bar for test_pcc.py::test_alpha*",
            "*all*0.995000*0.990000*0.999000*FAIL below baseline - 0.001 = 0.998000*",
            "*to accept the measured values as the new baseline: pytest test_pcc.py::test_alpha "
            "--ttpose-update-baselines --ttpose-pcc-tolerance=0.001*",
        ]
    )


def test_pcc_tolerance_from_ini(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makeini("[pytest]\nttpose_backend = fake\nttpose_pcc_tolerance = 0.01\n")
    fake_tester.makepyfile(test_pcc=PCC_TEST)
    baseline_json.write({"test_pcc.py::test_alpha": {"pcc": {"all": 0.999}}})
    fake_tester.runpytest().assert_outcomes(passed=1)


def test_perf_tolerance(fake_tester: pytest.Pytester, baseline_json) -> None:
    # ~100 FPS measured (10 ms sleeps) against a 1000 FPS baseline.
    fake_tester.makepyfile(test_perf=PERF_TEST)
    baseline_json.write({"test_perf.py::test_speed": {"fps": 1000.0}})
    result = fake_tester.runpytest("--ttpose-perf-tolerance=0.5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FPS below the bar*", "*baseline 1000.000 FPS x (1 - 0.5) = floor 500.000 FPS*"])
    fake_tester.runpytest("--ttpose-perf-tolerance=0.99").assert_outcomes(passed=1)


@pytest.mark.parametrize("flag", ["--ttpose-pcc-tolerance", "--ttpose-perf-tolerance"])
@pytest.mark.parametrize("bad", ["1.5", "-0.1", "lots"])
def test_bad_tolerance_is_a_usage_error(fake_tester: pytest.Pytester, flag: str, bad: str) -> None:
    result = fake_tester.runpytest(f"{flag}={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{flag}={bad}: *Accepted: a fraction in [[]0, 1)*"])


def test_emulator_default_perf_tolerance_is_tight(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_t(ttpose_settings):\n    print('TOL', ttpose_settings.perf_tolerance)\n")
    pytester.runpytest("-s", "--ttpose-backend=emulator").stdout.fnmatch_lines(["*TOL 0.01*"])
