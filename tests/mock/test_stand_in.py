"""The trace/event stand-in accepts the performant runner's sequence and rejects each misuse, loudly."""

from __future__ import annotations

import pytest
from scenario_runner import run_scenario

from pytest_ttpose.mock import UNPROVEN_CLAIMS

pytestmark = pytest.mark.requires_ttnn

EXPECTED_REJECTIONS = {
    "begin_bad_cq": "cq_id 2 is out of range",
    "record_event_bad_cq": "cq_id 2 is out of range",
    "wait_bad_cq": "cq_id 2 is out of range",
    "wait_not_an_event": "expected a ttnn.MeshEvent",
    "second_capture_same_cq": "CQ 0 is already being used for tracing",
    "read_during_capture": "Reads are not supported during trace capture.",
    "execute_while_capturing": "is capturing, not captured",
    "release_while_capturing": "end_trace_capture first",
    "end_on_other_cq": "CQ 1 is not being used for tracing",
    "synchronize_during_capture": "Event Synchronization is not supported during trace capture",
    "second_end": "CQ 0 is not being used for tracing tid",
    "execute_on_other_cq": "captured on CQ 0, executed on CQ 1",
    "execute_released": "is released, not captured",
    "execute_unknown_id": "trace id 999 was never captured",
}


@pytest.fixture(scope="module")
def sequence_run() -> dict:
    return run_scenario("stand_in", "n150", "sequence").result


def test_the_runner_sequence_is_accepted(sequence_run: dict) -> None:
    assert sequence_run["bound_to_mock_api"]
    assert sequence_run["sequence"]["output_shapes"] == [[1, 1, 32, 64]] * 3
    activity = sequence_run["trace_activity"]
    assert activity["trace_executions"] == 3
    assert activity["traces_captured"] == activity["traces_released"] == 2  # the runner's and the misuse test's
    assert activity["events_recorded"] >= activity["event_waits"] >= 8  # 4 handshakes of 2 waits each


@pytest.mark.parametrize("misuse", sorted(EXPECTED_REJECTIONS))
def test_each_misuse_is_rejected(sequence_run: dict, misuse: str) -> None:
    outcome = sequence_run["misuses"][misuse]
    assert outcome.startswith("rejected:"), f"{misuse} was accepted"
    assert EXPECTED_REJECTIONS[misuse] in outcome


def test_the_stand_in_warns_once_and_lists_what_it_does_not_prove(sequence_run: dict) -> None:
    warnings = sequence_run["stand_in_warnings"]
    assert len(warnings) == 1
    assert all(claim in warnings[0] for claim in UNPROVEN_CLAIMS)
    assert sequence_run["unproven_claims"] == list(UNPROVEN_CLAIMS)


def test_a_second_end_is_rejected_with_the_real_ttnn_words(sequence_run: dict) -> None:
    real = sequence_run["misuses"]["real_second_end"]
    assert real.startswith("rejected:") and "CQ 0 is not being used for tracing tid" in real
    assert "CQ 0 is not being used for tracing tid" in sequence_run["misuses"]["second_end"]


def test_a_failed_end_closes_the_capture_as_ttnn_does() -> None:
    """Without a trace region the end fails where ttnn sizes the trace buffer, after the capture is closed: a second
    end is ttnn's "not being used for tracing", and synchronize and release then work (the cleanup order)."""
    result = run_scenario("stand_in", "n150", "no_trace_region").result
    assert result["end"].startswith("rejected:")
    assert "only 0B is allocated for trace region" in result["end"]
    assert "trace_region_size=0" in result["end"]
    assert "CQ 0 is not being used for tracing tid" in result["second_end"]
    assert result["synchronize_after_failed_end"] == "accepted"
    assert result["release"] == "accepted"
