"""Recording what the emulator runs, for the device performance model (``pytest_ttpose.devperf``).

Inside ``recording()`` every device op, trace replay, host<->device transfer, host conversion, event and
synchronization is appended to an ``EventLog`` as plain descriptors. Outside it nothing is recorded, except that a
trace capture keeps each traced op's descriptor (a replay inside a recording window must say what it replays).
Building a descriptor reads a few attributes of the specs; it costs microseconds against the op's milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pytest_ttpose.devperf.descriptors import ConvWork, Event, EventLog, Fidelity, MatmulWork, OpDesc, TensorDesc

from .types import BufferType, MathFidelity, TensorMemoryLayout, TensorSpec

_window: EventLog | None = None


@contextmanager
def recording() -> Iterator[EventLog]:
    """Record every event until the block ends. Windows do not nest: the inner one would hide events."""
    global _window
    if _window is not None:
        raise RuntimeError("perf_log.recording: a recording window is already open")
    log = EventLog()
    _window = log
    try:
        yield log
    finally:
        _window = None


def active() -> bool:
    return _window is not None


def note(event: Event) -> None:
    if _window is not None:
        _window.append(event)


def tensor_desc(spec: TensorSpec) -> TensorDesc:
    config = spec.memory_config
    shard = config.shard_spec
    return TensorDesc(
        shape=tuple(int(d) for d in spec.shape),
        dtype=spec.dtype.name,
        layout=spec.layout.name,
        buffer="L1" if config.buffer_type in (BufferType.L1, BufferType.L1_SMALL) else "DRAM",
        memory_layout=config.memory_layout.name,
        cores=shard.num_cores() if shard is not None and config.memory_layout != TensorMemoryLayout.INTERLEAVED else 0,
    )


def op_desc(
    name: str,
    inputs: Sequence[TensorSpec],
    output: TensorSpec,
    fidelity: MathFidelity | None,
    work: ConvWork | MatmulWork | None,
) -> OpDesc:
    fidelity_name: Fidelity | None = None if fidelity is None else fidelity.name  # type: ignore[assignment]
    return OpDesc(
        name=name,
        inputs=tuple(tensor_desc(spec) for spec in inputs),
        output=tensor_desc(output),
        fidelity=fidelity_name,
        work=work,
    )
