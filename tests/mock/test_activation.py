"""``activate`` switches a process onto one mocked cluster, once, and refuses what ttnn cannot do."""

from __future__ import annotations

import pytest
from scenario_runner import run_scenario

pytestmark = pytest.mark.requires_ttnn  # preparing the runtime needs the installed ttnn wheel


def test_a_second_arch_in_the_same_process_is_refused() -> None:
    result = run_scenario("activation", "second_arch").result
    assert result["same_arch_again_is_same_system"]
    assert "already runs the mocked n150 cluster" in result["error"]
    assert "mock_environ('p150')" in result["error"]


def test_activating_after_an_unmocked_ttnn_import_is_refused() -> None:
    result = run_scenario("activation", "ttnn_first").result
    assert result["ttnn_imported"]
    assert "ttnn was imported before the mock p150 environment was set" in result["error"]
