"""Installing the plugin costs other test suites nothing: importing it loads no torch/ttnn/ultralytics and adds at
most 50 ms (measured with ``python -X importtime``); ``-p no:ttpose`` disables it cleanly."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "ttnn", "ultralytics", "numpy", "pytest_ttpose.emulator", "pytest_ttpose.tt", "pytest_ttpose.runner")
BUDGET_US = 50_000


def test_plugin_import_is_light_and_fast() -> None:
    code = (
        "import sys, pytest\n"
        "import pytest_ttpose.plugin\n"
        f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", f"importing the plugin loaded {run.stdout.strip()}"
    # importtime lines: "import time: self [us] | cumulative | imported package"; the plugin's cumulative time
    # covers every module it pulled in that pytest had not already loaded.
    cumulative = [
        int(line.split("|")[1])
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and line.split("|")[2].strip() == "pytest_ttpose.plugin"
    ]
    assert len(cumulative) == 1
    print(f"pytest_ttpose.plugin import: {cumulative[0] / 1000:.1f} ms (budget {BUDGET_US / 1000:.0f} ms)")
    assert cumulative[0] <= BUDGET_US


def test_configure_and_collect_load_nothing_heavy(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(
        f"""
import sys

def test_point(ttpose_point, ttpose_check):
    assert sorted(name for name in {HEAVY!r} if name in sys.modules) == []
"""
    )
    fake_tester.runpytest_subprocess("--ttpose-batch-sizes=1", "--ttpose-dtypes=bfloat16", "--co").assert_outcomes()
    fake_tester.runpytest_subprocess("-k", "320", "--ttpose-batch-sizes=1", "--ttpose-dtypes=bfloat16").assert_outcomes(
        passed=1, deselected=1
    )


def test_disabled_plugin_leaves_no_trace(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n\ndef test_uses_fixture(ttpose_device):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:ttpose")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'ttpose_device' not found*"])
    assert "ttpose:" not in result.stdout.str()
    assert pytester.runpytest_subprocess("-p", "no:ttpose", "--ttpose-device=0").ret == pytest.ExitCode.USAGE_ERROR
