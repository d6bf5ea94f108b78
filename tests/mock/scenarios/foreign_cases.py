"""Calls that third-party YOLO11 TT model code makes (issue 14's gaps), run the same way on the real ttnn (mocked
chips) and on the emulator.

Shared by ``foreign_calls.py`` (the scenario that records what real ttnn answers: the output spec, or the error) and
the emulator's test, so both backends run exactly the same calls. Each case builds its inputs from a seeded
generator and returns the output tensor with the torch result it must hold (None where no torch op says what the
values are); a case that real ttnn rejects raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Outcome = tuple[Any, Any]  # (output ttnn.Tensor, expected torch.Tensor or None)
LayoutName = Literal["TILE", "ROW_MAJOR"]
DtypeName = Literal["bfloat16", "bfloat8_b"]


@dataclass(frozen=True)
class ForeignCase:
    name: str
    run: Callable[[Any, Any, Any], Outcome]  # (ttnn namespace, device, torch.Generator) -> Outcome


def l1_sharded(ttnn: Any, kind: str, cores_x: int, cores_y: int, shard: tuple[int, int]) -> Any:
    """An L1 ``kind`` (a TensorMemoryLayout name) config of ``shard`` over the first cores_x x cores_y cores."""
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(cores_x - 1, cores_y - 1))])
    spec = ttnn.ShardSpec(grid, list(shard), ttnn.ShardOrientation.ROW_MAJOR)
    return ttnn.MemoryConfig(getattr(ttnn.TensorMemoryLayout, kind), ttnn.BufferType.L1, spec)


def height_sharded(ttnn: Any, cores_x: int, cores_y: int, shard: tuple[int, int]) -> Any:
    return l1_sharded(ttnn, "HEIGHT_SHARDED", cores_x, cores_y, shard)


def spec_of(tensor: Any) -> dict[str, Any]:
    """The output spec both backends are compared on, in plain JSON values."""
    config = tensor.memory_config()
    shard = config.shard_spec
    result: dict[str, Any] = {
        "shape": list(tensor.shape),
        "padded_shape": list(tensor.padded_shape),
        "layout": tensor.layout.name,
        "dtype": tensor.dtype.name,
        "memory_layout": config.memory_layout.name,
        "buffer_type": config.buffer_type.name,
        "shard": None,
    }
    if shard is not None:
        result["shard"] = {
            "shape": list(shard.shape),
            "orientation": shard.orientation.name,
            "grid": sorted(
                [[r.start.x, r.start.y, r.end.x, r.end.y] for r in shard.grid.ranges()],
            ),
        }
    return result


def _device_tensor(
    ttnn: Any, device: Any, values: Any, layout: LayoutName = "TILE", dtype: DtypeName = "bfloat16", config: Any = None
) -> Any:
    return ttnn.from_torch(
        values,
        dtype=getattr(ttnn, dtype),
        layout=getattr(ttnn, f"{layout}_LAYOUT"),
        device=device,
        memory_config=config,
    )


def _randn(generator: Any, *shape: int) -> Any:
    import torch

    return torch.randn(*shape, generator=generator)


# ---------------------------------------------------------------- the cases

CASES: list[ForeignCase] = []


def case(name: str) -> Callable[[Callable[[Any, Any, Any], Outcome]], Callable[[Any, Any, Any], Outcome]]:
    """Register the decorated function as the case ``name``."""

    def register(run: Callable[[Any, Any, Any], Outcome]) -> Callable[[Any, Any, Any], Outcome]:
        CASES.append(ForeignCase(name, run))
        return run

    return register


# gap 1: create_sharded_memory_config_ derives the shard shape from the core count (ceil division)
@case("create_sharded_memory_config_ height, 16 cores, 400 rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 400, 64)
    config = ttnn.create_sharded_memory_config_(
        (1, 1, 400, 64), ttnn.CoreGrid(y=2, x=8), ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR
    )
    return _device_tensor(ttnn, device, values, "ROW_MAJOR", config=config), values


@case("create_sharded_memory_config_ block from a TensorMemoryLayout, col major")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 200, 96)
    config = ttnn.create_sharded_memory_config_(
        (1, 1, 200, 96),
        ttnn.CoreGrid(y=3, x=4),
        ttnn.TensorMemoryLayout.BLOCK_SHARDED,
        ttnn.ShardOrientation.COL_MAJOR,
    )
    return _device_tensor(ttnn, device, values, "ROW_MAJOR", config=config), values


@case("create_sharded_memory_config_ tile_layout pads the height")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 250, 64)
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, 0))])
    config = ttnn.create_sharded_memory_config_(
        (1, 1, 250, 64), grid, ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR, tile_layout=True
    )
    return _device_tensor(ttnn, device, values, config=config), values


@case("create_sharded_memory_config_ without an orientation")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = ttnn.create_sharded_memory_config_(
        (1, 1, 64, 64), ttnn.CoreGrid(y=1, x=2), ttnn.ShardStrategy.HEIGHT, None
    )
    return _device_tensor(ttnn, device, _randn(generator, 1, 1, 64, 64), config=config), None


# gap 2: softmax_in_place
@case("softmax_in_place")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    import torch

    values = _randn(generator, 1, 1, 64, 96)
    out = ttnn.softmax_in_place(_device_tensor(ttnn, device, values))
    return out, torch.softmax(values, dim=-1)


@case("softmax_in_place row-major")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.softmax_in_place(_device_tensor(ttnn, device, _randn(generator, 1, 1, 64, 64), "ROW_MAJOR")), None


# gap 3: div
@case("div tensor by tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b = _randn(generator, 1, 1, 64, 64), _randn(generator, 1, 1, 64, 64).abs() + 0.5
    return ttnn.div(_device_tensor(ttnn, device, a), _device_tensor(ttnn, device, b)), a / b


@case("div tensor by scalar")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a = _randn(generator, 1, 1, 64, 64)
    return ttnn.div(_device_tensor(ttnn, device, a), 3.0), a / 3.0


@case("div scalar by tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    b = _randn(generator, 1, 1, 64, 64).abs() + 0.5
    return ttnn.div(2.0, _device_tensor(ttnn, device, b)), 2.0 / b


# gap 4: Tensor.__getitem__
@case("getitem [:, :, :hw, :]")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 100, 64)
    return _device_tensor(ttnn, device, values)[:, :, :50, :], values[:, :, :50, :]


@case("getitem integer index drops the dimension")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 2, 1, 40, 64)
    return _device_tensor(ttnn, device, values, "ROW_MAJOR")[1], values[1]


@case("getitem step and ellipsis")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 64, 64)
    return _device_tensor(ttnn, device, values, "ROW_MAJOR")[..., ::2, 16:48], values[..., ::2, 16:48]


@case("getitem past the end")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _device_tensor(ttnn, device, _randn(generator, 1, 1, 100, 64))[:, :, :200, :], None


# gap 5: Tensor arithmetic
def _two(ttnn: Any, device: Any, generator: Any) -> tuple[Any, Any, Any, Any]:
    a, b = _randn(generator, 1, 1, 64, 64), _randn(generator, 1, 1, 64, 64).abs() + 0.5
    return a, b, _device_tensor(ttnn, device, a), _device_tensor(ttnn, device, b)


@case("tensor - tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b, ta, tb = _two(ttnn, device, generator)
    return ta - tb, a - b


@case("tensor + tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b, ta, tb = _two(ttnn, device, generator)
    return ta + tb, a + b


@case("tensor * tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b, ta, tb = _two(ttnn, device, generator)
    return ta * tb, a * b


@case("tensor / tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b, ta, tb = _two(ttnn, device, generator)
    return ta / tb, a / b


@case("scalar - tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, _, ta, _ = _two(ttnn, device, generator)
    return 1.0 - ta, 1.0 - a


@case("scalar + tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, _, ta, _ = _two(ttnn, device, generator)
    return 2.0 + ta, 2.0 + a


@case("scalar * tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, _, ta, _ = _two(ttnn, device, generator)
    return 0.5 * ta, 0.5 * a


@case("scalar / tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    _, b, _, tb = _two(ttnn, device, generator)
    return 2.0 / tb, 2.0 / b


@case("tensor @ tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b, ta, tb = _two(ttnn, device, generator)
    return ta @ tb, a @ b


@case("tensor > tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b, ta, tb = _two(ttnn, device, generator)
    return ta > tb, (a.bfloat16() > b.bfloat16()).float()


@case("tensor == tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a = _randn(generator, 1, 1, 64, 64)
    b = a.clone()
    b[..., ::3] = 7.0
    return _device_tensor(ttnn, device, a) == _device_tensor(ttnn, device, b), (a == b).float()


@case("tensor <= scalar")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, _, ta, _ = _two(ttnn, device, generator)
    return ta <= 0.25, (a.bfloat16() <= 0.25).float()


# gap 6: conv2d on an input zero-padded to 8 channels with in_channels=3 (ttnn reads it from L1, not from DRAM)
for _placement in ("L1 height-sharded", "L1 interleaved", "DRAM"):

    @case(f"conv2d in_channels=3 on a {_placement} input padded to 8 channels")
    def _(ttnn: Any, device: Any, generator: Any, placement: str = _placement) -> Outcome:
        import torch

        image = _randn(generator, 1, 3, 32, 32)
        weight = _randn(generator, 16, 3, 3, 3)
        nhwc = torch.nn.functional.pad(image.permute(0, 2, 3, 1), (0, 5)).reshape(1, 1, 32 * 32, 8)
        config = {
            "L1 height-sharded": height_sharded(ttnn, 8, 4, (32, 8)),
            "L1 interleaved": ttnn.L1_MEMORY_CONFIG,
            "DRAM": ttnn.DRAM_MEMORY_CONFIG,
        }[placement]
        out = ttnn.conv2d(
            input_tensor=ttnn.from_torch(nhwc, dtype=ttnn.bfloat16, device=device, memory_config=config),
            weight_tensor=ttnn.from_torch(weight, dtype=ttnn.float32),
            device=device,
            in_channels=3,
            out_channels=16,
            batch_size=1,
            input_height=32,
            input_width=32,
            kernel_size=(3, 3),
            stride=(2, 2),
            padding=(1, 1),
        )
        expected = torch.nn.functional.conv2d(image, weight, stride=2, padding=1)
        return out, expected.permute(0, 2, 3, 1).reshape(1, 1, -1, 16)


# gap 7: to_layout TILE -> ROW_MAJOR of a height-sharded tensor with logical width 16
@case("to_layout row-major of a height-sharded tile tensor of width 16")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 416 * 20, 16)
    tensor = _device_tensor(ttnn, device, values, config=height_sharded(ttnn, 5, 4, (416, 32)))
    return ttnn.to_layout(tensor, ttnn.ROW_MAJOR_LAYOUT), values


@case("to_layout tile of a height-sharded row-major tensor of width 16")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 416 * 20, 16)
    tensor = _device_tensor(ttnn, device, values, "ROW_MAJOR", config=height_sharded(ttnn, 5, 4, (416, 16)))
    return ttnn.to_layout(tensor, ttnn.TILE_LAYOUT), values


# gap 8: add of a ROW_MAJOR and a TILE operand
@case("add row-major + tile")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b = _randn(generator, 1, 1, 64, 64), _randn(generator, 1, 1, 64, 64)
    return ttnn.add(_device_tensor(ttnn, device, a, "ROW_MAJOR"), _device_tensor(ttnn, device, b)), a + b


@case("multiply tile * row-major, unaligned")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b = _randn(generator, 1, 1, 60, 50), _randn(generator, 1, 1, 60, 50)
    return ttnn.multiply(_device_tensor(ttnn, device, a), _device_tensor(ttnn, device, b, "ROW_MAJOR")), a * b


# gap 9: upsample keeps the input's sharding, its shard height scaled
def _upsample_input(ttnn: Any, device: Any, generator: Any) -> tuple[Any, Any]:
    values = _randn(generator, 1, 20, 20, 64)
    return values, _device_tensor(ttnn, device, values, "ROW_MAJOR", config=height_sharded(ttnn, 5, 4, (20, 64)))


def _nearest(values: Any, scale: int) -> Any:
    return values.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)


@case("upsample with the input's sharded memory config")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, tensor = _upsample_input(ttnn, device, generator)
    return ttnn.upsample(tensor, 2, memory_config=tensor.memory_config()), _nearest(values, 2)


@case("upsample of a sharded input, default memory config")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, tensor = _upsample_input(ttnn, device, generator)
    return ttnn.upsample(tensor, 2), _nearest(values, 2)


@case("upsample of a sharded input into another sharded memory config")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, tensor = _upsample_input(ttnn, device, generator)
    return ttnn.upsample(tensor, 2, memory_config=height_sharded(ttnn, 8, 4, (50, 64))), _nearest(values, 2)


@case("upsample of a sharded input into DRAM")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, tensor = _upsample_input(ttnn, device, generator)
    return ttnn.upsample(tensor, 2, memory_config=ttnn.DRAM_MEMORY_CONFIG), _nearest(values, 2)


# gap 10: pad, permute and reshape of sharded inputs stay sharded
def _sharded_1024(ttnn: Any, device: Any, generator: Any, layout: LayoutName) -> tuple[Any, Any]:
    values = _randn(generator, 1, 1, 1024, 64)
    return values, _device_tensor(ttnn, device, values, layout, config=height_sharded(ttnn, 8, 4, (32, 64)))


_LAYOUTS: tuple[LayoutName, ...] = ("ROW_MAJOR", "TILE")
for _layout in _LAYOUTS:

    @case(f"pad the width of a height-sharded {_layout} tensor")
    def _(ttnn: Any, device: Any, generator: Any, layout: LayoutName = _layout) -> Outcome:
        import torch

        values, tensor = _sharded_1024(ttnn, device, generator, layout)
        return ttnn.pad(tensor, [(0, 0), (0, 0), (0, 0), (0, 32)], 0.0), torch.nn.functional.pad(values, (0, 32))

    @case(f"pad the height of a height-sharded {_layout} tensor past its cores")
    def _(ttnn: Any, device: Any, generator: Any, layout: LayoutName = _layout) -> Outcome:
        _, tensor = _sharded_1024(ttnn, device, generator, layout)
        return ttnn.pad(tensor, [(0, 0), (0, 0), (0, 32), (0, 0)], 0.0), None

    @case(f"permute the last two dims of a height-sharded {_layout} tensor")
    def _(ttnn: Any, device: Any, generator: Any, layout: LayoutName = _layout) -> Outcome:
        values, tensor = _sharded_1024(ttnn, device, generator, layout)
        return ttnn.permute(tensor, (0, 1, 3, 2)), values.permute(0, 1, 3, 2)

    @case(f"permute keeping the last dim of a height-sharded {_layout} tensor")
    def _(ttnn: Any, device: Any, generator: Any, layout: LayoutName = _layout) -> Outcome:
        values, tensor = _sharded_1024(ttnn, device, generator, layout)
        return ttnn.permute(tensor, (0, 2, 1, 3)), values.permute(0, 2, 1, 3)

    @case(f"reshape a height-sharded {_layout} tensor to NHWC")
    def _(ttnn: Any, device: Any, generator: Any, layout: LayoutName = _layout) -> Outcome:
        values, tensor = _sharded_1024(ttnn, device, generator, layout)
        return ttnn.reshape(tensor, (1, 32, 32, 64)), values.reshape(1, 32, 32, 64)

    @case(f"reshape a height-sharded {_layout} tensor to a wider row")
    def _(ttnn: Any, device: Any, generator: Any, layout: LayoutName = _layout) -> Outcome:
        values, tensor = _sharded_1024(ttnn, device, generator, layout)
        return ttnn.reshape(tensor, (1, 1, 512, 128)), values.reshape(1, 1, 512, 128)


# reshape of a sharded input: a view keeps the input's config (memory_config or not); a reshape that moves data
# derives the shard from the target's grid, and a shard holding the whole height is WIDTH_SHARDED
ShardedConfig = tuple[str, int, int, tuple[int, int]]  # (HEIGHT/WIDTH/BLOCK, cores x, cores y, shard shape)


def _sharded_reshape_case(
    name: str,
    shape: tuple[int, ...],
    config: ShardedConfig,
    target: tuple[int, ...],
    memory_config: ShardedConfig | None,
) -> None:
    def build(ttnn: Any, kind: str, cores_x: int, cores_y: int, shard: tuple[int, int]) -> Any:
        grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(cores_x - 1, cores_y - 1))])
        spec = ttnn.ShardSpec(grid, list(shard), ttnn.ShardOrientation.ROW_MAJOR)
        return ttnn.MemoryConfig(getattr(ttnn.TensorMemoryLayout, f"{kind}_SHARDED"), ttnn.BufferType.L1, spec)

    @case(name)
    def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
        values = _randn(generator, *shape)
        tensor = _device_tensor(ttnn, device, values, config=build(ttnn, *config))
        output = None if memory_config is None else build(ttnn, *memory_config)
        return ttnn.reshape(tensor, target, memory_config=output), values.reshape(target)


_sharded_reshape_case(
    "reshape of a height-sharded [15, 7] tile tensor to [7, 15]", (1, 1, 15, 7), ("HEIGHT", 1, 1, (32, 32)),
    (1, 1, 7, 15), None,
)  # fmt: skip
_sharded_reshape_case(
    "reshape of a height-sharded [3, 15, 7] tile tensor to [45, 7]", (1, 3, 15, 7), ("HEIGHT", 3, 1, (32, 32)),
    (1, 1, 45, 7), None,
)  # fmt: skip
_sharded_reshape_case(
    "reshape view of a height-sharded tensor keeps its config over memory_config", (1, 1, 64, 32),
    ("HEIGHT", 2, 1, (32, 32)), (1, 2, 32, 32), ("HEIGHT", 4, 1, (32, 32)),
)  # fmt: skip
_sharded_reshape_case(
    "reshape of a block-sharded tensor moving data", (1, 1, 128, 64), ("BLOCK", 2, 2, (64, 32)), (1, 1, 64, 128),
    None,
)  # fmt: skip
_sharded_reshape_case(
    "reshape of a width-sharded tensor moving data", (1, 1, 128, 64), ("WIDTH", 2, 1, (128, 32)), (1, 1, 256, 32),
    None,
)  # fmt: skip


@case("pad of a width-sharded tile tensor with two batches")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    # ttnn fills the new tile padding of a sharded tensor one [H, W] slice at a time, and only one (a false pass before)
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(0, 0))])
    spec = ttnn.ShardSpec(grid, [64, 32], ttnn.ShardOrientation.ROW_MAJOR)
    config = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.WIDTH_SHARDED, ttnn.BufferType.L1, spec)
    tensor = _device_tensor(ttnn, device, _randn(generator, 2, 1, 32, 16), config=config)
    return ttnn.pad(tensor, [(0, 0), (0, 0), (0, 32), (0, 0)], 0.0), None


def _sharded(ttnn: Any, kind: str, cores_x: int, shard: tuple[int, int]) -> Any:
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(cores_x - 1, 0))])
    spec = ttnn.ShardSpec(grid, list(shard), ttnn.ShardOrientation.ROW_MAJOR)
    return ttnn.MemoryConfig(getattr(ttnn.TensorMemoryLayout, f"{kind}_SHARDED"), ttnn.BufferType.L1, spec)


# softmax views a tensor whose last dimension is not tile aligned at its padded width: one shard must span it
for _name, _width in (("softmax", 45), ("softmax", 64), ("softmax_in_place", 45), ("softmax_in_place", 64)):

    @case(f"{_name} of a width-sharded tile tensor of width {_width}")
    def _(ttnn: Any, device: Any, generator: Any, name: str = _name, width: int = _width) -> Outcome:
        import torch

        values = _randn(generator, 1, 1, 64, width)
        tensor = _device_tensor(ttnn, device, values, config=_sharded(ttnn, "WIDTH", 2, (64, 32)))
        expected = torch.softmax(ttnn.to_torch(tensor).float(), -1)  # before softmax_in_place overwrites it
        return getattr(ttnn, name)(tensor, -1), expected


for _dim in (-1, 2):

    @case(f"softmax of a row-major tensor over dim {_dim}")
    def _(ttnn: Any, device: Any, generator: Any, dim: int = _dim) -> Outcome:
        import torch

        values = _randn(generator, 1, 1, 32, 64)
        tensor = _device_tensor(ttnn, device, values, "ROW_MAJOR")
        return ttnn.softmax(tensor, dim), torch.softmax(ttnn.to_torch(tensor).float(), dim)


for _source, _target in (("bfloat16", "bfloat8_b"), ("bfloat16", "float32"), ("bfloat8_b", "bfloat16")):

    @case(f"to_layout row-major of a {_source} tensor with dtype {_target}")
    def _(ttnn: Any, device: Any, generator: Any, source: str = _source, target: str = _target) -> Outcome:
        tensor = _device_tensor(ttnn, device, _randn(generator, 1, 1, 32, 64), dtype=source)  # type: ignore[arg-type]
        return ttnn.to_layout(tensor, ttnn.ROW_MAJOR_LAYOUT, dtype=getattr(ttnn, target)), ttnn.to_torch(tensor)


for _shard in ((32, 32), (16, 32), (32, 40)):

    @case(f"to_layout row-major into a height-sharded memory_config with {_shard[0]}x{_shard[1]} shards")
    def _(ttnn: Any, device: Any, generator: Any, shard: tuple[int, int] = _shard) -> Outcome:
        values = _randn(generator, 1, 1, 64, shard[1])
        tensor = _device_tensor(ttnn, device, values)
        config = _sharded(ttnn, "HEIGHT", 64 // shard[0], shard)
        return ttnn.to_layout(tensor, ttnn.ROW_MAJOR_LAYOUT, memory_config=config), ttnn.to_torch(tensor)


# a block-sharded input_tensor_a without a program config: the derived 2D multicast config needs a grid whose rows
# hold M and whose columns hold K in shard steps
for _cores_x, _cores_y, _rows in ((2, 2, 64), (3, 2, 64), (2, 4, 64)):

    @case(f"matmul of a {_rows}x64 input block-sharded on {_cores_x}x{_cores_y} cores, 32x32 shards")
    def _(ttnn: Any, device: Any, generator: Any, x: int = _cores_x, y: int = _cores_y, rows: int = _rows) -> Outcome:
        grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(x - 1, y - 1))])
        spec = ttnn.ShardSpec(grid, [32, 32], ttnn.ShardOrientation.ROW_MAJOR)
        config = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.BLOCK_SHARDED, ttnn.BufferType.L1, spec)
        a = _device_tensor(ttnn, device, _randn(generator, 1, 1, rows, 64), config=config)
        b = _device_tensor(ttnn, device, _randn(generator, 1, 1, 64, 32))
        return ttnn.matmul(a, b), ttnn.to_torch(a).float() @ ttnn.to_torch(b).float()


for _op in ("add", "eq", "lt"):

    @case(f"{_op} of a float32 and a uint32 tensor")
    def _(ttnn: Any, device: Any, generator: Any, op: str = _op) -> Outcome:
        a = _device_tensor(ttnn, device, _randn(generator, 1, 1, 32, 32), config=None)
        integers = (_randn(generator, 1, 1, 32, 32).abs() * 10).int()
        b = ttnn.from_torch(integers, dtype=ttnn.uint32, layout=ttnn.TILE_LAYOUT, device=device)
        return getattr(ttnn, op)(ttnn.typecast(a, ttnn.float32), b), None


# conv2d on a height-sharded input without conv_config.shard_layout: ttnn reshards a COL_MAJOR one into a plan it
# then refuses
for _orientation in ("ROW_MAJOR", "COL_MAJOR"):

    @case(f"conv2d 3x3 on a {_orientation} height-sharded tile input without a shard layout")
    def _(ttnn: Any, device: Any, generator: Any, orientation: str = _orientation) -> Outcome:
        grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, 0))])
        spec = ttnn.ShardSpec(grid, [32, 32], getattr(ttnn.ShardOrientation, orientation))
        config = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1, spec)
        tensor = _device_tensor(ttnn, device, _randn(generator, 1, 1, 256, 32), config=config)
        weight = ttnn.from_torch(_randn(generator, 32, 32, 3, 3), dtype=ttnn.bfloat16)
        output = ttnn.conv2d(
            input_tensor=tensor,
            weight_tensor=weight,
            device=device,
            in_channels=32,
            out_channels=32,
            batch_size=1,
            input_height=16,
            input_width=16,
            kernel_size=[3, 3],
            stride=[1, 1],
            padding=[1, 1],
        )
        return output, None


# untilizing a block-sharded tensor that has tile padding to strip: ttnn does it for one [H, W] slice only
for _shape in ((2, 1, 30, 64), (1, 1, 30, 64), (2, 1, 64, 32)):

    @case(f"to_layout row-major of a block-sharded {list(_shape)} tile tensor")
    def _(ttnn: Any, device: Any, generator: Any, shape: tuple[int, ...] = _shape) -> Outcome:
        rows = shape[0] * shape[1] * -(-shape[2] // 32) * 32
        grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(1, 1))])
        spec = ttnn.ShardSpec(grid, [rows // 2, shape[3] // 2], ttnn.ShardOrientation.ROW_MAJOR)
        config = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.BLOCK_SHARDED, ttnn.BufferType.L1, spec)
        tensor = _device_tensor(ttnn, device, _randn(generator, *shape), config=config)
        return ttnn.to_layout(tensor, ttnn.ROW_MAJOR_LAYOUT), ttnn.to_torch(tensor)


for _width in (7, 8):

    @case(f"reshape moving data of a row-major height-sharded [15, {_width}] tensor")
    def _(ttnn: Any, device: Any, generator: Any, width: int = _width) -> Outcome:
        # the data goes through sharded_to_interleaved, whose row pages must be 16-byte aligned
        values = _randn(generator, 1, 1, 15, width)
        tensor = _device_tensor(ttnn, device, values, "ROW_MAJOR", config=height_sharded(ttnn, 1, 1, (15, width)))
        return ttnn.reshape(tensor, (1, 1, width, 15)), values.reshape(1, 1, width, 15)


# pad of a width-sharded tensor keeps its config, shard shape included: more rows than a shard holds is refused
for _rows, _extra in ((5, 1), (33, 32)):

    @case(f"pad of a width-sharded [{_rows}, 64] tile tensor by {_extra} rows")
    def _(ttnn: Any, device: Any, generator: Any, rows: int = _rows, extra: int = _extra) -> Outcome:
        import torch

        values = _randn(generator, 1, 1, rows, 64)
        tensor = _device_tensor(ttnn, device, values, config=_sharded(ttnn, "WIDTH", 2, (-(-rows // 32) * 32, 32)))
        padded = ttnn.pad(tensor, [(0, 0), (0, 0), (0, extra), (0, 1)], 0.0)
        return padded, torch.nn.functional.pad(ttnn.to_torch(tensor).float(), (0, 1, 0, extra))


@case("to_layout tile of a float32 tile tensor with dtype bfloat16")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    # the tensor already has the layout: ttnn returns it as it is, dtype argument or not
    tensor = ttnn.from_torch(
        _randn(generator, 1, 1, 32, 64), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device
    )
    return ttnn.to_layout(tensor, ttnn.TILE_LAYOUT, dtype=ttnn.bfloat16), ttnn.to_torch(tensor)


# a sharded ROW_MAJOR tensor's padded width is its width rounded up to a multiple of the shard width
def _row_major_sharded_case(kind: str, width: int, shard: tuple[int, int]) -> None:
    @case(f"from_torch of a row-major {kind.lower()}-sharded [64, {width}] tensor in {shard[1]}-wide shards")
    def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
        values = _randn(generator, 1, 1, 64, width)
        cores = 2 if kind == "HEIGHT" else -(-width // shard[1])
        return _device_tensor(ttnn, device, values, "ROW_MAJOR", config=_sharded(ttnn, kind, cores, shard)), values


_row_major_sharded_case("HEIGHT", 7, (32, 8))
_row_major_sharded_case("WIDTH", 31, (64, 8))
_row_major_sharded_case("HEIGHT", 16, (32, 16))


for _mode in ("nearest", "bilinear"):

    @case(f"upsample {_mode} of a COL_MAJOR height-sharded input")
    def _(ttnn: Any, device: Any, generator: Any, mode: str = _mode) -> Outcome:
        # bilinear's halo walks the cores row-major; nearest takes either orientation
        grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, 3))])
        spec = ttnn.ShardSpec(grid, [7, 32], ttnn.ShardOrientation.COL_MAJOR)
        config = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1, spec)
        tensor = _device_tensor(ttnn, device, _randn(generator, 2, 10, 10, 32), "ROW_MAJOR", config=config)
        return ttnn.upsample(tensor, [2, 2], mode=mode), None


# gap 11: concat of bfloat8_b tile inputs; max_pool2d's output shard
for _widths in ((40, 40), (32, 64), (48, 16), (8, 8)):

    @case(f"concat bfloat8_b tile widths {_widths[0]}+{_widths[1]}")
    def _(ttnn: Any, device: Any, generator: Any, widths: tuple[int, int] = _widths) -> Outcome:
        import torch

        parts = [_randn(generator, 1, 1, 64, w) for w in widths]
        tensors = [_device_tensor(ttnn, device, p, dtype="bfloat8_b") for p in parts]
        stored = [ttnn.to_torch(t) for t in tensors]
        return ttnn.concat(tensors, dim=-1), torch.cat(stored, dim=-1)


@case("concat bfloat8_b tile along the height")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    import torch

    parts = [_randn(generator, 1, 1, 40, 48) for _ in range(2)]
    tensors = [_device_tensor(ttnn, device, p, dtype="bfloat8_b") for p in parts]
    stored = [ttnn.to_torch(t) for t in tensors]
    return ttnn.concat(tensors, dim=2), torch.cat(stored, dim=2)


for _cores, _shard_rows in ((13, 31), (13, 32), (20, 20)):

    @case(f"max_pool2d 5x5 of a 20x20x128 input height-sharded on {_cores} cores, {_shard_rows}-row shards")
    def _(ttnn: Any, device: Any, generator: Any, cores: int = _cores, shard_rows: int = _shard_rows) -> Outcome:
        import torch

        values = _randn(generator, 1, 20, 20, 128)
        full_rows, rest = divmod(cores, 8)
        ranges = [ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, full_rows - 1))]
        if rest:
            ranges.append(ttnn.CoreRange(ttnn.CoreCoord(0, full_rows), ttnn.CoreCoord(rest - 1, full_rows)))
        shard = ttnn.ShardSpec(ttnn.CoreRangeSet(ranges), [shard_rows, 128], ttnn.ShardOrientation.ROW_MAJOR)
        config = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1, shard)
        tensor = _device_tensor(ttnn, device, values.reshape(1, 1, 400, 128), "ROW_MAJOR", config=config)
        out = ttnn.max_pool2d(tensor, 1, 20, 20, 128, [5, 5], [1, 1], [2, 2], [1, 1])
        expected = torch.nn.functional.max_pool2d(values.permute(0, 3, 1, 2), 5, 1, 2)
        return out, expected.permute(0, 2, 3, 1).reshape(1, 1, 400, 128)


for _memory_config in ("the input's", "L1 interleaved"):

    @case(f"max_pool2d of a COL_MAJOR height-sharded input into {_memory_config} memory config")
    def _(ttnn: Any, device: Any, generator: Any, memory_config: str = _memory_config) -> Outcome:
        # ttnn derives the output shard from the input's and accepts only a ROW_MAJOR one (a false pass before)
        grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(3, 1))])
        shard = ttnn.ShardSpec(grid, [32, 32], ttnn.ShardOrientation.COL_MAJOR)
        config = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1, shard)
        tensor = _device_tensor(ttnn, device, _randn(generator, 1, 1, 256, 32), "ROW_MAJOR", config=config)
        output = None if memory_config == "the input's" else ttnn.L1_MEMORY_CONFIG
        return ttnn.max_pool2d(tensor, 1, 16, 16, 32, [2, 2], [2, 2], [1, 1], [1, 1], memory_config=output), None


@case("max_pool2d 5x5 of an interleaved 20x20x128 input")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    import torch

    values = _randn(generator, 1, 20, 20, 128)
    tensor = _device_tensor(ttnn, device, values.reshape(1, 1, 400, 128), "ROW_MAJOR")
    out = ttnn.max_pool2d(tensor, 1, 20, 20, 128, [5, 5], [1, 1], [2, 2], [1, 1])
    expected = torch.nn.functional.max_pool2d(values.permute(0, 3, 1, 2), 5, 1, 2)
    return out, expected.permute(0, 2, 3, 1).reshape(1, 1, 400, 128)


# the slice clamp: an end past the dimension is an error on real ttnn
def _slice_case(name: str, shape: tuple[int, ...], layout: LayoutName, start: list[int], end: list[int]) -> None:
    @case(name)
    def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
        import builtins

        values = _randn(generator, *shape)
        out = ttnn.slice(_device_tensor(ttnn, device, values, layout), start, end)
        index = tuple(builtins.slice(s, e) for s, e in zip(start, end, strict=True))
        return out, values[index]


_slice_case("slice end past the tensor (issue 14: 416 > 128)", (1, 1, 128, 128), "TILE", [0, 0, 0, 0], [1, 1, 416, 128])
_slice_case("slice width end past the tensor", (1, 1, 128, 128), "TILE", [0, 0, 0, 0], [1, 1, 128, 416])
_slice_case("slice tile end past the tile padding", (1, 1, 100, 64), "TILE", [0, 0, 0, 0], [1, 1, 129, 64])
_slice_case("slice tile width end past the shape", (1, 1, 100, 64), "TILE", [0, 0, 0, 0], [1, 1, 100, 70])
_slice_case("slice row-major end past the shape", (1, 1, 100, 64), "ROW_MAJOR", [0, 0, 0, 0], [1, 1, 110, 64])
_slice_case("slice batch end past the shape", (1, 1, 100, 64), "ROW_MAJOR", [0, 0, 0, 0], [2, 1, 100, 64])
_slice_case("slice start at the end", (1, 1, 100, 64), "TILE", [0, 0, 100, 0], [1, 1, 110, 64])
_slice_case("slice negative start", (1, 1, 100, 64), "ROW_MAJOR", [0, 0, -10, 0], [1, 1, 100, 64])
_slice_case("slice negative end", (1, 1, 100, 64), "ROW_MAJOR", [0, 0, 0, 0], [1, 1, -10, 64])
_slice_case("slice tile end into the tile padding", (1, 1, 100, 64), "TILE", [0, 0, 0, 0], [1, 1, 110, 64])
_slice_case("slice in range", (1, 1, 100, 64), "TILE", [0, 0, 10, 0], [1, 1, 90, 64])


# ---------------------------------------------------------------- the audit: arguments real ttnn may reject


@case("audit: softmax of a row-major tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.softmax(_device_tensor(ttnn, device, _randn(generator, 1, 1, 64, 64), "ROW_MAJOR")), None


@case("audit: to_layout row-major with dtype bfloat8_b")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    tensor = _device_tensor(ttnn, device, _randn(generator, 1, 1, 64, 64), dtype="bfloat8_b")
    return ttnn.to_layout(tensor, ttnn.ROW_MAJOR_LAYOUT, dtype=ttnn.bfloat8_b), None


@case("audit: to_layout row-major of a bfloat8_b tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    tensor = _device_tensor(ttnn, device, _randn(generator, 1, 1, 64, 64), dtype="bfloat8_b")
    return ttnn.to_layout(tensor, ttnn.ROW_MAJOR_LAYOUT), ttnn.to_torch(tensor)


def _pool_input(ttnn: Any, device: Any, generator: Any, rows: int) -> Any:
    return _device_tensor(ttnn, device, _randn(generator, 1, 1, rows, 32), "ROW_MAJOR")


@case("audit: max_pool2d of an input with more rows than batch x height x width")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    tensor = _pool_input(ttnn, device, generator, 16 * 16 + 32)
    return ttnn.max_pool2d(tensor, 1, 16, 16, 32, [2, 2], [2, 2], [0, 0], [1, 1]), None


@case("audit: max_pool2d of an input with fewer channels than stated")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    tensor = _pool_input(ttnn, device, generator, 16 * 16)
    return ttnn.max_pool2d(tensor, 1, 16, 16, 64, [2, 2], [2, 2], [0, 0], [1, 1]), None


def _conv_rows(ttnn: Any, device: Any, generator: Any, rows: int, bias_shape: tuple[int, ...] = (1, 1, 1, 32)) -> Any:
    return ttnn.conv2d(
        input_tensor=_device_tensor(ttnn, device, _randn(generator, 1, 1, rows, 16), "ROW_MAJOR"),
        weight_tensor=ttnn.from_torch(_randn(generator, 32, 16, 3, 3), dtype=ttnn.float32),
        bias_tensor=ttnn.from_torch(_randn(generator, *bias_shape), dtype=ttnn.float32),
        device=device,
        in_channels=16,
        out_channels=32,
        batch_size=1,
        input_height=16,
        input_width=16,
        kernel_size=(3, 3),
        padding=(1, 1),
    )


@case("audit: conv2d of an input with more rows than batch x height x width")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _conv_rows(ttnn, device, generator, 16 * 16 + 32), None


@case("audit: conv2d with a rank-1 bias")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _conv_rows(ttnn, device, generator, 16 * 16, bias_shape=(32,)), None


@case("audit: squeeze of a dimension that is not 1")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 2, 32, 32)
    return ttnn.squeeze(_device_tensor(ttnn, device, values), 1), values


@case("audit: split into pieces that do not divide the dimension")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 64, 96)
    pieces = ttnn.split(_device_tensor(ttnn, device, values), 40, dim=3)
    return pieces[-1], values[..., 80:]


@case("audit: pad with fewer pairs than dimensions")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    import torch

    values = _randn(generator, 1, 1, 32, 32)
    out = ttnn.pad(_device_tensor(ttnn, device, values, "ROW_MAJOR"), [(0, 0), (0, 32)], 0.0)
    return out, torch.nn.functional.pad(values, (0, 32))


@case("audit: upsample by a fractional factor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.upsample(_device_tensor(ttnn, device, _randn(generator, 1, 10, 10, 32), "ROW_MAJOR"), 1.5), None


@case("audit: upsample by different factors along height and width")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 10, 10, 32)
    out = ttnn.upsample(_device_tensor(ttnn, device, values, "ROW_MAJOR"), [2, 3])
    return out, values.repeat_interleave(2, dim=1).repeat_interleave(3, dim=2)


@case("audit: matmul with mismatched inner dimensions")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a = _device_tensor(ttnn, device, _randn(generator, 1, 1, 64, 64))
    b = _device_tensor(ttnn, device, _randn(generator, 1, 1, 96, 32))
    return ttnn.matmul(a, b), None


@case("audit: matmul broadcasting both batch dimensions")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b = _randn(generator, 2, 1, 64, 32), _randn(generator, 1, 3, 32, 64)
    return ttnn.matmul(_device_tensor(ttnn, device, a), _device_tensor(ttnn, device, b)), a @ b


@case("audit: linear with a bias of the wrong width")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a = _device_tensor(ttnn, device, _randn(generator, 1, 1, 64, 64))
    b = _device_tensor(ttnn, device, _randn(generator, 64, 32))
    bias = _device_tensor(ttnn, device, _randn(generator, 1, 64))
    return ttnn.linear(a, b, bias=bias), None


@case("audit: add of shapes broadcast on both sides")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b = _randn(generator, 2, 1, 64, 64), _randn(generator, 1, 3, 64, 64)
    return ttnn.add(_device_tensor(ttnn, device, a), _device_tensor(ttnn, device, b)), a + b


@case("audit: add of incompatible shapes")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b = _randn(generator, 1, 1, 64, 64), _randn(generator, 1, 1, 64, 32)
    return ttnn.add(_device_tensor(ttnn, device, a), _device_tensor(ttnn, device, b)), None


@case("audit: concat of tensors of different dtypes")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a = _device_tensor(ttnn, device, _randn(generator, 1, 1, 32, 32))
    b = _device_tensor(ttnn, device, _randn(generator, 1, 1, 32, 32), dtype="bfloat8_b")
    return ttnn.concat([a, b], dim=3), None


@case("audit: reshape to a different volume")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.reshape(_device_tensor(ttnn, device, _randn(generator, 1, 1, 32, 32)), (1, 1, 32, 16)), None


@case("audit: typecast of a row-major tensor to bfloat8_b")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    tensor = _device_tensor(ttnn, device, _randn(generator, 1, 1, 32, 32), "ROW_MAJOR")
    return ttnn.typecast(tensor, ttnn.bfloat8_b), None


def _four_d(ttnn: Any, device: Any, generator: Any) -> Any:
    return _device_tensor(ttnn, device, _randn(generator, 1, 1, 32, 32))


@case("audit: concat along a dimension past the rank")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    tensor = _four_d(ttnn, device, generator)
    return ttnn.concat([tensor, tensor], dim=5), None


@case("audit: permute naming a dimension past the rank")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.permute(_four_d(ttnn, device, generator), (0, 1, 2, 7)), None


@case("audit: transpose of a dimension past the rank")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.transpose(_four_d(ttnn, device, generator), 1, 6), None


@case("audit: softmax along a dimension past the rank")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.softmax(_four_d(ttnn, device, generator), dim=5), None


@case("audit: split along a dimension past the rank")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.split(_four_d(ttnn, device, generator), 16, dim=6)[0], None


@case("audit: unsqueeze at a dimension past the rank")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.unsqueeze(_four_d(ttnn, device, generator), 7), None


@case("audit: squeeze of a dimension past the rank")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return ttnn.squeeze(_four_d(ttnn, device, generator), 6), None


@case("audit: concat along a negative dimension")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    import torch

    a, b = _randn(generator, 1, 1, 32, 32), _randn(generator, 1, 1, 32, 32)
    return ttnn.concat([_device_tensor(ttnn, device, a), _device_tensor(ttnn, device, b)], dim=-2), torch.cat(
        [a, b], -2
    )


@case("audit: matmul of a row-major operand")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a, b = _randn(generator, 1, 1, 64, 32), _randn(generator, 1, 1, 32, 64)
    return ttnn.matmul(_device_tensor(ttnn, device, a, "ROW_MAJOR"), _device_tensor(ttnn, device, b)), a @ b


@case("audit: relu of a row-major tensor")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 30, 50)
    return ttnn.relu(_device_tensor(ttnn, device, values, "ROW_MAJOR")), values.relu()


@case("audit: reshard to a shard that splits the tile")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    tensor = _device_tensor(
        ttnn, device, _randn(generator, 1, 1, 1024, 64), config=height_sharded(ttnn, 8, 4, (32, 64))
    )
    return ttnn.reshard(tensor, height_sharded(ttnn, 8, 8, (16, 64))), None


@case("audit: interleaved_to_sharded of a tensor whose shards exceed the cores")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    tensor = _device_tensor(ttnn, device, _randn(generator, 1, 1, 1024, 64))
    return ttnn.interleaved_to_sharded(tensor, height_sharded(ttnn, 4, 4, (32, 64))), None


def _wide_grid_block_sharded(ttnn: Any, kind: str) -> Any:
    """A 10x8-core L1 config of 32x32 shards: wider than a Wormhole's 8x8 compute grid, inside a Blackhole's."""
    return l1_sharded(ttnn, kind, 10, 8, (32, 32))


@case("audit: block shards on the first 2x2 cores of a 10x8 grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 64, 64)
    return _device_tensor(ttnn, device, values, config=_wide_grid_block_sharded(ttnn, "BLOCK_SHARDED")), values


@case("audit: block shards over 9 columns of a 10x8 grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 256, 288)
    return _device_tensor(ttnn, device, values, config=_wide_grid_block_sharded(ttnn, "BLOCK_SHARDED")), values


@case("audit: height shards on the first 2 cores of a 10x8 grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 64, 32)
    return _device_tensor(ttnn, device, values, config=_wide_grid_block_sharded(ttnn, "HEIGHT_SHARDED")), values


@case("audit: neg of block shards on the first 2x2 cores of a 10x8 grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 64, 64)
    tensor = _device_tensor(ttnn, device, values, config=_wide_grid_block_sharded(ttnn, "BLOCK_SHARDED"))
    return ttnn.neg(tensor), -values


@case("audit: exp of block shards on a 10x8 grid into L1 interleaved")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 64, 64)
    tensor = _device_tensor(ttnn, device, values, config=_wide_grid_block_sharded(ttnn, "BLOCK_SHARDED"))
    return ttnn.exp(tensor, memory_config=ttnn.L1_MEMORY_CONFIG), values.exp()


def _dram_staged_rows(ttnn: Any, device: Any, generator: Any, rows: int, width: int) -> tuple[Any, Any, Any]:
    """(values, the row-major rows height-sharded over the DRAM banks, an L1 height-sharded config over the compute
    grid): the traced runner's staging of an input, with ``width`` values per row."""
    values = _randn(generator, 1, 1, rows, width)
    dram, grid = device.dram_grid_size(), device.compute_with_storage_grid_size()

    def config(cores: Any, buffer_type: Any) -> Any:
        whole = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(cores.x - 1, cores.y - 1))])
        shard = ttnn.ShardSpec(whole, [-(-rows // (cores.x * cores.y)), width], ttnn.ShardOrientation.ROW_MAJOR)
        return ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, buffer_type, shard)

    staged = _device_tensor(ttnn, device, values, "ROW_MAJOR", config=config(dram, ttnn.BufferType.DRAM))
    return values, staged, config(grid, ttnn.BufferType.L1)


# A DRAM shard whose rows are not whole DRAM alignment units is staged two shards at a time: past 65535 rows the
# dataflow buffer's capacity is exceeded, and smaller shards may outgrow L1; aligned rows are not staged.
@case("audit: to_memory_config of DRAM height shards of 3-value rows, 640x640")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, staged, l1 = _dram_staged_rows(ttnn, device, generator, 409600, 3)
    return ttnn.to_memory_config(staged, l1), values


@case("audit: reshard of DRAM height shards of 16-value rows, 640x640")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, staged, l1 = _dram_staged_rows(ttnn, device, generator, 409600, 16)
    return ttnn.reshard(staged, l1), values


@case("audit: to_memory_config of DRAM height shards of 16-value rows, 640x640")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, staged, l1 = _dram_staged_rows(ttnn, device, generator, 409600, 16)
    return ttnn.to_memory_config(staged, l1), values


@case("audit: reshard of DRAM height shards of 3-value rows, 320x320")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, staged, l1 = _dram_staged_rows(ttnn, device, generator, 102400, 3)
    return ttnn.reshard(staged, l1), values


@case("audit: reshard of DRAM height shards of 32-value rows, 640x640")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, staged, l1 = _dram_staged_rows(ttnn, device, generator, 409600, 32)
    return ttnn.reshard(staged, l1), values


# issue 14: data movement of sharded inputs (transpose / permute / slice / pad / reshape), each rule once
def _sharded(ttnn: Any, kind: str, box: tuple[int, int], shard: tuple[int, int], orientation: str = "ROW_MAJOR") -> Any:
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(box[0] - 1, box[1] - 1))])
    spec = ttnn.ShardSpec(grid, list(shard), getattr(ttnn.ShardOrientation, orientation))
    return ttnn.MemoryConfig(getattr(ttnn.TensorMemoryLayout, f"{kind}_SHARDED"), ttnn.BufferType.L1, spec)


def _sharded_input(
    ttnn: Any, device: Any, generator: Any, shape: tuple[int, ...], layout: LayoutName, config: Any
) -> tuple[Any, Any]:
    values = _randn(generator, *shape)
    return values, _device_tensor(ttnn, device, values, layout, config=config)


@case("transpose WH of a height-sharded single slice with full-width shards turns width sharded")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (1, 1, 256, 64), "TILE", _sharded(ttnn, "HEIGHT", (4, 2), (32, 64))
    )
    return ttnn.transpose(x, 2, 3), values.transpose(2, 3)


@case("transpose WH of a height-sharded batch scales the shard")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (2, 1, 64, 32), "TILE", _sharded(ttnn, "HEIGHT", (4, 1), (32, 32))
    )
    return ttnn.transpose(x, -2, -1), values.transpose(-2, -1)


@case("transpose CW of a block-sharded input spreads the output over the compute grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (8, 6), (64, 32), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (1, 3, 100, 1), "TILE", config)
    return ttnn.transpose(x, 1, 3), values.transpose(1, 3)


@case("permute 0312 of a block-sharded input, composed of transposes")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (2, 4), (64, 32), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (1, 3, 31, 32), "TILE", config)
    return ttnn.permute(x, (0, 3, 1, 2)), values.permute(0, 3, 1, 2)


@case("permute 3210 of a width-sharded input scales its shard")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "WIDTH", (4, 2), (64, 32), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (2, 1, 32, 8), "TILE", config)
    return ttnn.permute(x, (3, 2, 1, 0)), values.permute(3, 2, 1, 0)


@case("permute 3210 of a height-sharded input spreads the output over the compute grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (8, 4), (32, 64), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 33, 45), "TILE", config)
    return ttnn.permute(x, (3, 2, 1, 0)), values.permute(3, 2, 1, 0)


@case("transpose WH of a row-major height-sharded input with partial-tile shards")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (5, 3), (13, 16))
    values, x = _sharded_input(ttnn, device, generator, (1, 3, 64, 16), "ROW_MAJOR", config)
    return ttnn.transpose(x, -2, -1), values.transpose(-2, -1)


@case("transpose HC of a row-major height-sharded input keeps its shard")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (5, 3), (7, 32))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 100, 32), "ROW_MAJOR", config)
    return ttnn.transpose(x, 1, 2), values.transpose(1, 2)


@case("slice of a row-major height-sharded input keeps as many shards")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (8, 4), (2, 32))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 64, 32), "ROW_MAJOR", config)
    return ttnn.slice(x, [0, 0, 42, 8], [1, 1, 52, 24]), values[:, :, 42:52, 8:24]


@case("slice of a width-sharded tile input keeps as many shards")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "WIDTH", (5, 3), (96, 32), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (1, 3, 5, 45), "TILE", config)
    return ttnn.slice(x, [0, 0, 0, 32], [1, 3, 4, 44]), values[:, :, 0:4, 32:44]


@case("getitem of a block-sharded row-major input keeps its sharding")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (1, 1), (6, 48), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (2, 3, 1, 48), "ROW_MAJOR", config)
    return x[0, 1:3, 0, :], values[0, 1:3, 0, :]


@case("pad of a height-sharded tile input beyond its tile padding")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (8, 8), (32, 32))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 32, 7), "TILE", config)
    return ttnn.pad(x, [[0, 0], [0, 0], [0, 32], [0, 9]], 0.0), None


@case("pad of a row-major height-sharded input with rows not L1 aligned")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (8, 1), (1, 45))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 5, 45), "ROW_MAJOR", config)
    return ttnn.pad(x, [[0, 0], [0, 0], [0, 3], [0, 1]], 0.0), None


@case("pad of nothing keeps a sharded input as it is")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (4, 2), (32, 32))
    values, x = _sharded_input(ttnn, device, generator, (2, 1, 5, 31), "TILE", config)
    return ttnn.pad(x, [[0, 0], [0, 0], [0, 0], [0, 0]], 0.0), values


@case("unsqueeze of a block-sharded input trims the grid to the shards it fills")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (8, 8), (32, 32), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (1, 100, 16), "TILE", config)
    return ttnn.unsqueeze(x, -1), values.unsqueeze(-1)


@case("unsqueeze of a row-major block-sharded input whose rows are padded to whole shards")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (8, 6), (5, 2), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (1, 33, 7), "ROW_MAJOR", config)
    return ttnn.unsqueeze(x, 1), None


@case("squeeze of a row-major block-sharded input whose rows are padded to whole shards")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (2, 4), (2, 16))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 5, 31), "ROW_MAJOR", config)
    return ttnn.squeeze(x, 0), values.squeeze(0)


@case("split of a block-sharded input into equal pieces keeps its sharding, the shard scaled to a piece")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (8, 4), (9, 4))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 33, 32), "ROW_MAJOR", config)
    return ttnn.split(x, 16, 3)[1], values[..., 16:32]


@case("split of a height-sharded input into unequal pieces lands in DRAM")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (4, 2), (32, 64))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 64, 45), "TILE", config)
    return ttnn.split(x, 32, 3)[1], values[..., 32:45]


@case("sigmoid of a row-major width-sharded input padded to whole shards keeps the padding when interleaved")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "WIDTH", (8, 8), (64, 32))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 64, 45), "ROW_MAJOR", config)
    return ttnn.sigmoid(x, memory_config=ttnn.L1_MEMORY_CONFIG), values.sigmoid()


# typecast copies a ROW_MAJOR sharded tensor page by page: pages (shard rows) whole L1 units, as many elements out
@case("audit: typecast of ROW_MAJOR width shards of 4-byte rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 32, 16)
    config = l1_sharded(ttnn, "WIDTH_SHARDED", 8, 1, (32, 2))
    return ttnn.typecast(_device_tensor(ttnn, device, values, "ROW_MAJOR", config=config), ttnn.float32), values


@case("audit: typecast of ROW_MAJOR width shards of 16-byte rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 32, 64)
    config = l1_sharded(ttnn, "WIDTH_SHARDED", 8, 1, (32, 8))
    return ttnn.typecast(_device_tensor(ttnn, device, values, "ROW_MAJOR", config=config), ttnn.float32), values


@case("audit: typecast of ROW_MAJOR block shards into shards of other widths")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 64, 96)
    tensor = _device_tensor(ttnn, device, values, "ROW_MAJOR", config=l1_sharded(ttnn, "BLOCK_SHARDED", 1, 8, (8, 96)))
    output = l1_sharded(ttnn, "BLOCK_SHARDED", 8, 1, (64, 12))
    return ttnn.typecast(tensor, ttnn.float32, memory_config=output), values


@case("split in two of a batched block-sharded TILE input with tile padding, the second piece inside a tile")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (1, 2), (32, 32))
    values, x = _sharded_input(ttnn, device, generator, (2, 1, 31, 32), "TILE", config)
    return ttnn.split(x, 16, 3)[1], values[..., 16:32]


@case("split in two of a batched width-sharded TILE input with tile padding, the second piece inside a tile")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "WIDTH", (1, 1), (96, 32))
    values, x = _sharded_input(ttnn, device, generator, (1, 3, 32, 16), "TILE", config)
    return ttnn.split(x, 16, 2)[1], values[..., 16:32, :]


@case("split in two of a batched block-sharded TILE input without tile padding lands in DRAM")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (1, 2), (32, 32))
    values, x = _sharded_input(ttnn, device, generator, (2, 1, 32, 32), "TILE", config)
    return ttnn.split(x, 16, 3)[1], values[..., 16:32]


@case("split in three of a batched block-sharded TILE input with tile padding lands in DRAM")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (1, 2), (32, 32))
    values, x = _sharded_input(ttnn, device, generator, (2, 1, 31, 32), "TILE", config)
    return ttnn.split(x, 11, 3)[1], values[..., 11:22]


@case("slice of a row-major block-sharded input over a COL_MAJOR grid shares the output over the grid's rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (4, 2), (16, 1), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (2, 1, 32, 1), "ROW_MAJOR", config)
    return ttnn.slice(x, [0, 0, 25, 0], [2, 1, 30, 1], [1, 1, 2, 1]), values[:, :, 25:30:2, :]


@case("slice of a row-major block-sharded input that overfills its COL_MAJOR grid's columns")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (2, 4), (50, 16), "COL_MAJOR")
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 100, 64), "ROW_MAJOR", config)
    return ttnn.slice(x, [0, 0, 73, 26], [1, 1, 90, 63]), values[:, :, 73:90, 26:63]


@case("unsqueeze of a row-major width-sharded input padded to its one shard's width")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "WIDTH", (5, 3), (96, 48))
    values, x = _sharded_input(ttnn, device, generator, (3, 32, 1), "ROW_MAJOR", config)
    return ttnn.unsqueeze(x, 2), values.unsqueeze(2)


@case("unsqueeze of a row-major block-sharded input padded to its one shard's width, rows no longer whole")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "BLOCK", (5, 3), (100, 50))
    values, x = _sharded_input(ttnn, device, generator, (3, 100, 32), "ROW_MAJOR", config)
    return ttnn.unsqueeze(x, 0), values.unsqueeze(0)


@case("reshape of a row-major height-sharded input padded to its shard's width into whole rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (8, 1), (1, 32))
    values, x = _sharded_input(ttnn, device, generator, (2, 1, 1, 16), "ROW_MAJOR", config)
    return ttnn.reshape(x, (2, 1, 16)), values.reshape(2, 1, 16)


@case("typecast of a row-major height-sharded input whose shard rows are not whole L1 alignment units")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (1, 1, 64, 45), "ROW_MAJOR", _sharded(ttnn, "HEIGHT", (2, 1), (32, 45))
    )
    return ttnn.typecast(x, ttnn.float32), values


@case("typecast of a row-major height-sharded input whose shard rows are whole L1 alignment units")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (1, 1, 64, 48), "ROW_MAJOR", _sharded(ttnn, "HEIGHT", (2, 1), (32, 48))
    )
    return ttnn.typecast(x, ttnn.float32), values


@case("softmax of a row-major height-sharded input whose shards are not whole tiles")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (1, 1, 64, 32), "ROW_MAJOR", _sharded(ttnn, "HEIGHT", (4, 1), (16, 32))
    )
    return ttnn.softmax(x, dim=-1, memory_config=ttnn.L1_MEMORY_CONFIG), values.softmax(-1)


@case("softmax of a row-major height-sharded input in whole-tile shards")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (1, 1, 64, 32), "ROW_MAJOR", _sharded(ttnn, "HEIGHT", (2, 1), (32, 32))
    )
    return ttnn.softmax(x, dim=-1, memory_config=ttnn.L1_MEMORY_CONFIG), values.softmax(-1)


@case("matmul of a block-sharded input into a height-sharded output")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a_values, a = _sharded_input(
        ttnn, device, generator, (2, 1, 64, 64), "TILE", _sharded(ttnn, "BLOCK", (1, 1), (128, 64))
    )
    b_values = _randn(generator, 1, 1, 64, 32)
    b = _device_tensor(ttnn, device, b_values, config=ttnn.DRAM_MEMORY_CONFIG)
    out = ttnn.matmul(a, b, memory_config=_sharded(ttnn, "HEIGHT", (1, 1), (128, 32), "COL_MAJOR"))
    return out, a_values @ b_values


@case("to_memory_config of a row-major tensor to another memory config with another dtype")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 32, 64)
    x = _device_tensor(ttnn, device, values, "ROW_MAJOR", config=ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.to_memory_config(x, ttnn.L1_MEMORY_CONFIG, dtype=ttnn.float32), values


@case("to_memory_config of a row-major tensor to its own memory config with another dtype")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 32, 64)
    x = _device_tensor(ttnn, device, values, "ROW_MAJOR", config=ttnn.L1_MEMORY_CONFIG)
    return ttnn.to_memory_config(x, ttnn.L1_MEMORY_CONFIG, dtype=ttnn.float32), values


@case("permute of a row-major tensor into a height-sharded output whose shard rows are not whole alignment units")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 2, 1, 8, 24)
    x = _device_tensor(ttnn, device, values, "ROW_MAJOR", config=ttnn.DRAM_MEMORY_CONFIG)
    out = ttnn.permute(x, (0, 2, 1, 3), memory_config=_sharded(ttnn, "HEIGHT", (2, 1), (8, 25)))
    return out, values.permute(0, 2, 1, 3)


@case("clone of a height-sharded input into another height-sharded config")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (1, 3, 32, 32), "TILE", _sharded(ttnn, "HEIGHT", (3, 1), (32, 32))
    )
    return ttnn.clone(x, memory_config=_sharded(ttnn, "HEIGHT", (1, 1), (96, 32))), values


@case("clone of a height-sharded input into its own config")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    config = _sharded(ttnn, "HEIGHT", (3, 1), (32, 32))
    values, x = _sharded_input(ttnn, device, generator, (1, 3, 32, 32), "TILE", config)
    return ttnn.clone(x, memory_config=config), values


@case("to_layout row-major of a batched width-sharded TILE input with tile padding, written interleaved")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (2, 1, 64, 1), "TILE", _sharded(ttnn, "WIDTH", (1, 1), (128, 32))
    )
    return ttnn.to_layout(x, ttnn.ROW_MAJOR_LAYOUT, memory_config=ttnn.DRAM_MEMORY_CONFIG), values


@case("to_layout row-major of a batched width-sharded TILE input with tile padding, kept sharded")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (2, 1, 64, 1), "TILE", _sharded(ttnn, "WIDTH", (1, 1), (128, 32))
    )
    return ttnn.to_layout(x, ttnn.ROW_MAJOR_LAYOUT), values


@case("matmul of a batched interleaved input into a width-sharded output")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a_values, b_values = _randn(generator, 2, 1, 32, 32), _randn(generator, 1, 1, 32, 32)
    a = _device_tensor(ttnn, device, a_values, config=ttnn.L1_MEMORY_CONFIG)
    b = _device_tensor(ttnn, device, b_values, config=ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.matmul(a, b, memory_config=_sharded(ttnn, "WIDTH", (1, 1), (64, 32))), a_values @ b_values


@case("matmul of a batched interleaved input into a height-sharded output over more cores than a batch's tiles")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a_values, b_values = _randn(generator, 2, 1, 64, 32), _randn(generator, 1, 1, 32, 64)
    a = _device_tensor(ttnn, device, a_values, config=ttnn.L1_MEMORY_CONFIG)
    b = _device_tensor(ttnn, device, b_values, config=ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.matmul(a, b, memory_config=_sharded(ttnn, "HEIGHT", (4, 1), (32, 64))), a_values @ b_values


@case("matmul of a batched interleaved input into a block-sharded output")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    a_values, b_values = _randn(generator, 2, 1, 64, 32), _randn(generator, 1, 1, 32, 64)
    a = _device_tensor(ttnn, device, a_values, config=ttnn.L1_MEMORY_CONFIG)
    b = _device_tensor(ttnn, device, b_values, config=ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.matmul(a, b, memory_config=_sharded(ttnn, "BLOCK", (2, 2), (64, 32))), a_values @ b_values


# held-out differential seed 21: calls the emulator accepted and ttnn 0.81 refuses, and their accepted neighbours
def _row_major_float32(ttnn: Any, device: Any, generator: Any, shape: tuple[int, ...]) -> tuple[Any, Any]:
    values = _randn(generator, *shape)
    tensor = ttnn.from_torch(
        values, dtype=ttnn.float32, layout=ttnn.ROW_MAJOR_LAYOUT, device=device, memory_config=ttnn.L1_MEMORY_CONFIG
    )
    return values, tensor


@case("reshape of ROW_MAJOR rows into width shards that pad the new rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    # ttnn moves the rows into the shards, padded to whole shards, then views them unpadded: refused
    _, x = _row_major_float32(ttnn, device, generator, (1, 1, 31, 64))
    return ttnn.reshape(x, (1, 1, 64, 31), memory_config=_sharded(ttnn, "WIDTH", (4, 2), (31, 8))), None


@case("reshape of ROW_MAJOR rows into width shards that divide the new rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _row_major_float32(ttnn, device, generator, (1, 1, 32, 64))
    out = ttnn.reshape(x, (1, 1, 64, 32), memory_config=_sharded(ttnn, "WIDTH", (4, 2), (32, 8)))
    return out, values.reshape(1, 1, 64, 32)


@case("split of a height-sharded input into more than 64 equal pieces")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    # ttnn first cuts 64 pieces at once in the pieces' config, whose shard is one piece wide: refused
    _, x = _sharded_input(
        ttnn, device, generator, (1, 1, 8, 66), "ROW_MAJOR", _sharded(ttnn, "HEIGHT", (1, 1), (8, 66))
    )
    return ttnn.split(x, 1, 3)[0], None


@case("split of a height-sharded input into 64 equal pieces")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _sharded_input(
        ttnn, device, generator, (1, 1, 8, 64), "ROW_MAJOR", _sharded(ttnn, "HEIGHT", (1, 1), (8, 64))
    )
    return ttnn.split(x, 1, 3)[5], values[..., 5:6]


def _untilized_concat(ttnn: Any, device: Any, generator: Any, first: Any, second: Any, output: Any = None) -> Outcome:
    """concat along a tile-padded height (5 rows, then 64), which ttnn untilizes the inputs for."""
    import torch

    a_values, a = _sharded_input(ttnn, device, generator, (1, 1, 5, 64), "TILE", first)
    b_values, b = _sharded_input(ttnn, device, generator, (1, 1, 64, 64), "TILE", second)
    return ttnn.concat([a, b], 2, memory_config=output or ttnn.DRAM_MEMORY_CONFIG), torch.cat([a_values, b_values], 2)


@case("concat untilized: an interleaved first input and a width-sharded one")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    second = _sharded(ttnn, "WIDTH", (2, 1), (64, 32))
    return _untilized_concat(ttnn, device, generator, ttnn.L1_MEMORY_CONFIG, second)


@case("concat untilized: a height-sharded first input and a DRAM one")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    first = _sharded(ttnn, "HEIGHT", (1, 1), (32, 64))
    return _untilized_concat(ttnn, device, generator, first, ttnn.DRAM_MEMORY_CONFIG)


@case("concat untilized: a width-sharded first input and an L1-interleaved one")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    first = _sharded(ttnn, "WIDTH", (2, 1), (32, 32))
    return _untilized_concat(ttnn, device, generator, first, ttnn.L1_MEMORY_CONFIG)


@case("concat untilized: a width-sharded first input and a DRAM one")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    first = _sharded(ttnn, "WIDTH", (2, 1), (32, 32))
    return _untilized_concat(ttnn, device, generator, first, ttnn.DRAM_MEMORY_CONFIG)


@case("concat untilized: a width-sharded first input and a block-sharded one")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    first = _sharded(ttnn, "WIDTH", (2, 1), (32, 32))
    second = _sharded(ttnn, "BLOCK", (2, 1), (64, 32))
    return _untilized_concat(ttnn, device, generator, first, second)


def _past_the_compute_grid(ttnn: Any, device: Any, generator: Any, shape: tuple[int, ...], layout: LayoutName) -> Any:
    """A block-sharded tensor whose grid names cores past both chips' compute grids (its shards sit on cores that
    exist)."""
    return _sharded_input(ttnn, device, generator, shape, layout, _sharded(ttnn, "BLOCK", (14, 2), (32, 32)))


@case("to_layout row-major of a block-sharded input on a grid past the compute grid, with tile padding")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    # stripping the padding runs on the input's whole shard grid: refused
    _, x = _past_the_compute_grid(ttnn, device, generator, (1, 1, 33, 64), "TILE")
    return ttnn.to_layout(x, ttnn.ROW_MAJOR_LAYOUT, memory_config=ttnn.DRAM_MEMORY_CONFIG), None


@case("to_layout row-major of a block-sharded input on a grid past the compute grid, kept sharded")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    _, x = _past_the_compute_grid(ttnn, device, generator, (1, 1, 64, 64), "TILE")
    return ttnn.to_layout(x, ttnn.ROW_MAJOR_LAYOUT), None


@case("to_layout row-major of a block-sharded input on a grid past the compute grid, whole tiles into DRAM")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _past_the_compute_grid(ttnn, device, generator, (1, 1, 64, 64), "TILE")
    return ttnn.to_layout(x, ttnn.ROW_MAJOR_LAYOUT, memory_config=ttnn.DRAM_MEMORY_CONFIG), values


@case("to_layout tile of a block-sharded input on a grid past the compute grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _past_the_compute_grid(ttnn, device, generator, (1, 1, 64, 64), "ROW_MAJOR")
    return ttnn.to_layout(x, ttnn.TILE_LAYOUT), values


def _unaligned_rows_concat(ttnn: Any, device: Any, generator: Any, output: Any) -> Outcome:
    """concat along the last dim of rows 32 and 7 wide (a 7-wide bfloat16 row does not end on the alignment)."""
    import torch

    a_values, b_values = _randn(generator, 1, 3, 5, 32), _randn(generator, 1, 3, 5, 7)
    a = _device_tensor(ttnn, device, a_values, config=ttnn.DRAM_MEMORY_CONFIG)
    b = _device_tensor(ttnn, device, b_values, config=ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.concat([a, b], -1, memory_config=output), torch.cat([a_values, b_values], -1)


@case("concat of unaligned rows into a block-sharded output too short for the transposed rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    # joined transposed, as [1, 3, 39, 5] rows: 4 shards of 32 along a height the 3 grid rows cannot hold
    return _unaligned_rows_concat(ttnn, device, generator, _sharded(ttnn, "BLOCK", (5, 3), (32, 32)))


@case("concat of unaligned rows into a block-sharded output that holds the transposed rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _unaligned_rows_concat(ttnn, device, generator, _sharded(ttnn, "BLOCK", (2, 4), (32, 32)))


def _sharded_typecast(ttnn: Any, device: Any, generator: Any, output: Any) -> Outcome:
    """typecast of a height-sharded uint32 tile tensor (two cores) to int32 into a sharded ``output``."""
    import torch

    values = (_randn(generator, 1, 1, 64, 64).abs() * 10).to(torch.int32)
    x = ttnn.from_torch(
        values, dtype=ttnn.uint32, layout=ttnn.TILE_LAYOUT, device=device,
        memory_config=_sharded(ttnn, "HEIGHT", (2, 1), (32, 64)),
    )  # fmt: skip
    return ttnn.typecast(x, ttnn.int32, memory_config=output), values


@case("typecast of a sharded tile tensor into a sharded output on fewer cores")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _sharded_typecast(ttnn, device, generator, _sharded(ttnn, "HEIGHT", (1, 1), (64, 64)))


@case("typecast of a sharded tile tensor into a sharded output on as many other cores")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 1), ttnn.CoreCoord(1, 1))])
    output = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, [32, 64], ttnn.ShardOrientation.ROW_MAJOR),
    )
    return _sharded_typecast(ttnn, device, generator, output)


@case("typecast of a sharded tile tensor to another tile size into a sharded output on fewer cores")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values = _randn(generator, 1, 1, 64, 64)
    x = _device_tensor(ttnn, device, values, config=_sharded(ttnn, "HEIGHT", (2, 1), (32, 64)))
    return ttnn.typecast(x, ttnn.float32, memory_config=_sharded(ttnn, "HEIGHT", (1, 1), (64, 64))), values


def _block_on_wide_grid(
    ttnn: Any, device: Any, generator: Any, box: tuple[int, int], orientation: str
) -> tuple[Any, Any]:
    """A 64x64 tile tensor block sharded on a grid of ``box`` cores, which may name cores past the compute grid (its
    four shards sit on cores that exist)."""
    config = _sharded(ttnn, "BLOCK", box, (32, 32), orientation)
    return _sharded_input(ttnn, device, generator, (1, 1, 64, 64), "TILE", config)


# runtime args go to the grid's cores in shard orientation order, as many as the compute grid has (n150 8x8,
# p150 13x10): past the compute grid among them, ttnn refuses (a binary op's refusal names an uninitialised count,
# or the process crashes: no case records it)
@case("neg of a block-sharded input on a 14x2 row-major grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _block_on_wide_grid(ttnn, device, generator, (14, 2), "ROW_MAJOR")
    return ttnn.neg(x), -values


@case("neg of a block-sharded input on a 10x8 column-major grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _block_on_wide_grid(ttnn, device, generator, (10, 8), "COL_MAJOR")
    return ttnn.neg(x), -values


@case("neg of a block-sharded input on an 8x10 column-major grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _block_on_wide_grid(ttnn, device, generator, (8, 10), "COL_MAJOR")
    return ttnn.neg(x), -values


@case("neg of a block-sharded input on a 14x2 row-major grid into an interleaved output")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _block_on_wide_grid(ttnn, device, generator, (14, 2), "ROW_MAJOR")
    return ttnn.neg(x, memory_config=ttnn.L1_MEMORY_CONFIG), -values


@case("subtract a scalar from a block-sharded input on a 10x8 column-major grid")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    values, x = _block_on_wide_grid(ttnn, device, generator, (10, 8), "COL_MAJOR")
    return ttnn.subtract(x, 2.0), values - 2.0


@case("concat of unaligned ROW_MAJOR rows: a width-sharded row and a DRAM one")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    # joined through transposes, which leave the width-sharded row an interleaved column: no mix left
    import torch

    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(0, 7))])
    config = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.WIDTH_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, [1, 4], ttnn.ShardOrientation.COL_MAJOR),
    )
    a_values, a = _sharded_input(ttnn, device, generator, (1, 1, 1, 31), "ROW_MAJOR", config)
    b_values, b = _sharded_input(ttnn, device, generator, (1, 1, 1, 1), "ROW_MAJOR", ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.concat([a, b], -1), torch.cat([a_values, b_values], -1)


@case("concat of unaligned ROW_MAJOR rows: a block-sharded input and a height-sharded one")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    # the transposes leave the first interleaved and the second height sharded: refused
    a_config = _sharded(ttnn, "BLOCK", (8, 1), (75, 7), "COL_MAJOR")
    b_config = _sharded(ttnn, "HEIGHT", (4, 2), (75, 1))
    _, a = _sharded_input(ttnn, device, generator, (2, 3, 100, 7), "ROW_MAJOR", a_config)
    _, b = _sharded_input(ttnn, device, generator, (2, 3, 100, 1), "ROW_MAJOR", b_config)
    return ttnn.concat([a, b], 3), None


def _row_join_after_sharded_first(
    ttnn: Any, device: Any, generator: Any, kind: str, second_width: int, output: str
) -> Outcome:
    """ROW_MAJOR rows of a 1x1x64x64 ``kind``-sharded input on two cores joined on the last dim with an L1-interleaved
    one of ``second_width`` (aligned rows: joined as they are) into an ``output`` (DRAM or L1) interleaved tensor."""
    import torch

    shard = {"HEIGHT": (32, 64), "WIDTH": (64, 32)}[kind]
    a_values, a = _sharded_input(
        ttnn, device, generator, (1, 1, 64, 64), "ROW_MAJOR", _sharded(ttnn, kind, (2, 1), shard)
    )
    b_values, b = _sharded_input(ttnn, device, generator, (1, 1, 64, second_width), "ROW_MAJOR", ttnn.L1_MEMORY_CONFIG)
    config = getattr(ttnn, f"{output}_MEMORY_CONFIG")
    return ttnn.concat([a, b], -1, memory_config=config), torch.cat([a_values, b_values], -1)


# after a height-sharded first input ttnn reads the L1-interleaved one's (absent) shard spec; after a width-sharded one
# an L1-interleaved row must end on the output buffer's alignment (DRAM: 32 bytes on n150, 64 on p150)
@case("concat of ROW_MAJOR rows: height-sharded first, L1-interleaved 16-byte rows")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _row_join_after_sharded_first(ttnn, device, generator, "HEIGHT", 8, "DRAM")


@case("concat of ROW_MAJOR rows: width-sharded first, L1-interleaved 16-byte rows into DRAM")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _row_join_after_sharded_first(ttnn, device, generator, "WIDTH", 8, "DRAM")


@case("concat of ROW_MAJOR rows: width-sharded first, L1-interleaved 32-byte rows into DRAM")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _row_join_after_sharded_first(ttnn, device, generator, "WIDTH", 16, "DRAM")


@case("concat of ROW_MAJOR rows: width-sharded first, L1-interleaved 16-byte rows into L1")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _row_join_after_sharded_first(ttnn, device, generator, "WIDTH", 8, "L1")


def _shard_padded_row_join(
    ttnn: Any, device: Any, generator: Any, width: int, cores: int, second_width: int
) -> Outcome:
    """A 1x1x1x``width`` ROW_MAJOR row width-sharded in 4-value shards over ``cores`` cores (shard-padded when
    4 * cores > width) joined on the last dim with a DRAM row of ``second_width``."""
    import torch

    a_values, a = _sharded_input(
        ttnn, device, generator, (1, 1, 1, width), "ROW_MAJOR", _sharded(ttnn, "WIDTH", (cores, 1), (1, 4))
    )
    b_values, b = _sharded_input(ttnn, device, generator, (1, 1, 1, second_width), "ROW_MAJOR", ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.concat([a, b], -1), torch.cat([a_values, b_values], -1)


# ttnn picks the join on the padded widths: 31 values padded to 32 by the shards look aligned, and are then refused
@case("concat of a shard-padded width-sharded row (31 of 32) and an aligned DRAM row")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _shard_padded_row_join(ttnn, device, generator, 31, 8, 64)


@case("concat of an exactly width-sharded row (28 of 28) and an aligned DRAM row")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _shard_padded_row_join(ttnn, device, generator, 28, 7, 64)


@case("concat of a shard-padded width-sharded row (31 of 32) and an unaligned DRAM row")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _shard_padded_row_join(ttnn, device, generator, 31, 8, 3)


def _block_row_join_through_transposes(ttnn: Any, device: Any, generator: Any, width: int) -> Outcome:
    """A 1x1x64x``width`` ROW_MAJOR input block-sharded on 2x2 cores joined on the last dim with an L1-interleaved row
    of 3 values: unaligned rows, joined through transposes."""
    import torch

    config = _sharded(ttnn, "BLOCK", (2, 2), (32, width // 2))
    a_values, a = _sharded_input(ttnn, device, generator, (1, 1, 64, width), "ROW_MAJOR", config)
    b_values, b = _sharded_input(ttnn, device, generator, (1, 1, 64, 3), "ROW_MAJOR", ttnn.L1_MEMORY_CONFIG)
    return ttnn.concat([a, b], -1), torch.cat([a_values, b_values], -1)


# transposed, a 64x64 block-sharded input stays block sharded (refused next to an L1-interleaved one), a 64x62 one
# becomes interleaved (taken)
@case("concat through transposes of a block-sharded 64x64 input and an L1-interleaved row")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _block_row_join_through_transposes(ttnn, device, generator, 64)


@case("concat through transposes of a block-sharded 64x62 input and an L1-interleaved row")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _block_row_join_through_transposes(ttnn, device, generator, 62)


def _row_slice_into_height_shards(ttnn: Any, device: Any, generator: Any, width: int) -> Outcome:
    """The first ``width`` values of the rows of a 1x1x64x80 ROW_MAJOR input height-sharded in [32, 80] shards,
    sliced into that same config."""
    config = _sharded(ttnn, "HEIGHT", (2, 1), (32, 80))
    values, x = _sharded_input(ttnn, device, generator, (1, 1, 64, 80), "ROW_MAJOR", config)
    return ttnn.slice(x, [0, 0, 0, 0], [1, 1, 64, width], memory_config=config), values[..., :width]


# the output buffer holds the rows at the shard width (64 x 80 values) in pages of the sliced width
@case("slice 65 of 80 ROW_MAJOR values into [32, 80] height shards")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _row_slice_into_height_shards(ttnn, device, generator, 65)


@case("slice 20 of 80 ROW_MAJOR values into [32, 80] height shards")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _row_slice_into_height_shards(ttnn, device, generator, 20)


def _bilinear_of_height_sharded_tiles(
    ttnn: Any, device: Any, generator: Any, shape: tuple[int, int, int, int], cores: int
) -> Outcome:
    """Bilinear upsample (x2) of a TILE [N, H, W, 32] input height-sharded over ``cores`` cores of one row."""
    n, h, w, c = shape
    padded_rows = n * h * -(-w // 32) * 32
    config = _sharded(ttnn, "HEIGHT", (cores, 1), (padded_rows // cores, c))
    _, x = _sharded_input(ttnn, device, generator, shape, "TILE", config)
    return ttnn.upsample(x, 2, mode="bilinear"), None


# a tile-padded width with several image rows: the halo's shards cannot span its output (on one core ttnn crashes)
@case("bilinear upsample of a tile-padded [2, 1, 4, 32] TILE input on 2 cores")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _bilinear_of_height_sharded_tiles(ttnn, device, generator, (2, 1, 4, 32), 2)


@case("bilinear upsample of a tile-padded [1, 1, 4, 32] TILE input on 1 core")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _bilinear_of_height_sharded_tiles(ttnn, device, generator, (1, 1, 4, 32), 1)


@case("bilinear upsample of a whole-tile [2, 1, 32, 32] TILE input on 2 cores")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _bilinear_of_height_sharded_tiles(ttnn, device, generator, (2, 1, 32, 32), 2)


@case("bilinear upsample of a [1, 2, 16, 32] TILE input (half its padded width) on 2 cores")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _bilinear_of_height_sharded_tiles(ttnn, device, generator, (1, 2, 16, 32), 2)


@case("bilinear upsample of a [1, 2, 17, 32] TILE input (over half its padded width) on 2 cores")
def _(ttnn: Any, device: Any, generator: Any) -> Outcome:
    return _bilinear_of_height_sharded_tiles(ttnn, device, generator, (1, 2, 17, 32), 2)
