"""Trace capture and replay, events and synchronization (ttnn's trace and event functions).

A trace is recorded by buffer address. ``execute_trace`` reruns the recorded ops on whatever the buffers at those
addresses hold now, writes the live buffers at the output addresses, and keeps buffers the trace freed during capture
(its intermediates) in a private scratch space, as a device reuses the same addresses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import torch

from pytest_ttpose.devperf.descriptors import DeviceOp, RecordEvent, Synchronize, TraceLaunch, WaitEvent

from . import perf_log
from .device import MeshDevice, MeshEvent
from .dispatch import BufferRef, TracedOp
from .numerics import pack_to_dtype
from .types import queue_index

_trace_ids = itertools.count(0)


class MeshTraceId(int):
    def __repr__(self) -> str:
        return f"MeshTraceId({int(self)})"


@dataclass
class Trace:
    trace_id: MeshTraceId
    cq_id: int
    ops: list[TracedOp] = field(default_factory=list)
    size_bytes: int = 0
    complete: bool = False
    released: bool = False

    def record(self, op: TracedOp, size_bytes: int) -> None:
        self.ops.append(op)
        self.size_bytes += size_bytes


def _trace_of(device: MeshDevice, trace_id: int, what: str) -> Trace:
    trace = device.traces.get(int(trace_id))
    if not isinstance(trace, Trace):  # none under that id (device.traces holds only this module's traces)
        raise RuntimeError(
            f"TT_FATAL: {what}: trace {trace_id} does not exist on this device (released or never captured)"
        )
    if trace.released:
        raise RuntimeError(f"TT_FATAL: {what}: trace {trace_id} has been released")
    return trace


def begin_trace_capture(mesh_device: MeshDevice, *, cq_id: int | None = None) -> MeshTraceId:
    cq = mesh_device.queues.check_cq(queue_index(cq_id))
    mesh_device._require_open("begin_trace_capture")
    if mesh_device.capturing is not None:
        raise RuntimeError("TT_FATAL: begin_trace_capture: a trace capture is already in progress on this device")
    if mesh_device.trace_region_size <= 0:
        raise RuntimeError(
            "TT_FATAL: begin_trace_capture: the device has no trace region; open it with trace_region_size > 0"
        )
    trace = Trace(MeshTraceId(next(_trace_ids)), cq)
    mesh_device.capturing = trace
    mesh_device.traces[int(trace.trace_id)] = trace
    return trace.trace_id


def end_trace_capture(mesh_device: MeshDevice, trace_id: MeshTraceId, *, cq_id: int | None = None) -> None:
    cq = mesh_device.queues.check_cq(queue_index(cq_id))
    trace = mesh_device.capturing
    if trace is None or int(trace.trace_id) != int(trace_id):
        # ttnn's words (mesh_device.cpp), also for a second end after a failed one: the failed end closed the capture.
        raise RuntimeError(f"TT_FATAL: CQ {cq} is not being used for tracing tid {int(trace_id)}")
    if trace.cq_id != cq:
        raise RuntimeError(f"TT_FATAL: end_trace_capture on CQ{cq} for a trace captured on CQ{trace.cq_id}")
    mesh_device.capturing = None
    available = mesh_device.trace_region_size - mesh_device.memory.trace_bytes_used
    if trace.size_bytes > available:
        # Like ttnn, the capture is closed before the trace buffer is sized, and the trace can still be released.
        raise RuntimeError(
            f"TT_FATAL: Creating trace buffers of size {trace.size_bytes}B on device {mesh_device.id()}, but only "
            f"{available}B is allocated for trace region (trace_region_size={mesh_device.trace_region_size})."
        )
    mesh_device.memory.trace_bytes_used += trace.size_bytes
    trace.complete = True


def _read(device: MeshDevice, ref: BufferRef, scratch: dict, cq: int, name: str) -> list[torch.Tensor]:
    key = (ref.buffer_type, ref.address)
    if key in scratch and tuple(scratch[key][0].shape) == ref.shape:
        return scratch[key]
    buffer = device.live_buffers.get(key)
    if buffer is None:
        raise RuntimeError(
            f"TT_FATAL: execute_trace: traced op {name} reads {ref.buffer_type} address {ref.address}, where no buffer "
            "is allocated any more: keep the trace's input tensors allocated (or re-allocate them at the same address)"
        )
    if tuple(buffer.spec.shape) != ref.shape:
        raise RuntimeError(
            f"TT_FATAL: execute_trace: traced op {name} reads a {list(ref.shape)} tensor at address {ref.address}, "
            f"but the buffer there now holds {list(buffer.spec.shape)}"
        )
    device._note_read(buffer, cq, f"execute_trace ({name})")
    return buffer.data


def execute_trace(
    mesh_device: MeshDevice, trace_id: MeshTraceId, *, cq_id: int | None = None, blocking: bool = True
) -> None:
    cq = mesh_device.queues.check_cq(queue_index(cq_id))
    mesh_device._require_open("execute_trace")
    trace = _trace_of(mesh_device, trace_id, "execute_trace")
    if not trace.complete:
        raise RuntimeError(f"TT_FATAL: execute_trace: trace {trace_id} is still being captured")
    if mesh_device.capturing is not None:
        raise RuntimeError("TT_FATAL: execute_trace during a trace capture is not supported")
    mesh_device.queues.issue(cq)
    if perf_log.active():
        devices = mesh_device.get_num_devices()
        perf_log.note(TraceLaunch(cq, len(trace.ops)))
        for traced in trace.ops:
            if traced.perf is not None:
                perf_log.note(DeviceOp(traced.perf, cq, replayed=True, devices=devices))
    scratch: dict = {}
    for op in trace.ops:
        inputs = [_read(mesh_device, ref, scratch, cq, op.name) for ref in op.inputs]
        results = [op.compute([values[d] for values in inputs]) for d in range(mesh_device.get_num_devices())]
        if not op.exact:
            results = [pack_to_dtype(values, op.dtype, op.fresh, op.pack_precision) for values in results]
        key = (op.output.buffer_type, op.output.address)
        scratch[key] = results
        live = mesh_device.live_buffers.get(key)
        if live is not None and tuple(live.spec.shape) == op.output.shape:
            mesh_device._note_write(live, cq, f"execute_trace ({op.name})")
            live.data = results
    if blocking:
        perf_log.note(Synchronize())
        mesh_device.queues.host_seen[cq] = mesh_device.queues.issued[cq]


def release_trace(mesh_device: MeshDevice, trace_id: MeshTraceId) -> None:
    trace = _trace_of(mesh_device, trace_id, "release_trace")
    if mesh_device.capturing is trace:
        raise RuntimeError("TT_FATAL: release_trace: the trace is still being captured")
    trace.released = True
    if trace.complete:  # a trace whose end failed never took its bytes of the trace region
        mesh_device.memory.trace_bytes_used -= trace.size_bytes
    del mesh_device.traces[int(trace.trace_id)]


def record_event(
    mesh_device: MeshDevice, cq_id: int | None = None, sub_device_ids: list | None = None, device_range: object = None
) -> MeshEvent:
    if sub_device_ids or device_range is not None:
        raise NotImplementedError(
            "record_event: arguments 'sub_device_ids'/'device_range' are not supported by the emulator"
        )
    queues = mesh_device.queues
    cq = queues.check_cq(queue_index(cq_id))
    sequence = queues.issue(cq)
    perf_log.note(RecordEvent(cq, (id(mesh_device), sequence)))
    return MeshEvent(mesh_device, cq, sequence, tuple(queues.waited[cq]))


def wait_for_event(cq_id: int | None, mesh_event: MeshEvent) -> None:
    if not isinstance(mesh_event, MeshEvent):
        raise TypeError(
            f"wait_for_event(cq_id, mesh_event): expected a MeshEvent from record_event, got {mesh_event!r}"
        )
    queues = mesh_event.device.queues
    cq = queues.check_cq(queue_index(cq_id))
    waited = queues.waited[cq]
    for queue, done in enumerate(mesh_event.known_done):
        waited[queue] = max(waited[queue], done)
    waited[mesh_event.cq_id] = max(waited[mesh_event.cq_id], mesh_event.sequence)
    perf_log.note(WaitEvent(cq, (id(mesh_event.device), mesh_event.sequence)))


def event_synchronize(mesh_event: MeshEvent) -> None:
    queues = mesh_event.device.queues
    perf_log.note(Synchronize())
    for queue, done in enumerate(mesh_event.known_done):
        queues.host_seen[queue] = max(queues.host_seen[queue], done)
    queues.host_seen[mesh_event.cq_id] = max(queues.host_seen[mesh_event.cq_id], mesh_event.sequence)


def synchronize_device(device: MeshDevice, cq_id: int | None = None, sub_device_ids: list | None = None) -> None:
    if sub_device_ids:
        raise NotImplementedError("synchronize_device: argument 'sub_device_ids' is not supported by the emulator")
    if device.capturing is not None:
        # ttnn's fatal on hardware (mock-mode ttnn skips its command queues and so does not check it).
        raise RuntimeError(
            f"TT_FATAL: Event Synchronization is not supported during trace capture (trace "
            f"{device.capturing.trace_id} on CQ{device.capturing.cq_id}); end_trace_capture first"
        )
    queues = device.queues
    perf_log.note(Synchronize())
    targets = range(queues.count) if cq_id is None else [queues.check_cq(int(cq_id))]
    for queue in targets:
        queues.host_seen[queue] = queues.issued[queue]
