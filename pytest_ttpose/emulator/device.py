"""Emulated devices and meshes: memory, buffers, command queues and their ordering rules.

A single device is a 1x1 mesh, as in ttnn 0.81. Work runs synchronously, so a host read always sees finished
values, but every queue keeps a sequence number and every buffer remembers which queue last wrote and read it: work
on one queue that touches a buffer another queue used must be ordered by ``wait_for_event`` first, and a host read
of a buffer another queue wrote must follow an event or a synchronize that covers that write. A violation raises
``QueueOrderError``: on a device it would be a race.
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from .memory import ArchSpec, DeviceMemory, allocation_size, validate_memory_config
from .types import Arch, BufferType, CoreCoord, CoreGrid, TensorSpec


class CapturingTrace(Protocol):
    """What the device layer needs of the trace being captured on it. The trace itself (``trace.Trace``) lives in
    the layer above, which records into it; the device only holds it, so ops know they are being captured."""

    cq_id: int
    released: bool
    complete: bool
    size_bytes: int

    @property
    def trace_id(self) -> Any: ...

    def record(self, op: Any, size_bytes: int) -> None: ...


class QueueOrderError(RuntimeError):
    """Two command queues touch the same buffer without an event ordering them."""


class MeshShape(tuple):
    def __new__(cls, *dims: int | Sequence[int]) -> MeshShape:
        if len(dims) == 1 and not isinstance(dims[0], int):
            dims = tuple(dims[0])
        if not 1 <= len(dims) <= 3:
            raise RuntimeError(f"MeshShape takes 1 to 3 dimensions, got {dims}")
        return super().__new__(cls, (int(d) for d in dims))  # type: ignore[arg-type]

    def mesh_size(self) -> int:
        size = 1
        for d in self:
            size *= d
        return size

    def dims(self) -> int:
        return len(self)

    def __repr__(self) -> str:
        return f"MeshShape([{', '.join(str(d) for d in self)}])"


@dataclass
class QueueState:
    """Sequence numbers per command queue and what each queue (and the host) knows has finished."""

    count: int
    issued: list[int] = field(default_factory=list)
    waited: list[list[int]] = field(default_factory=list)  # waited[q][p]: work of p known done before q's next work
    host_seen: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.issued = [0] * self.count
        self.waited = [[0] * self.count for _ in range(self.count)]
        self.host_seen = [0] * self.count

    def check_cq(self, cq_id: int) -> int:
        if not 0 <= cq_id < self.count:
            raise RuntimeError(
                f"TT_FATAL: id < mesh_command_queues_.size(): cq_id {cq_id} is out of range; the device was opened "
                f"with num_command_queues={self.count}"
            )
        return cq_id

    def issue(self, cq_id: int) -> int:
        self.issued[cq_id] += 1
        self.waited[cq_id][cq_id] = self.issued[cq_id]
        return self.issued[cq_id]


@dataclass
class MeshEvent:
    device: MeshDevice
    cq_id: int
    sequence: int
    known_done: tuple[int, ...]  # what the recording queue itself knew had finished on every queue

    def __repr__(self) -> str:
        return f"MeshEvent(id={self.sequence}, mesh_cq_id={self.cq_id})"


_buffer_ids = itertools.count(1)


class Buffer:
    """A device allocation (the same address on every device of a mesh) and the values each device holds.

    As in ttnn, the allocation is freed by ``ttnn.deallocate`` or, failing that, when the last tensor that holds it is
    garbage-collected: model code that drops its intermediates must not leak device memory on the emulator either.
    """

    def __init__(self, device: MeshDevice, spec: TensorSpec) -> None:
        self.device = device
        self.spec = spec
        self.buffer_type = spec.memory_config.buffer_type
        self.id = next(_buffer_ids)
        num_banks = device._num_banks(self.buffer_type)
        self.size_per_bank, self.size = allocation_size(spec, num_banks)
        self.address = device.memory.allocate(self.buffer_type, self.size_per_bank, self.size)
        self.data: list[torch.Tensor] = []
        self.allocated = True
        self.last_write: tuple[int, int] | None = None
        self.last_reads: dict[int, int] = {}
        device.live_buffers[(self.buffer_type, self.address)] = self

    def free(self) -> None:
        if not self.allocated:
            return
        self.device.memory.free(self.buffer_type, self.address)
        if self.device.live_buffers.get((self.buffer_type, self.address)) is self:
            del self.device.live_buffers[(self.buffer_type, self.address)]
        self.allocated = False
        self.data = []

    def __del__(self) -> None:
        # Called by the garbage collector once no tensor holds this buffer; a closed device has freed everything, and
        # a buffer whose allocation failed (out of memory) never got as far as ``allocated``.
        if getattr(self, "allocated", False) and not self.device.closed:
            self.free()

    def require_allocated(self, what: str) -> None:
        if not self.allocated:
            raise RuntimeError(f"TT_FATAL: {what}: the tensor's device buffer has been deallocated")


class MeshDevice:
    """An emulated ttnn MeshDevice (a single device is a 1x1 mesh)."""

    __ttnn_api__ = "pytest_ttpose.emulator"

    def __init__(
        self,
        arch: ArchSpec,
        mesh_shape: MeshShape,
        device_ids: list[int],
        l1_small_size: int,
        trace_region_size: int,
        num_command_queues: int,
    ) -> None:
        if num_command_queues not in (1, 2):
            raise RuntimeError(f"TT_FATAL: num_command_queues must be 1 or 2, got {num_command_queues}")
        self._arch = arch
        self._shape = mesh_shape
        self._device_ids = device_ids
        self.l1_small_size = l1_small_size
        self.trace_region_size = trace_region_size
        self.num_command_queues = num_command_queues
        self.memory = DeviceMemory(arch, l1_small_size, trace_region_size)
        self.queues = QueueState(num_command_queues)
        # Weak, so that a buffer no tensor holds any more can be collected (and freed) like in ttnn.
        self.live_buffers: weakref.WeakValueDictionary[tuple[BufferType, int], Buffer] = weakref.WeakValueDictionary()
        self.traces: dict[int, CapturingTrace] = {}
        self.capturing: CapturingTrace | None = None
        self.program_cache_enabled = True
        self.program_cache: set[Any] = set()
        self.program_ids: dict[Any, int] = {}
        self._program_counter = itertools.count()
        self.closed = False

    # ttnn's MeshDevice methods -------------------------------------------------------------------------------
    def arch(self) -> Arch:
        return Arch.WORMHOLE_B0 if self._arch.name == "wormhole_b0" else Arch.BLACKHOLE

    def compute_with_storage_grid_size(self) -> CoreCoord:
        return CoreCoord(*self._arch.compute_grid)

    def dram_grid_size(self) -> CoreCoord:
        return CoreCoord(self._arch.dram_banks, 1)

    @property
    def core_grid(self) -> CoreGrid:
        x, y = self._arch.compute_grid
        return CoreGrid(x=x, y=y)

    @property
    def shape(self) -> MeshShape:
        return self._shape

    def get_num_devices(self) -> int:
        return len(self._device_ids)

    def get_device_ids(self) -> list[int]:
        return list(self._device_ids)

    def id(self) -> int:
        return self._device_ids[0]

    def get_device_id(self) -> int:
        return self._device_ids[0]

    def enable_program_cache(self) -> None:
        self.program_cache_enabled = True

    def disable_and_clear_program_cache(self) -> None:
        self.program_cache_enabled = False
        self.clear_program_cache()

    def clear_program_cache(self) -> None:
        self.program_cache.clear()
        self.program_ids.clear()

    def num_program_cache_entries(self) -> int:
        return len(self.program_cache)

    def __repr__(self) -> str:
        rows, cols = (tuple(self._shape) + (1,))[:2]
        return f"MeshDevice({rows}x{cols} grid, {self.get_num_devices()} devices)"

    # emulator internals ---------------------------------------------------------------------------------------
    @property
    def _arch_spec(self) -> ArchSpec:
        return self._arch

    def _num_banks(self, buffer_type: BufferType) -> int:
        if buffer_type == BufferType.DRAM:
            return self._arch.dram_banks
        return self._arch.compute_grid[0] * self._arch.compute_grid[1]

    def _require_open(self, what: str) -> None:
        if self.closed:
            raise RuntimeError(f"TT_FATAL: {what}: the device has been closed")

    def _allocate(self, spec: TensorSpec) -> Buffer:
        self._require_open("allocate")
        validate_memory_config(spec, self._arch.compute_grid, (self._arch.dram_banks, 1))
        if self.capturing is None and any(not t.released for t in self.traces.values()):
            warnings.warn(
                "Allocating device buffers is unsafe due to the existence of an active trace. These buffers may be "
                "corrupted once a trace is executed.",
                RuntimeWarning,
                stacklevel=4,
            )
        return Buffer(self, spec)

    def _program_id(self, key: Any) -> int:
        """The id of the program ``key`` names, numbered as tt-metal numbers the programs it creates: the same while
        the program cache keeps it, a new one once the cache was cleared."""
        if key not in self.program_ids:
            self.program_ids[key] = next(self._program_counter)
        return self.program_ids[key]

    def _remember_program(self, key: Any) -> None:
        if self.program_cache_enabled:
            self.program_cache.add(key)

    # queue ordering ------------------------------------------------------------------------------------------
    def _note_read(self, buffer: Buffer, cq_id: int, what: str) -> None:
        buffer.require_allocated(what)
        if buffer.last_write is not None:
            writer, sequence = buffer.last_write
            if writer != cq_id and self.queues.waited[cq_id][writer] < sequence:
                raise QueueOrderError(
                    f"{what} on command queue {cq_id} reads a buffer (address {buffer.address}) that command queue "
                    f"{writer} writes without an event between them: record_event on CQ{writer} after the write and "
                    f"wait_for_event({cq_id}, event) before the read"
                )
        buffer.last_reads[cq_id] = self.queues.issued[cq_id]

    def _note_write(self, buffer: Buffer, cq_id: int, what: str) -> None:
        buffer.require_allocated(what)
        others = dict(buffer.last_reads)
        if buffer.last_write is not None:
            others[buffer.last_write[0]] = max(others.get(buffer.last_write[0], 0), buffer.last_write[1])
        for queue, sequence in others.items():
            if queue != cq_id and self.queues.waited[cq_id][queue] < sequence:
                raise QueueOrderError(
                    f"{what} on command queue {cq_id} overwrites a buffer (address {buffer.address}) that command "
                    f"queue {queue} still uses without an event between them: record_event on CQ{queue} and "
                    f"wait_for_event({cq_id}, event) first"
                )
        buffer.last_write = (cq_id, self.queues.issued[cq_id])
        buffer.last_reads = {}

    def _note_host_read(self, buffer: Buffer, cq_id: int, what: str) -> None:
        buffer.require_allocated(what)
        if buffer.last_write is not None:
            writer, sequence = buffer.last_write
            known = max(self.queues.host_seen[writer], self.queues.waited[cq_id][writer])
            if writer != cq_id and known < sequence:
                raise QueueOrderError(
                    f"{what} through command queue {cq_id} reads a buffer command queue {writer} is writing: "
                    f"synchronize (event_synchronize, synchronize_device) or wait_for_event({cq_id}, ...) first"
                )
        # A blocking read on a queue means everything issued on that queue before it has finished.
        self.queues.host_seen[cq_id] = self.queues.issued[cq_id]
        for queue in range(self.queues.count):
            self.queues.host_seen[queue] = max(self.queues.host_seen[queue], self.queues.waited[cq_id][queue])
