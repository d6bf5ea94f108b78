"""Modelled time of a recorded call: a timeline of the host and each command queue, run to its steady state.

The host thread converts tensors, enqueues ops (paying the host cost of an untraced op), launches traces and pushes
PCIe writes; each command queue runs its commands in order, no earlier than they were enqueued and no earlier than
the events it waits for. Events order the queues: a write on CQ1 that waits only for the previous frame's input
copy overlaps the current frame's trace on CQ0, which is what two command queues buy. A synchronize makes the host
wait for every queue. The call's events are replayed three times back to back and the period is the time between the
ends of the second and third replays, so overlap across frames counts exactly as far as the events allow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .constants import value
from .descriptors import (
    DeviceOp,
    Event,
    HostConvert,
    HostRead,
    HostWrite,
    OpDesc,
    RecordEvent,
    Synchronize,
    TraceLaunch,
    WaitEvent,
)
from .model import Hardware, OpCost, price_op

_REPLAYS = 3


@dataclass(frozen=True)
class OpRow:
    """One device program of the call, priced: the per-op report's row."""

    key: str  # "<name>#<occurrence>": stable across runs that run the same ops
    cost: OpCost
    cq: int
    replayed: bool


@dataclass(frozen=True)
class CallModel:
    """The modelled figures of one call of a runner on ``hardware``.

    ``period_ns`` is the steady-state time per call; the other figures are per call and are busy times (they add up
    to more than the period where work overlaps)."""

    hardware: Hardware
    frames: int
    period_ns: float
    kernel_ns: float  # summed device kernel time, like tt-metal's DEVICE KERNEL DURATION sum
    dispatch_ns: float  # device-side dispatch of untraced programs and traced op-to-op gaps
    transfer_ns: float  # PCIe writes and reads
    host_ns: float  # host conversions and the host cost of enqueueing
    rows: tuple[OpRow, ...]

    @property
    def fps(self) -> float:
        return self.frames * 1e9 / self.period_ns

    @property
    def kernel_fps(self) -> float:
        """Samples per second of the device kernels alone (tt-metal's device perf figure)."""
        return self.frames * 1e9 / self.kernel_ns if self.kernel_ns else 0.0

    def breakdown(self) -> dict[str, float]:
        return {
            "period_ms": self.period_ns / 1e6,
            "kernel_ms": self.kernel_ns / 1e6,
            "dispatch_ms": self.dispatch_ns / 1e6,
            "transfer_ms": self.transfer_ns / 1e6,
            "host_ms": self.host_ns / 1e6,
        }


class _Timeline:
    def __init__(self, hardware: Hardware, queues: int) -> None:
        self.hw = hardware
        self.host = 0.0
        self.queue = [0.0] * queues
        self.events: dict[tuple[int, int], float] = {}
        self.kernel = self.dispatch = self.transfer = self.host_busy = 0.0

    def _pcie_ns(self, nbytes: float, devices: int) -> float:
        per_link = nbytes * devices / min(devices, self.hw.pcie_links)
        return value("pcie_latency_ns") + per_link / self.hw.pcie_gbps

    def _host(self, ns: float) -> None:
        self.host += ns
        self.host_busy += ns

    def run(self, event: Event, costs: dict[int, list[OpCost]]) -> None:
        if isinstance(event, DeviceOp):
            ns = sum(cost.modelled_ns for cost in costs[id(event)])
            programs = len(costs[id(event)])
            if event.replayed:
                gap = programs * value("trace_gap_ns")
            else:
                self._host(value("host_op_ns"))
                gap = programs * value("dispatch_untraced_ns")
            start = max(self.host, self.queue[event.cq])
            self.queue[event.cq] = start + gap + ns
            self.kernel += ns
            self.dispatch += gap
        elif isinstance(event, TraceLaunch):
            self._host(value("trace_launch_ns"))
            self.queue[event.cq] = max(self.queue[event.cq], self.host)
        elif isinstance(event, (HostWrite, HostRead)):
            self._host(value("host_command_ns"))
            start = max(self.host, self.queue[event.cq])
            ns = self._pcie_ns(event.nbytes, event.devices)
            self.queue[event.cq] = self.host = start + ns
            self.transfer += ns
        elif isinstance(event, HostConvert):
            key = "host_convert_ns_per_element" if event.what == "to_device_format" else "host_to_torch_ns_per_element"
            self._host(event.elements * value(key))
        elif isinstance(event, RecordEvent):
            self._host(value("host_command_ns"))
            self.queue[event.cq] = max(self.queue[event.cq], self.host)
            self.events[event.key] = self.queue[event.cq]
        elif isinstance(event, WaitEvent):
            self._host(value("host_command_ns"))
            done = self.events.get(event.key, 0.0)  # an event from before the window has completed
            self.queue[event.cq] = max(self.queue[event.cq], self.host, done)
        elif isinstance(event, Synchronize):
            self.host = max(self.host, *self.queue)

    @property
    def end(self) -> float:
        return max(self.host, *self.queue)


def op_rows(events: Sequence[Event], hardware: Hardware) -> list[tuple[DeviceOp, list[OpCost]]]:
    return [(event, price_op(event.op, hardware)) for event in events if isinstance(event, DeviceOp)]


def model_call(events: Sequence[Event], hardware: Hardware, frames: int) -> CallModel:
    """Price the events of one call of a runner, as if it were called back to back."""
    priced = op_rows(events, hardware)
    costs = {id(event): cost for event, cost in priced}
    queues = 1 + max((e.cq for e in events if hasattr(e, "cq")), default=0)
    timeline = _Timeline(hardware, queues)
    ends = []
    for _ in range(_REPLAYS):
        before = (timeline.kernel, timeline.dispatch, timeline.transfer, timeline.host_busy)
        for event in events:
            timeline.run(event, costs)
        ends.append(timeline.end)
    kernel, dispatch, transfer, host = (
        now - then
        for now, then in zip(
            (timeline.kernel, timeline.dispatch, timeline.transfer, timeline.host_busy), before, strict=True
        )
    )
    rows: list[OpRow] = []
    seen: dict[str, int] = {}
    for event, op_costs in priced:
        for cost in op_costs:
            seen[cost.name] = seen.get(cost.name, 0) + 1
            rows.append(OpRow(f"{cost.name}#{seen[cost.name]}", cost, event.cq, event.replayed))
    period = ends[-1] - ends[-2]
    return CallModel(hardware, frames, period, kernel, dispatch, transfer, host, tuple(rows))


def traced_frame(ops: Sequence[OpDesc], *, input_elements: int, devices: int) -> list[Event]:
    """The events of one call of the traced two-queue runner replaying ``ops``, for a backend that ran the model's
    ops but cannot replay a trace (the dry run): the host converts the input (``input_elements`` in all, bfloat16),
    CQ1 writes each chip's share after the previous frame's input copy, CQ0 replays the trace, the host synchronizes."""
    return [
        HostConvert(input_elements, "to_device_format"),
        WaitEvent(1, (0, 0)),
        HostWrite(2.0 * input_elements / devices, 1, devices),
        RecordEvent(1, (0, 1)),
        WaitEvent(0, (0, 1)),
        RecordEvent(0, (0, 0)),
        TraceLaunch(0, len(ops)),
        *(DeviceOp(op, 0, replayed=True, devices=devices) for op in ops),
        Synchronize(),
    ]
