"""Tensors on the host and on emulated devices, and the host <-> device transfers.

Values are kept as torch tensors holding exactly what the TT format stores (float32 for float formats, int64 for
integer formats), one per device of a mesh, in the tensor's logical shape: TILE layout pads to 32x32 only in the
sizes the device allocates and in ``padded_shape``, so the padding can never leak into ``to_torch``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from pytest_ttpose.devperf.descriptors import HostConvert, HostRead, HostWrite

from . import perf_log
from .device import Buffer, MeshDevice
from .numerics import round_bfloat8_b, round_bfloat16
from .perf_log import tensor_desc
from .types import (
    DRAM_MEMORY_CONFIG,
    DataType,
    Layout,
    MemoryConfig,
    Shape,
    TensorSpec,
    Tile,
    make_spec,
    queue_index,
    reject_unsupported,
    spec_padded_shape,
)

if TYPE_CHECKING:
    from .mesh import MeshComposer, MeshMapper


BinaryOp = Callable[[Any, Any], "Tensor"]


@dataclass(frozen=True)
class TensorMethodOps:
    """The ops that ttnn also offers as Tensor methods and operators (``t.reshape``, ``t.to(layout)``, ``t[...]``,
    ``a + b``, ``a @ b``, comparisons). They live in ``ops/``, a layer above this one, so the package binds them here
    at import (``bind_method_ops``) instead of this module importing upwards; ttnn binds them onto its Tensor too."""

    to_layout: Callable[[Tensor, Layout], Tensor]
    reshape: Callable[[Tensor, Sequence[int]], Tensor]
    getitem: Callable[[Tensor, object], Tensor]
    eq: BinaryOp
    ne: BinaryOp
    gt: BinaryOp
    ge: BinaryOp
    lt: BinaryOp
    le: BinaryOp
    add: BinaryOp
    subtract: BinaryOp
    multiply: BinaryOp
    divide: BinaryOp
    matmul: BinaryOp


_bound_method_ops: list[TensorMethodOps] = []


def bind_method_ops(ops: TensorMethodOps) -> None:
    """Give Tensor's op methods their implementation (called once by ``pytest_ttpose.emulator``)."""
    _bound_method_ops[:] = [ops]


def _method_ops() -> TensorMethodOps:
    if not _bound_method_ops:
        raise RuntimeError("Tensor methods need the emulator's ops: import pytest_ttpose.emulator first")
    return _bound_method_ops[0]


_INTEGER_TYPES = (DataType.UINT32, DataType.INT32, DataType.UINT16, DataType.UINT8)
_TORCH_OUTPUT_DTYPE = {
    DataType.BFLOAT16: torch.bfloat16,
    DataType.BFLOAT8_B: torch.float32,
    DataType.BFLOAT4_B: torch.float32,
    DataType.FLOAT32: torch.float32,
    DataType.UINT32: torch.uint32,
    DataType.INT32: torch.int32,
    DataType.UINT16: torch.uint16,
    DataType.UINT8: torch.uint8,
}
_DTYPE_FROM_TORCH = {
    torch.float32: DataType.FLOAT32,
    torch.float64: DataType.FLOAT32,
    torch.float16: DataType.BFLOAT16,
    torch.bfloat16: DataType.BFLOAT16,
    torch.int32: DataType.INT32,
    torch.int64: DataType.UINT32,
    torch.uint8: DataType.UINT8,
}


def store_values(values: torch.Tensor, dtype: DataType, pad_value: float | None = None) -> torch.Tensor:
    """What a TT buffer of ``dtype`` holds for ``values`` (the host conversion of ``from_torch``)."""
    if dtype in _INTEGER_TYPES:
        integers = values if not values.is_floating_point() else torch.trunc(values.double())
        integers = integers.to(torch.int64)
        bits = {DataType.UINT32: 32, DataType.INT32: 32, DataType.UINT16: 16, DataType.UINT8: 8}[dtype]
        if dtype != DataType.INT32:
            integers = integers % (1 << bits)
        return integers
    if dtype in (DataType.BFLOAT8_B, DataType.BFLOAT4_B) and values.dtype not in (torch.float32, torch.bfloat16):
        values = values.to(torch.bfloat16)  # ttnn converts other float types to bfloat16 before packing blocks
    floats = values.to(torch.float32)
    if dtype == DataType.FLOAT32:
        return floats.clone() if floats is values else floats
    if dtype == DataType.BFLOAT16:
        if values.dtype != torch.float32:  # ttnn lets torch convert other types, keeping torch's NaN bits
            return values.to(torch.bfloat16).to(torch.float32)
        return round_bfloat16(floats)
    if dtype == DataType.BFLOAT8_B:
        width = floats.shape[-1] if floats.dim() else 1
        if pad_value and width % 32:
            padded = torch.nn.functional.pad(floats, (0, (-width) % 32), value=float(pad_value))
            return round_bfloat8_b(padded)[..., :width].contiguous()
        return round_bfloat8_b(floats)
    raise NotImplementedError(f"from_torch: dtype {dtype} is not supported by the emulator")


class Tensor:
    """A ttnn tensor: host storage (one torch tensor per mesh shard) or a device buffer."""

    _spec: TensorSpec
    _host: list[torch.Tensor] | None
    _buffer: Buffer | None
    _conv_weight_meta: dict[str, Any] | None  # set on weights prepared for conv2d

    def __init__(self, arg: Tensor, /) -> None:
        """``ttnn.Tensor(other)``: a second handle on the same storage (ttnn's copy constructor)."""
        self._spec = arg._spec
        self._host = arg._host
        self._buffer = arg._buffer
        self._conv_weight_meta = arg._conv_weight_meta

    @classmethod
    def _create(cls, spec: TensorSpec, host: list[torch.Tensor] | None = None, buffer: Buffer | None = None) -> Tensor:
        tensor = cls.__new__(cls)
        tensor._spec = spec
        tensor._host = host
        tensor._buffer = buffer
        tensor._conv_weight_meta = None
        return tensor

    # properties ------------------------------------------------------------------------------------------------
    @property
    def spec(self) -> TensorSpec:
        return self._spec

    @property
    def shape(self) -> Shape:
        return self._spec.shape

    @property
    def padded_shape(self) -> Shape:
        return spec_padded_shape(self._spec)

    @property
    def dtype(self) -> DataType:
        return self._spec.dtype

    @property
    def layout(self) -> Layout:
        return self._spec.layout

    @property
    def tile(self) -> Tile:
        return self._spec.tile

    def get_dtype(self) -> DataType:
        return self.dtype

    def get_layout(self) -> Layout:
        return self.layout

    def memory_config(self) -> MemoryConfig:
        return self._spec.memory_config

    def is_sharded(self) -> bool:
        return self._buffer is not None and self._spec.memory_config.is_sharded()

    def volume(self) -> int:
        return math.prod(self.padded_shape)

    def logical_volume(self) -> int:
        return math.prod(self.shape)

    def element_size(self) -> int:
        return {DataType.FLOAT32: 4, DataType.UINT32: 4, DataType.INT32: 4, DataType.BFLOAT16: 2}.get(self.dtype, 1)

    def storage_type(self) -> str:
        return "StorageType.DEVICE" if self._buffer is not None else "StorageType.HOST"

    def is_allocated(self) -> bool:
        return self._buffer.allocated if self._buffer is not None else self._host is not None

    def device(self) -> MeshDevice | None:
        return self._buffer.device if self._buffer is not None else None

    def buffer_address(self) -> int:
        if self._buffer is None:
            raise RuntimeError("TT_FATAL: buffer_address: the tensor is not on a device")
        self._buffer.require_allocated("buffer_address")
        return self._buffer.address

    @property
    def _on_device(self) -> bool:
        return self._buffer is not None

    def _values(self, what: str) -> list[torch.Tensor]:
        """The stored values, one tensor per shard (no checks of queues: internal use)."""
        if self._buffer is not None:
            self._buffer.require_allocated(what)
            return self._buffer.data
        if self._host is None:
            raise RuntimeError(f"TT_FATAL: {what}: the host tensor has been deallocated")
        return self._host

    # methods ---------------------------------------------------------------------------------------------------
    def to(
        self, device: MeshDevice | Layout, mem_config: MemoryConfig | None = None, cq_id: int | None = None
    ) -> Tensor:
        if isinstance(device, Layout):
            return _method_ops().to_layout(self, device)
        return to_device(self, device, mem_config, queue_id=cq_id)

    def cpu(self, blocking: bool = True, cq_id: int | None = None) -> Tensor:
        return from_device(self, blocking, queue_id=cq_id)

    def to_torch(self, mesh_composer: MeshComposer | None = None) -> torch.Tensor:
        return to_torch(self, mesh_composer=mesh_composer)

    def deallocate(self, force: bool = False) -> None:
        deallocate(self, force)

    def reshape(
        self, arg0: int | Sequence[int], arg1: int | None = None, arg2: int | None = None, arg3: int | None = None, /
    ) -> Tensor:
        dims = list(arg0) if not isinstance(arg0, int) else [arg0, arg1, arg2, arg3]
        return _method_ops().reshape(self, [d for d in dims if d is not None])

    def __getitem__(self, index: object) -> Tensor:
        return _method_ops().getitem(self, index)

    # Python operators: ttnn 0.81 binds them to its ops (ttnn/__init__.py), comparisons included; a tensor stays
    # hashable by identity, as ttnn's does.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return _method_ops().eq(self, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return _method_ops().ne(self, other)

    def __gt__(self, other: Tensor | float) -> Tensor:
        return _method_ops().gt(self, other)

    def __ge__(self, other: Tensor | float) -> Tensor:
        return _method_ops().ge(self, other)

    def __lt__(self, other: Tensor | float) -> Tensor:
        return _method_ops().lt(self, other)

    def __le__(self, other: Tensor | float) -> Tensor:
        return _method_ops().le(self, other)

    def __add__(self, other: Tensor | float) -> Tensor:
        return _method_ops().add(self, other)

    def __radd__(self, other: float) -> Tensor:
        return _method_ops().add(self, other)

    def __sub__(self, other: Tensor | float) -> Tensor:
        return _method_ops().subtract(self, other)

    def __rsub__(self, other: float) -> Tensor:
        return _method_ops().subtract(other, self)

    def __mul__(self, other: Tensor | float) -> Tensor:
        return _method_ops().multiply(self, other)

    def __rmul__(self, other: float) -> Tensor:
        return _method_ops().multiply(self, other)

    def __truediv__(self, other: Tensor | float) -> Tensor:
        return _method_ops().divide(self, other)

    def __rtruediv__(self, other: float) -> Tensor:
        return _method_ops().divide(other, self)

    def __matmul__(self, other: Tensor) -> Tensor:
        return _method_ops().matmul(self, other)

    def __repr__(self) -> str:
        where = "device" if self._buffer is not None else "host"
        return f"ttnn.Tensor(shape={self.shape}, dtype={self.dtype}, layout={self.layout}, storage={where})"


def host_tensor(shards: list[torch.Tensor], dtype: DataType, layout: Layout, tile: Tile | None = None) -> Tensor:
    return Tensor._create(TensorSpec(shards[0].shape, dtype, layout, tile=tile), host=shards)


def _require_not_capturing(device: MeshDevice, reading: bool) -> None:
    if device.capturing is not None:
        kind = "Reads" if reading else "Writes"
        raise RuntimeError(
            f"TT_FATAL: {kind} are not supported during trace capture (trace {device.capturing.trace_id} on "
            f"CQ{device.capturing.cq_id}); move host transfers outside begin_trace_capture/end_trace_capture"
        )


def write_shards(buffer: Buffer, shards: list[torch.Tensor], cq_id: int, what: str) -> None:
    device = buffer.device
    _require_not_capturing(device, reading=False)
    device.queues.check_cq(cq_id)
    if len(shards) != device.get_num_devices():
        raise RuntimeError(
            f"TT_FATAL: {what}: the host tensor has {len(shards)} shard(s) but the mesh has "
            f"{device.get_num_devices()} device(s); use mesh_mapper=ReplicateTensorToMesh or ShardTensorToMesh"
        )
    device.queues.issue(cq_id)
    device._note_write(buffer, cq_id, what)
    if perf_log.active():
        perf_log.note(HostWrite(tensor_desc(buffer.spec).nbytes, cq_id, devices=len(shards)))
    buffer.data = list(shards)  # host and device values are never modified in place: sharing them is safe


def to_device(
    tensor: Tensor, device: MeshDevice, memory_config: MemoryConfig | None = None, *, queue_id: int | None = None
) -> Tensor:
    if tensor._on_device:
        if tensor.device() is device:
            return tensor
        raise RuntimeError("TT_FATAL: to_device: the tensor is already on another device")
    if not isinstance(device, MeshDevice):
        raise TypeError(f"to_device: expected an emulated MeshDevice, got {type(device).__name__}")
    shards = tensor._values("to_device")
    if len(shards) == 1 and device.get_num_devices() > 1:
        raise RuntimeError(
            f"TT_FATAL: to_device: a single host tensor cannot go to a mesh of {device.get_num_devices()} devices; "
            "create it with mesh_mapper=ttnn.ReplicateTensorToMesh(mesh) or ttnn.ShardTensorToMesh(mesh, dim)"
        )
    _require_not_capturing(device, reading=False)
    spec = make_spec(tensor.shape, tensor.dtype, tensor.layout, memory_config or DRAM_MEMORY_CONFIG, tensor.tile)
    buffer = device._allocate(spec)
    write_shards(buffer, shards, queue_index(queue_id), "to_device")
    return Tensor._create(spec, buffer=buffer)


def read_shards(tensor: Tensor, cq_id: int, what: str) -> list[torch.Tensor]:
    if tensor._buffer is None:
        return tensor._values(what)
    buffer = tensor._buffer
    device = buffer.device
    _require_not_capturing(device, reading=True)
    device.queues.check_cq(cq_id)
    device._note_host_read(buffer, cq_id, what)
    if perf_log.active():
        perf_log.note(HostRead(tensor_desc(buffer.spec).nbytes, cq_id, devices=device.get_num_devices()))
    return list(buffer.data)  # stored tensors are never modified in place: sharing them is safe


def from_device(tensor: Tensor, blocking: bool = True, *, queue_id: int | None = None) -> Tensor:
    if not tensor._on_device:
        return tensor
    shards = read_shards(tensor, queue_index(queue_id), "from_device")
    return Tensor._create(TensorSpec(tensor.shape, tensor.dtype, tensor.layout, tile=tensor.tile), host=shards)


def from_torch(
    tensor: torch.Tensor | None,
    dtype: DataType | None = None,
    *,
    spec: TensorSpec | None = None,
    tile: Tile | None = None,
    pad_value: float | None = None,
    layout: Layout | None = None,
    device: MeshDevice | None = None,
    memory_config: MemoryConfig | None = None,
    mesh_mapper: MeshMapper | None = None,
    cq_id: int | None = None,
    preserve_nan_values: bool = False,
    col_tilize: bool = False,
    enable_bfloat_opt: bool = False,
) -> Tensor | None:
    reject_unsupported("from_torch", col_tilize=col_tilize, enable_bfloat_opt=enable_bfloat_opt)
    if tensor is None:
        return None
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"from_torch: expected a torch.Tensor, got {type(tensor).__name__}")
    if spec is not None:
        if dtype is not None or layout is not None or memory_config is not None:
            raise RuntimeError("from_torch: pass either spec or dtype/layout/memory_config, not both")
        dtype, layout, memory_config = spec.dtype, spec.layout, spec.memory_config
        if tuple(spec.shape) != tuple(tensor.shape):
            raise RuntimeError(
                f"from_torch: spec shape {spec.shape} does not match the tensor shape {list(tensor.shape)}"
            )
    if dtype is None:
        if tensor.dtype not in _DTYPE_FROM_TORCH:
            raise NotImplementedError(f"from_torch: torch dtype {tensor.dtype} is not supported by the emulator")
        dtype = _DTYPE_FROM_TORCH[tensor.dtype]
    if layout is None:
        layout = Layout.TILE if dtype in (DataType.BFLOAT8_B, DataType.BFLOAT4_B) else Layout.ROW_MAJOR
    if dtype in (DataType.BFLOAT8_B, DataType.BFLOAT4_B) and layout != Layout.TILE:
        raise RuntimeError(f"TT_FATAL: Layout must be Layout::TILE for bfloat8_b or bfloat4_b! (got {layout})")
    if memory_config is not None and device is None:
        raise RuntimeError("from_torch: memory_config needs a device")
    if perf_log.active():
        perf_log.note(HostConvert(tensor.numel(), "to_device_format"))
    pieces = mesh_mapper.map(tensor) if mesh_mapper is not None else [tensor]
    shards = [store_values(piece.detach(), dtype, pad_value) for piece in pieces]
    result = host_tensor(shards, dtype, layout, tile)
    if device is not None:
        result = to_device(result, device, memory_config, queue_id=cq_id)
    return result


def to_torch(
    tensor: Tensor,
    dtype: torch.dtype | None = None,
    *,
    torch_rank: int | None = None,
    mesh_composer: MeshComposer | None = None,
    device: MeshDevice | None = None,
    cq_id: int | None = None,
) -> torch.Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_torch: expected an emulator ttnn.Tensor, got {type(tensor).__name__}")
    shards = read_shards(tensor, queue_index(cq_id), "to_torch")
    if perf_log.active():
        perf_log.note(HostConvert(sum(s.numel() for s in shards), "to_torch"))
    shards = [_to_torch_dtype(s, tensor.dtype) for s in shards]
    if mesh_composer is not None:
        result = mesh_composer.compose(shards)
    elif len(shards) == 1:
        result = shards[0]
    else:
        raise RuntimeError(
            f"to_torch: the tensor is distributed over {len(shards)} devices; pass "
            "mesh_composer=ttnn.ConcatMeshToTensor(mesh_device, dim=0) to gather it"
        )
    if torch_rank is not None:
        while result.dim() > torch_rank:
            if result.shape[0] != 1:
                raise RuntimeError(f"to_torch: cannot squeeze {list(result.shape)} to rank {torch_rank}")
            result = result.squeeze(0)
    return result.to(dtype) if dtype is not None else result


def _to_torch_dtype(values: torch.Tensor, dtype: DataType) -> torch.Tensor:
    if dtype == DataType.BFLOAT16:
        # The stored values are exact bfloat16 numbers: take their top 16 bits, so NaN keeps ttnn's 0x7FC0 pattern.
        return (values.contiguous().view(torch.int32) >> 16).to(torch.int16).view(torch.bfloat16)
    if dtype == DataType.BFLOAT8_B:
        # a bfloat8_b zero has no sign (ops may leave -0.0 inside the emulator); where() keeps NaN payloads
        return torch.where(values == 0, torch.zeros((), dtype=values.dtype), values)
    if dtype == DataType.FLOAT32:
        return values.clone()  # the caller owns what to_torch returns
    return values.to(_TORCH_OUTPUT_DTYPE[dtype])


def allocate_tensor_on_device(
    tensor_spec: TensorSpec | None = None,
    mesh_device: MeshDevice | None = None,
    *,
    shape: Sequence[int] | None = None,
    dtype: DataType | None = None,
    layout: Layout | None = None,
    memory_config: MemoryConfig | None = None,
) -> Tensor:
    """``allocate_tensor_on_device(spec, mesh_device)``, or the shape form by keyword:
    ``allocate_tensor_on_device(shape=..., dtype=..., layout=..., mesh_device=..., memory_config=None)``."""
    if tensor_spec is None:
        if shape is None or dtype is None or layout is None:
            raise TypeError("allocate_tensor_on_device needs a tensor_spec, or shape, dtype and layout")
        tensor_spec = make_spec(shape, dtype, layout, memory_config or DRAM_MEMORY_CONFIG)
    elif not isinstance(tensor_spec, TensorSpec):
        raise TypeError(
            "allocate_tensor_on_device(tensor_spec, mesh_device): pass a ttnn.TensorSpec (tensor.spec); the shape "
            "form takes keywords shape=, dtype=, layout=, mesh_device=, memory_config="
        )
    if not isinstance(mesh_device, MeshDevice):
        raise TypeError(f"allocate_tensor_on_device: expected an emulated MeshDevice, got {type(mesh_device).__name__}")
    buffer = mesh_device._allocate(tensor_spec)
    storage = _storage_dtype(tensor_spec.dtype)
    buffer.data = [torch.zeros(tuple(tensor_spec.shape), dtype=storage) for _ in range(mesh_device.get_num_devices())]
    return Tensor._create(tensor_spec, buffer=buffer)


def _storage_dtype(dtype: DataType) -> torch.dtype:
    return torch.int64 if dtype in _INTEGER_TYPES else torch.float32


def copy_host_to_device_tensor(host_tensor: Tensor, device_tensor: Tensor, cq_id: int | None = None) -> None:
    if host_tensor._on_device or not device_tensor._on_device:
        raise RuntimeError("TT_FATAL: copy_host_to_device_tensor copies a host tensor into a device tensor")
    for name in ("shape", "dtype", "layout"):
        if getattr(host_tensor, name) != getattr(device_tensor, name):
            raise RuntimeError(
                f"TT_FATAL: copy_host_to_device_tensor: host tensor {name} {getattr(host_tensor, name)} does not "
                f"match device tensor {name} {getattr(device_tensor, name)}"
            )
    assert device_tensor._buffer is not None
    write_shards(
        device_tensor._buffer,
        host_tensor._values("copy_host_to_device_tensor"),
        queue_index(cq_id),
        "copy_host_to_device_tensor",
    )


def deallocate(tensor: Tensor, force: bool = True) -> None:
    if tensor._buffer is not None:
        tensor._buffer.free()
    else:
        tensor._host = None


def from_host_shards(tensors: Sequence[Tensor], mesh_shape: Any) -> Tensor:
    shards = [s for t in tensors for s in t._values("from_host_shards")]
    expected = math.prod(mesh_shape)
    if len(shards) != expected:
        raise RuntimeError(f"TT_FATAL: from_host_shards got {len(shards)} shards for a mesh of {expected} devices")
    first = tensors[0]
    return host_tensor(shards, first.dtype, first.layout, first.tile)
