"""Installing the plugin costs other test suites nothing: importing it loads no torch/ttnn/ultralytics/numpy, only the
plugin's own light modules; ``-p no:ttpose`` disables it cleanly."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

HEAVY = ("torch", "ttnn", "ultralytics", "numpy", "pytest_ttpose.emulator", "pytest_ttpose.tt", "pytest_ttpose.runner")
# The modules the plugin's import may load: the harness's pure session objects and the pass rules. Anything else
# belongs behind a fixture (and adding to this list is a decision a reviewer sees).
LIGHT_MODULES = frozenset(
    {
        "pytest_ttpose",
        "pytest_ttpose.plugin",
        "pytest_ttpose.harness",
        "pytest_ttpose.harness.atomic_files",
        "pytest_ttpose.harness.backends",
        "pytest_ttpose.harness.baselines",
        "pytest_ttpose.harness.collection",
        "pytest_ttpose.harness.configuration",
        "pytest_ttpose.harness.hooks",
        "pytest_ttpose.harness.hookspec",
        "pytest_ttpose.harness.options",
        "pytest_ttpose.harness.report",
        "pytest_ttpose.harness.session",
        "pytest_ttpose.harness.settings",
        "pytest_ttpose.harness.topology",
        "pytest_ttpose.systems",
        "pytest_ttpose.harness.weights",
        "pytest_ttpose.harness.ttnn_import",
        "pytest_ttpose.harness.user_model",
        "pytest_ttpose.pose",
        "pytest_ttpose.pose.acceptance",
    }
)


def test_plugin_import_is_light() -> None:
    """What importing the plugin loads is the measure, not how long it took on a shared machine: nothing heavy, and
    beyond what pytest already loaded only the plugin's own light modules (standard library ones pytest has)."""
    code = (
        "import sys, pytest\n"
        "before = set(sys.modules)\n"
        "import pytest_ttpose.plugin\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(run.stdout.strip())
    heavy = [name for name in loaded if name.startswith(HEAVY)]
    assert not heavy, f"importing the plugin loaded {heavy}"
    foreign = [name for name in loaded if name.split(".")[0] != "pytest_ttpose"]
    assert not foreign, f"importing the plugin loaded modules pytest does not already load: {foreign}"
    assert set(loaded) <= LIGHT_MODULES, f"new plugin modules loaded at import: {sorted(set(loaded) - LIGHT_MODULES)}"


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
