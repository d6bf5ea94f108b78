"""Drive the trace/event stand-in like the performant runner does, then try each misuse it must reject.

Usage: python stand_in.py <arch> sequence | no_trace_region
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

from _scenario import DEVICE_PARAMS, report

from pytest_ttpose.mock import MockStandInWarning, MockTraceError, activate
from pytest_ttpose.seam import api_for


def outcome(action: Callable[[], Any]) -> str:
    """'accepted', or the stand-in's message for a rejected call."""
    try:
        action()
    except MockTraceError as error:
        return f"rejected: {error}"
    return "accepted"


def real_outcome(action: Callable[[], Any]) -> str:
    """'accepted', or the real ttnn's message (a RuntimeError) for a rejected call."""
    try:
        action()
    except RuntimeError as error:
        return f"rejected: {error}"
    return "accepted"


def runner_sequence(ttnn: Any, device: Any) -> dict[str, Any]:
    """Compile run, capture, three traced iterations with two command queues (write on CQ1, trace on CQ0)."""
    import torch

    host_input = ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    device_input = ttnn.allocate_tensor_on_device(host_input.spec, device)

    ttnn.copy_host_to_device_tensor(host_input, device_input, cq_id=1)
    write_done = ttnn.record_event(device, 1)
    ttnn.wait_for_event(0, write_done)
    output = ttnn.relu(device_input)  # compile run
    op_done = ttnn.record_event(device, 0)

    ttnn.wait_for_event(1, op_done)
    ttnn.copy_host_to_device_tensor(host_input, device_input, cq_id=1)
    write_done = ttnn.record_event(device, 1)
    ttnn.wait_for_event(0, write_done)
    trace_id = ttnn.begin_trace_capture(device, cq_id=0)
    output = ttnn.relu(device_input)  # runs eagerly, still validated by the real ttnn
    ttnn.end_trace_capture(device, trace_id, cq_id=0)

    shapes = []
    for _ in range(3):
        ttnn.wait_for_event(1, op_done)
        ttnn.copy_host_to_device_tensor(host_input, device_input, cq_id=1)
        write_done = ttnn.record_event(device, 1)
        ttnn.wait_for_event(0, write_done)
        ttnn.execute_trace(device, trace_id, cq_id=0, blocking=False)
        op_done = ttnn.record_event(device, 0)
        shapes.append(list(ttnn.to_torch(output).shape))
    ttnn.synchronize_device(device)
    ttnn.release_trace(device, trace_id)
    return {"output_shapes": shapes, "released": trace_id is not None}


def misuses(ttnn: Any, device: Any) -> dict[str, str]:
    import torch

    on_device = ttnn.from_torch(torch.randn(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    results: dict[str, str] = {}
    results["begin_bad_cq"] = outcome(lambda: ttnn.begin_trace_capture(device, cq_id=2))
    results["record_event_bad_cq"] = outcome(lambda: ttnn.record_event(device, 2))
    event = ttnn.record_event(device, 0)
    results["wait_bad_cq"] = outcome(lambda: ttnn.wait_for_event(2, event))
    results["wait_not_an_event"] = outcome(lambda: ttnn.wait_for_event(0, "event"))

    released = ttnn.begin_trace_capture(device, cq_id=0)
    results["second_capture_same_cq"] = outcome(lambda: ttnn.begin_trace_capture(device, cq_id=0))
    results["read_during_capture"] = outcome(lambda: ttnn.to_torch(on_device))
    results["execute_while_capturing"] = outcome(lambda: ttnn.execute_trace(device, released, cq_id=0))
    results["release_while_capturing"] = outcome(lambda: ttnn.release_trace(device, released))
    results["end_on_other_cq"] = outcome(lambda: ttnn.end_trace_capture(device, released, cq_id=1))
    results["synchronize_during_capture"] = outcome(lambda: ttnn.synchronize_device(device))
    ttnn.end_trace_capture(device, released, cq_id=0)
    results["second_end"] = outcome(lambda: ttnn.end_trace_capture(device, released, cq_id=0))
    # The real ttnn on this mocked device, for the one misuse mock mode lets it see: an (empty) capture ended twice.
    real = ttnn.real
    real_trace = real.begin_trace_capture(device, cq_id=0)
    real.end_trace_capture(device, real_trace, cq_id=0)
    results["real_second_end"] = real_outcome(lambda: real.end_trace_capture(device, real_trace, cq_id=0))
    real.release_trace(device, real_trace)
    results["execute_on_other_cq"] = outcome(lambda: ttnn.execute_trace(device, released, cq_id=1))
    ttnn.release_trace(device, released)
    results["execute_released"] = outcome(lambda: ttnn.execute_trace(device, released, cq_id=0))
    results["execute_unknown_id"] = outcome(lambda: ttnn.execute_trace(device, ttnn.MeshTraceId(999), cq_id=0))
    return results


def main(arch: str, mode: str) -> None:
    system = activate(arch)
    params = dict(DEVICE_PARAMS)
    if mode == "no_trace_region":
        params["trace_region_size"] = 0
    device = system.open(**params)
    ttnn = api_for(device)
    result: dict[str, Any] = {"bound_to_mock_api": ttnn is system.api}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if mode == "sequence":
            result["sequence"] = runner_sequence(ttnn, device)
            result["misuses"] = misuses(ttnn, device)
        else:
            trace_id = ttnn.begin_trace_capture(device, cq_id=0)
            result["end"] = outcome(lambda: ttnn.end_trace_capture(device, trace_id, cq_id=0))
            result["second_end"] = outcome(lambda: ttnn.end_trace_capture(device, trace_id, cq_id=0))
            result["synchronize_after_failed_end"] = outcome(lambda: ttnn.synchronize_device(device))
            result["release"] = outcome(lambda: ttnn.release_trace(device, trace_id))
    result["stand_in_warnings"] = [str(w.message) for w in caught if issubclass(w.category, MockStandInWarning)]
    result["unproven_claims"] = list(ttnn.unproven_claims)
    result["trace_activity"] = ttnn.trace_activity()
    report(result)
    system.close(device)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
