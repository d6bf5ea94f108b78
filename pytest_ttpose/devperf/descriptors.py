"""What ran, as plain data: one descriptor per device op and one event per host<->device transfer or host step.

A backend (the emulator, or a graph capture of real ttnn) fills these in from the ops it runs; the model prices them.
No ttnn, no torch, no pytest here: everything is strings, ints and tuples, so descriptors are cheap to build, compare,
hash and serialise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BufferKind = Literal["L1", "DRAM"]
Fidelity = Literal["LoFi", "HiFi2", "HiFi3", "HiFi4"]

# Bytes per element as stored: bfloat8_b and bfloat4_b are block-float (a shared exponent per 16 values, tt-metal's
# tile format: 1088 B per bfloat8_b tile of 1024 values, 576 B per bfloat4_b tile).
DTYPE_BYTES: dict[str, float] = {
    "BFLOAT16": 2.0,
    "FLOAT32": 4.0,
    "UINT32": 4.0,
    "INT32": 4.0,
    "UINT16": 2.0,
    "UINT8": 1.0,
    "BFLOAT8_B": 1088 / 1024,
    "BFLOAT4_B": 576 / 1024,
}


@dataclass(frozen=True)
class TensorDesc:
    """One device tensor as the op sees it: logical shape, dtype and layout names, and where it lives.

    ``cores`` is the number of cores its shards are spread over (0 when interleaved)."""

    shape: tuple[int, ...]
    dtype: str
    layout: str
    buffer: BufferKind
    memory_layout: str
    cores: int = 0

    @property
    def volume(self) -> int:
        volume = 1
        for dim in self.shape:
            volume *= int(dim)
        return volume

    @property
    def nbytes(self) -> float:
        return self.volume * DTYPE_BYTES.get(self.dtype, 2.0)

    def describe(self) -> str:
        where = self.buffer if self.memory_layout == "INTERLEAVED" else f"{self.buffer} {self.memory_layout}"
        return f"{'x'.join(str(d) for d in self.shape)} {self.dtype} {where}"


@dataclass(frozen=True)
class ConvWork:
    """The geometry of a conv2d: what its MACs are made of, and whether a halo op gathers its input windows."""

    batch: int
    in_channels: int
    out_channels: int
    kernel: tuple[int, int]
    out_hw: tuple[int, int]
    groups: int
    halo: bool

    @property
    def macs(self) -> int:
        """The arithmetic of the conv: Cin/groups * Kh * Kw * Hout * Wout * Cout * N."""
        return (
            (self.in_channels // self.groups)
            * self.kernel[0]
            * self.kernel[1]
            * self.out_hw[0]
            * self.out_hw[1]
            * self.out_channels
            * self.batch
        )

    @property
    def macs_dense(self) -> int:
        """tt-metal's own count, which does not divide by groups (it overestimates depthwise convs)."""
        return self.macs * self.groups

    def macs_device(self, tile_width: int) -> int:
        """MACs the matmul engine spends: a grouped conv's weights are block-diagonal, and an output tile column
        reads the input tiles of its own groups only, so each group's input channels count padded to a tile."""
        per_group = self.in_channels // self.groups
        if self.groups == 1:
            return self.macs
        padded = min(-(-per_group // tile_width) * tile_width, self.in_channels)
        return self.macs // per_group * padded


@dataclass(frozen=True)
class MatmulWork:
    m: int
    k: int
    n: int

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n


@dataclass(frozen=True)
class OpDesc:
    """One device op: its name (the ttnn function), operands, output, the cores it runs on (0 = the whole grid),
    its math fidelity when it has one, and op-specific work (conv/matmul geometry)."""

    name: str
    inputs: tuple[TensorDesc, ...]
    output: TensorDesc
    cores: int = 0
    fidelity: Fidelity | None = None
    work: ConvWork | MatmulWork | None = None


@dataclass(frozen=True)
class DeviceOp:
    """An op run on a queue: dispatched from the host one by one, or replayed from a captured trace."""

    op: OpDesc
    cq: int
    replayed: bool
    devices: int = 1


@dataclass(frozen=True)
class TraceLaunch:
    """``execute_trace``: one command that replays ``ops`` device ops."""

    cq: int
    ops: int


@dataclass(frozen=True)
class HostWrite:
    """Host -> device over PCIe, per device (a mesh writes its shards in parallel over each chip's own link)."""

    nbytes: float
    cq: int
    devices: int = 1


@dataclass(frozen=True)
class HostRead:
    """Device -> host over PCIe, per device."""

    nbytes: float
    cq: int
    devices: int = 1


@dataclass(frozen=True)
class HostConvert:
    """A host-side tensor conversion (from_torch / to_torch): ``elements`` values converted on the CPU."""

    elements: int
    what: Literal["to_device_format", "to_torch"]


@dataclass(frozen=True)
class RecordEvent:
    """``record_event`` on queue ``cq``; ``key`` identifies it for the waits that name it."""

    cq: int
    key: tuple[int, int]


@dataclass(frozen=True)
class WaitEvent:
    """``wait_for_event``: queue ``cq`` waits until the event ``key`` completes."""

    cq: int
    key: tuple[int, int]


@dataclass(frozen=True)
class Synchronize:
    """The host blocks until the device has finished everything issued on the queues."""


Event = DeviceOp | TraceLaunch | HostWrite | HostRead | HostConvert | RecordEvent | WaitEvent | Synchronize


@dataclass
class EventLog:
    """The events of one timed call, in order."""

    events: list[Event] = field(default_factory=list)

    def append(self, event: Event) -> None:
        self.events.append(event)
