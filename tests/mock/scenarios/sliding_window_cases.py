"""max_pool2d and conv2d calls whose output placement ttnn's sliding-window planners decide, run the same way on the
real ttnn (mocked chips) and on the emulator.

Shared by ``sliding_window_plans.py`` (the scenario that records what real ttnn answers) and
``test_sliding_window_plans.py``, so both backends run exactly the same calls. The cases are a grid over what the
planners' rules read: channel counts around the half-tile and tile boundaries, row counts below and above a tile,
layouts, the sharding scheme asked for (or none), and sharded inputs whose shard width, height and orientation decide
whether a conv must reshard. Each case returns the output tensor and the torch result it must hold.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Outcome = tuple[Any, Any]  # (output ttnn.Tensor, expected torch.Tensor)
LayoutName = Literal["TILE", "ROW_MAJOR"]
SchemeName = Literal["HEIGHT_SHARDED", "WIDTH_SHARDED", "BLOCK_SHARDED"]
SCHEMES: tuple[SchemeName, ...] = ("HEIGHT_SHARDED", "WIDTH_SHARDED", "BLOCK_SHARDED")


@dataclass(frozen=True)
class Geometry:
    """An NHW image and a square window."""

    batch: int
    height: int
    width: int
    kernel: int
    stride: int

    @property
    def rows(self) -> int:
        return self.batch * self.height * self.width


@dataclass(frozen=True)
class InputPlacement:
    """Where a case's [1, 1, N*H*W, C] input lives: interleaved in ``buffer``, or sharded ``scheme`` over
    ``cores`` cores of row 0 (block: a 1 x cores grid) with ``shard`` rows x channels."""

    buffer: Literal["L1", "DRAM"] = "L1"
    scheme: SchemeName | None = None
    cores: int = 1
    shard: tuple[int, int] = (0, 0)
    orientation: Literal["ROW_MAJOR", "COL_MAJOR"] = "ROW_MAJOR"

    def memory_config(self, ttnn: Any) -> Any:
        buffer = getattr(ttnn.BufferType, self.buffer)
        if self.scheme is None:
            return ttnn.MemoryConfig(ttnn.TensorMemoryLayout.INTERLEAVED, buffer)
        grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(self.cores - 1, 0))])
        spec = ttnn.ShardSpec(grid, list(self.shard), getattr(ttnn.ShardOrientation, self.orientation))
        return ttnn.MemoryConfig(getattr(ttnn.TensorMemoryLayout, self.scheme), buffer, spec)


@dataclass(frozen=True)
class SlidingWindowCase:
    name: str
    run: Callable[[Any, Any, Any], Outcome]  # (ttnn namespace, device, torch.Generator) -> Outcome


CASES: list[SlidingWindowCase] = []


def _input(ttnn: Any, device: Any, values: Any, layout: LayoutName, placement: InputPlacement) -> Any:
    flat = values.permute(0, 2, 3, 1).reshape(1, 1, -1, values.shape[1])
    return ttnn.from_torch(
        flat,
        dtype=ttnn.bfloat16,
        layout=getattr(ttnn, f"{layout}_LAYOUT"),
        device=device,
        memory_config=placement.memory_config(ttnn),
    )


def _flatten(nchw: Any) -> Any:
    return nchw.permute(0, 2, 3, 1).reshape(1, 1, -1, nchw.shape[1])


# ---------------------------------------------------------------- max_pool2d


def _pool_case(
    geometry: Geometry,
    channels: int,
    layout: LayoutName,
    placement: InputPlacement = InputPlacement(),
    scheme: SchemeName | None = None,
    output_layout: LayoutName = "ROW_MAJOR",
    ceil_mode: bool = False,
) -> None:
    g = geometry
    name = (
        f"max_pool2d {g.batch}x{g.height}x{g.width}x{channels} k{g.kernel}s{g.stride} {layout} "
        f"{placement.scheme or placement.buffer} applied={scheme} out={output_layout}{' ceil' if ceil_mode else ''}"
    )

    def run(ttnn: Any, device: Any, generator: Any) -> Outcome:
        import torch

        values = torch.randn(g.batch, channels, g.height, g.width, generator=generator)
        kwargs: dict[str, Any] = {}
        if scheme is not None:
            kwargs["applied_shard_scheme"] = getattr(ttnn.TensorMemoryLayout, scheme)
        if output_layout != "ROW_MAJOR":
            kwargs["output_layout"] = getattr(ttnn, f"{output_layout}_LAYOUT")
        pad = g.kernel // 2
        out = ttnn.max_pool2d(
            _input(ttnn, device, values, layout, placement),
            g.batch,
            g.height,
            g.width,
            channels,
            [g.kernel, g.kernel],
            [g.stride, g.stride],
            [pad, pad],
            [1, 1],
            ceil_mode=ceil_mode,
            **kwargs,
        )
        expected = torch.nn.functional.max_pool2d(
            values.to(torch.bfloat16).float(), g.kernel, g.stride, pad, ceil_mode=ceil_mode
        )
        return out, _flatten(expected)

    CASES.append(SlidingWindowCase(name, run))


POOL_GEOMETRIES = [
    Geometry(1, 16, 16, 3, 1),  # 256 output rows
    Geometry(2, 8, 4, 3, 2),  # 16 output rows: fewer than a tile, so width sharding needs the least L1
    Geometry(1, 13, 4, 5, 1),
]
for _geometry, _channels, _layout, _scheme in itertools.product(
    POOL_GEOMETRIES, [3, 17, 40, 48, 100], ["ROW_MAJOR", "TILE"], [None, *SCHEMES]
):
    _pool_case(_geometry, _channels, _layout, scheme=_scheme)
for _channels in (3, 40, 64):
    _pool_case(Geometry(1, 16, 16, 3, 1), _channels, "ROW_MAJOR", InputPlacement("DRAM"))
    _pool_case(Geometry(1, 16, 16, 3, 1), _channels, "TILE", output_layout="TILE")
# inputs already sharded: the pool keeps their cores and re-derives the shard shape
_pool_case(Geometry(1, 16, 16, 3, 1), 40, "ROW_MAJOR", InputPlacement("L1", "HEIGHT_SHARDED", 8, (32, 40)))
_pool_case(Geometry(2, 16, 16, 3, 1), 3, "ROW_MAJOR", InputPlacement("L1", "HEIGHT_SHARDED", 8, (64, 3)))
_pool_case(Geometry(1, 16, 16, 3, 1), 64, "ROW_MAJOR", InputPlacement("L1", "WIDTH_SHARDED", 4, (256, 16)))
_pool_case(Geometry(1, 16, 16, 3, 1), 64, "ROW_MAJOR", InputPlacement("L1", "BLOCK_SHARDED", 2, (256, 32)))
_pool_case(Geometry(1, 16, 16, 3, 1), 32, "ROW_MAJOR", InputPlacement("L1", "HEIGHT_SHARDED", 8, (32, 32), "COL_MAJOR"))


# ---------------------------------------------------------------- conv2d


def _conv_case(
    geometry: Geometry,
    in_channels: int,
    out_channels: int,
    layout: LayoutName,
    placement: InputPlacement = InputPlacement(),
    shard_layout: SchemeName | None = None,
    output_dtype: Literal["bfloat16", "bfloat8_b"] = "bfloat16",
    **config: Any,
) -> None:
    g = geometry
    options = "".join(f" {key}={value}" for key, value in config.items())
    options += "" if output_dtype == "bfloat16" else f" dtype={output_dtype}"
    name = (
        f"conv2d {g.batch}x{g.height}x{g.width} {in_channels}->{out_channels} k{g.kernel}s{g.stride} {layout} "
        f"{placement.scheme or placement.buffer}{placement.shard if placement.scheme else ''}"
        f"{'' if placement.orientation == 'ROW_MAJOR' else ' COL_MAJOR'} shard_layout={shard_layout}{options}"
    )

    def run(ttnn: Any, device: Any, generator: Any) -> Outcome:
        import torch

        values = torch.randn(g.batch, in_channels, g.height, g.width, generator=generator)
        weight = torch.randn(out_channels, in_channels, g.kernel, g.kernel, generator=generator) / g.kernel
        if shard_layout is not None:
            config["shard_layout"] = getattr(ttnn.TensorMemoryLayout, shard_layout)
        pad = g.kernel // 2
        out = ttnn.conv2d(
            input_tensor=_input(ttnn, device, values, layout, placement),
            weight_tensor=ttnn.from_torch(weight, dtype=ttnn.bfloat16),
            device=device,
            in_channels=in_channels,
            out_channels=out_channels,
            batch_size=g.batch,
            input_height=g.height,
            input_width=g.width,
            kernel_size=[g.kernel, g.kernel],
            stride=[g.stride, g.stride],
            padding=[pad, pad],
            conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16, **config),
            dtype=getattr(ttnn, output_dtype),
        )
        bf16 = torch.bfloat16
        expected = torch.nn.functional.conv2d(
            values.to(bf16).float(), weight.to(bf16).float(), stride=g.stride, padding=pad
        )
        return out, _flatten(expected)

    CASES.append(SlidingWindowCase(name, run))


CONV_GEOMETRIES = [Geometry(1, 16, 16, 3, 1), Geometry(2, 8, 20, 3, 2), Geometry(1, 16, 16, 1, 1)]
# a shard_layout on an interleaved input (L1, or DRAM where only a matmul conv leaves the DRAM path)
for _geometry, (_cin, _cout), _layout, _scheme, _buffer in itertools.product(
    CONV_GEOMETRIES, [(3, 48), (32, 8), (40, 96)], ["ROW_MAJOR", "TILE"], SCHEMES, ["L1", "DRAM"]
):
    _conv_case(_geometry, _cin, _cout, _layout, InputPlacement(_buffer), _scheme)
# a matmul conv without a shard_layout runs interleaved and returns in DRAM
_conv_case(Geometry(1, 16, 16, 1, 1), 32, 32, "ROW_MAJOR")
_conv_case(Geometry(1, 16, 16, 1, 1), 32, 32, "TILE", InputPlacement("DRAM"))
# sharded inputs: which ones ttnn reshards, and refuses to without a shard_layout
for _kernel, _height, _width, _orientation, _scheme in itertools.product(
    [3, 1], [16, 8], [3, 16, 24, 32], ["ROW_MAJOR", "COL_MAJOR"], [None, "HEIGHT_SHARDED", "BLOCK_SHARDED"]
):
    # over 8 cores, a 16-row image gives whole-tile shard heights (32), an 8-row one half tiles (16)
    _conv_case(
        Geometry(1, _height, 16, _kernel, 1),
        _width,
        32,
        "ROW_MAJOR",
        InputPlacement("L1", "HEIGHT_SHARDED", 8, (_height * 2, _width), _orientation),
        _scheme,
    )
_conv_case(Geometry(1, 16, 16, 1, 1), 32, 32, "ROW_MAJOR", InputPlacement("L1", "HEIGHT_SHARDED", 8, (32, 32)), None)
_conv_case(Geometry(1, 16, 16, 3, 1), 16, 32, "ROW_MAJOR", InputPlacement("L1", "HEIGHT_SHARDED", 8, (32, 16)), None,
           reshard_if_not_optimal=True)  # fmt: skip
# no shard_layout on an L1 interleaved input: ttnn's auto-sharding picks by its L1 estimate
for _geometry, (_cin, _cout), _layout in itertools.product(
    [Geometry(1, 16, 16, 3, 1), Geometry(2, 8, 20, 3, 2), Geometry(1, 13, 20, 3, 1), Geometry(1, 8, 8, 3, 1)],
    [(3, 8), (3, 48), (8, 48), (16, 32), (32, 8), (32, 96), (64, 64), (128, 32)],
    ["ROW_MAJOR", "TILE"],
):
    _conv_case(_geometry, _cin, _cout, _layout)
for _layout in ("ROW_MAJOR", "TILE"):
    _conv_case(Geometry(1, 13, 20, 3, 1), 16, 32, _layout, output_dtype="bfloat8_b")
    _conv_case(Geometry(1, 8, 20, 3, 1), 8, 16, _layout, output_dtype="bfloat8_b")
# few rows, many channels: width sharding needs the least L1
for _cin, _cout in ((256, 64), (512, 32), (192, 192)):
    _conv_case(Geometry(1, 4, 4, 3, 1), _cin, _cout, "TILE")
# ceil mode: no window may start in the bottom/right padding (13 rows: ceil would add one there)
for _geometry in (Geometry(2, 13, 4, 2, 2), Geometry(1, 4, 13, 2, 2), Geometry(1, 16, 13, 3, 2)):
    _pool_case(_geometry, 16, "ROW_MAJOR", ceil_mode=True)
# few rows: the L1 estimates of height and width sharding differ by the output buffer's DRAM alignment (32 B on
# Wormhole, 64 B on Blackhole), so the two arches pick differently
_pool_case(Geometry(1, 16, 13, 2, 2), 32, "ROW_MAJOR")
# a 1x1 conv runs as a matmul, whose output takes only the input's cores its rows reach
_conv_case(Geometry(2, 13, 8, 1, 1), 32, 48, "TILE", InputPlacement("L1", "HEIGHT_SHARDED", 8, (32, 32)))
_conv_case(Geometry(1, 16, 8, 1, 1), 32, 32, "TILE", InputPlacement("L1", "HEIGHT_SHARDED", 8, (32, 32)))
