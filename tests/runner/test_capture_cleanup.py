"""A capture that fails is cleaned up in the order ttnn requires: end the capture, synchronize, release.

ttnn refuses ``synchronize_device`` while a capture is open ("Event Synchronization is not supported during trace
capture"), and an ``end_trace_capture`` that fails while sizing the trace buffer has already closed the capture, so
ending it again raises "CQ 0 is not being used for tracing tid N". Either mistake used to escape the runner's
constructor in place of the real error and leave the trace unreleased.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_ttpose.emulator import dispatch
from pytest_ttpose.emulator.machine import memory_snapshot
from pytest_ttpose.runner import YOLOv11PosePerformantRunner


class FailsOnThirdForward:
    """A TT model whose third forward pass (the one inside the capture) raises; everything else is the model's."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def __call__(self, x: Any) -> Any:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("an op inside the capture failed")
        return self.model(x)


@pytest.mark.parametrize("arch", ["wormhole_b0", "blackhole"])
def test_a_failure_inside_the_capture_surfaces_and_everything_is_released(
    open_emulated: Any, tiny_kwargs: dict, arch: str
) -> None:
    device = open_emulated(arch=arch)
    before = memory_snapshot(device)
    build = tiny_kwargs["model_builder"]
    kwargs = dict(tiny_kwargs, model_builder=lambda *a, **k: FailsOnThirdForward(build(*a, **k)))
    with pytest.raises(RuntimeError, match="an op inside the capture failed"):
        YOLOv11PosePerformantRunner(device, **kwargs)
    assert device.capturing is None
    assert not device.traces
    assert memory_snapshot(device) == before


def test_a_trace_too_large_for_its_region_surfaces_ttnns_error_not_a_second_end(
    device: Any, tiny_kwargs: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = memory_snapshot(device)
    # Every traced op now takes more than the whole trace region, as a model with too many programs would.
    monkeypatch.setattr(dispatch, "TRACE_BYTES_PER_OP", device.trace_region_size + 1)
    with pytest.raises(RuntimeError, match="Creating trace buffers of size") as error:
        YOLOv11PosePerformantRunner(device, **tiny_kwargs)
    assert "not being used for tracing" not in str(error.value)
    assert device.capturing is None
    assert not device.traces
    assert memory_snapshot(device) == before


def test_the_emulator_refuses_to_synchronize_during_a_capture(device: Any, ttnn: Any) -> None:
    trace_id = ttnn.begin_trace_capture(device, cq_id=0)
    with pytest.raises(RuntimeError, match="Event Synchronization is not supported during trace capture"):
        ttnn.synchronize_device(device)
    ttnn.end_trace_capture(device, trace_id, cq_id=0)
    with pytest.raises(RuntimeError, match="CQ 0 is not being used for tracing tid"):
        ttnn.end_trace_capture(device, trace_id, cq_id=0)
    ttnn.synchronize_device(device)
    ttnn.release_trace(device, trace_id)
