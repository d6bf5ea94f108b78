"""Running an op on an emulated device: queue checks, output allocation, rounding, and trace recording.

Every device op goes through ``launch``. The op supplies ``compute``: a pure function from the input values of one
device to the output values (float32, before rounding). ``launch`` runs it per device, rounds to the output dtype,
writes the output buffer and, during a trace capture, records the op by the *addresses* of its buffers, which is
what a trace bakes in on hardware.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from pytest_ttpose.devperf.descriptors import ConvWork, DeviceOp, MatmulWork, OpDesc

from . import perf_log
from .device import Buffer, MeshDevice
from .numerics import BfpPackPrecision, pack_to_dtype
from .tensor import Tensor
from .types import BufferType, DataType, Layout, MathFidelity, MemoryConfig, make_spec

Compute = Callable[[list[torch.Tensor]], torch.Tensor]

# Bytes of dispatch commands one traced op adds to the trace region: a fixed header plus a launch message per core.
TRACE_BYTES_PER_OP = 2048
TRACE_BYTES_PER_CORE = 64


@dataclass
class BufferRef:
    buffer_type: BufferType
    address: int
    shape: tuple[int, ...]

    @classmethod
    def of(cls, buffer: Buffer) -> BufferRef:
        return cls(buffer.buffer_type, buffer.address, tuple(buffer.spec.shape))


@dataclass
class TracedOp:
    name: str
    compute: Compute
    inputs: list[BufferRef]
    output: BufferRef
    dtype: DataType
    exact: bool
    fresh: bool = False
    perf: OpDesc | None = None  # what the performance model prices when the trace is replayed
    pack_precision: BfpPackPrecision = "approximate"


def device_of(op: str, tensors: Sequence[Tensor]) -> MeshDevice:
    devices = {id(t.device()): t.device() for t in tensors}
    if not tensors or any(not t._on_device for t in tensors):
        raise RuntimeError(
            f"TT_FATAL: {op}: all input tensors must be on device (use ttnn.to_device or from_torch(device=))"
        )
    if len(devices) != 1:
        raise RuntimeError(f"TT_FATAL: {op}: input tensors are on different devices")
    device = next(iter(devices.values()))
    assert device is not None
    device._require_open(op)
    return device


def launch(
    op: str,
    inputs: Sequence[Tensor],
    compute: Compute,
    *,
    dtype: DataType,
    layout: Layout,
    memory_config: MemoryConfig,
    output_tensor: Tensor | None = None,
    cq_id: int = 0,
    exact: bool = False,
    fresh: bool = False,
    fidelity: MathFidelity | None = None,
    work: ConvWork | MatmulWork | None = None,
    padded_shape: Sequence[int] | None = None,
    pack_precision: BfpPackPrecision = "approximate",
) -> Tensor:
    """Run ``compute`` per device and store its result as the packer does (``pack_to_dtype``; ``padded_shape``: the
    output's, when not the natural one of its shape, layout and memory config). ``exact`` says the result already holds
    values ``dtype`` stores unchanged (pure data movement that keeps bfloat8_b blocks intact), so rounding can be
    skipped. ``fresh`` says ``compute`` returns a new float32 tensor that shares memory with nothing, so rounding may
    overwrite it. ``fidelity`` and ``work`` (conv/matmul geometry) are what the performance model needs beyond the
    specs. ``pack_precision`` is how the op's packer converts to a block-float dtype (``numerics.BfpPackPrecision``)."""
    device = device_of(op, inputs)
    device.queues.check_cq(cq_id)
    buffers = [t._buffer for t in inputs]
    for buffer in buffers:
        assert buffer is not None
        buffer.require_allocated(op)
    finish = (lambda values: values) if exact else (lambda values: pack_to_dtype(values, dtype, fresh, pack_precision))
    results = [finish(compute([b.data[d] for b in buffers])) for d in range(device.get_num_devices())]  # type: ignore[union-attr]
    spec = make_spec(results[0].shape, dtype, layout, memory_config, padded_shape=padded_shape)
    device.queues.issue(cq_id)
    for buffer in buffers:
        device._note_read(buffer, cq_id, op)  # type: ignore[arg-type]
    if output_tensor is not None:
        out_buffer = output_tensor._buffer
        if out_buffer is None or out_buffer.device is not device:
            raise RuntimeError(f"TT_FATAL: {op}: output_tensor must be a tensor on the same device")
        if output_tensor.spec != spec:
            raise RuntimeError(
                f"TT_FATAL: {op}: output_tensor spec {output_tensor.spec} does not match the result {spec}"
            )
        result = output_tensor
    else:
        out_buffer = device._allocate(spec)
        result = Tensor._create(spec, buffer=out_buffer)
    device._note_write(out_buffer, cq_id, op)
    out_buffer.data = results
    device._remember_program((op, spec, tuple(b.spec for b in buffers)))  # type: ignore[union-attr]
    described = None
    if device.capturing is not None or perf_log.active():
        described = perf_log.op_desc(op, [b.spec for b in buffers], spec, fidelity, work)  # type: ignore[union-attr]
        perf_log.note(DeviceOp(described, cq_id, replayed=False, devices=device.get_num_devices()))
    if device.capturing is not None:
        if device.capturing.cq_id != cq_id:
            raise RuntimeError(f"TT_FATAL: {op} issued on CQ{cq_id} while CQ{device.capturing.cq_id} captures a trace")
        cores = device._arch_spec.compute_grid[0] * device._arch_spec.compute_grid[1]
        refs = [BufferRef.of(b) for b in buffers]  # type: ignore[arg-type]
        device.capturing.record(
            TracedOp(op, compute, refs, BufferRef.of(out_buffer), dtype, exact, fresh, described, pack_precision),
            TRACE_BYTES_PER_OP + TRACE_BYTES_PER_CORE * cores,
        )
    return result
