"""Generated ttnn calls for the differential conformance test, and the code that runs them on one ttnn namespace.

A call is plain JSON (so it crosses into the real ttnn's subprocess unchanged): the op name, the tensors to build
first (shape, dtype, layout and memory config; ``mem: null`` keeps a tensor on the host) and the op's arguments, in
which ``{"t": i}`` stands for input tensor ``i``, ``{"mem": ...}`` for a memory config, ``{"dtype": ...}``,
``{"layout": ...}``, ``{"enum": [type, member]}``, ``{"unary": name}`` and ``{"conv_config": {...}}`` for ttnn
objects, ``{"device": true}`` for the open device, and ``{"index": [...]}`` (of ``{"slice": [start, stop, step]}``,
``{"ellipsis": true}`` and integers) for a subscript. An op named ``Tensor.<method>`` (``Tensor.__add__``,
``Tensor.__getitem__``, ...) is called on its first argument. ``generate_calls(count, seed)`` draws them;
``run_calls(api, device, calls)`` runs them on the emulator or on the real ttnn and returns one record per call:
whether the inputs were built, whether the op accepted them, and the output spec.

Run as a script, it opens the real ttnn on a mocked cluster and writes one JSON record per line:
``python differential_calls.py <arch> <calls.json> <records.jsonl>`` (calls already recorded are skipped, so the
parent can restart it after a crash of ttnn).
"""

from __future__ import annotations

import json
import math
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

Json = Any
Call = dict[str, Json]
Record = dict[str, Json]

# The device both sides open: conv2d and max_pool2d need L1_SMALL for their config tensors.
DEVICE_PARAMS = {"device_id": 0, "l1_small_size": 24576}
TILE = 32

# Core ranges (x0, y0, x1, y1) the sharded configs are drawn from: both arches have at least 8x8 compute cores,
# and the last one exceeds a Wormhole's 8x8 grid, so the arches must differ on it.
GRIDS: list[list[tuple[int, int, int, int]]] = [
    [(0, 0, 7, 7)],
    [(0, 0, 0, 0)],
    [(0, 0, 3, 1)],
    [(0, 0, 1, 3)],
    [(0, 0, 7, 0)],
    [(0, 0, 0, 7)],
    [(0, 0, 4, 2)],
    [(0, 0, 7, 3)],
    [(0, 0, 7, 5), (0, 6, 3, 6)],
    [(0, 0, 9, 7)],
]
ShardKind = Literal["height", "width", "block"]
SHARD_KINDS: tuple[ShardKind, ...] = ("height", "width", "block")
MEMORY_LAYOUT = {"height": "HEIGHT_SHARDED", "width": "WIDTH_SHARDED", "block": "BLOCK_SHARDED"}
HEIGHTS = [1, 5, 31, 32, 33, 64, 100]
WIDTHS = [1, 7, 16, 31, 32, 45, 64, 96]
CHANNELS = [1, 3, 8, 16]
DTYPES = ["BFLOAT16", "BFLOAT16", "BFLOAT16", "BFLOAT8_B", "FLOAT32", "UINT32"]


# ---------------------------------------------------------------- generation


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def physical_2d(shape: Sequence[int], layout: str) -> tuple[int, int]:
    """The (height, width) a tensor of ``shape`` occupies in a buffer: leading dims fold into the height."""
    dims = [1] * max(0, 2 - len(shape)) + list(shape)
    height, width = dims[-2], dims[-1]
    if layout == "TILE":
        height, width = _round_up(height, TILE), _round_up(width, TILE)
    return math.prod(dims[:-2]) * height, width


def sharded(
    rng: random.Random, shape: Sequence[int], layout: str, kind: ShardKind | None = None, buffer: str = "L1"
) -> Json:
    """A sharded config for ``shape`` over a random grid: usually a shard shape that covers it, sometimes one that
    is off by a little (too small, or not tile aligned) so rejections get drawn too."""
    kind = kind or rng.choice(SHARD_KINDS)
    ranges = rng.choice(GRIDS)
    orientation = rng.choice(["ROW_MAJOR", "COL_MAJOR"])
    height, width = physical_2d(shape, layout)
    cores = sum((x1 - x0 + 1) * (y1 - y0 + 1) for x0, y0, x1, y1 in ranges)
    align = TILE if layout == "TILE" else 1
    if kind == "height":
        shard = [_round_up(-(-height // cores), align), width]
    elif kind == "width":
        shard = [height, _round_up(-(-width // cores), align)]
    else:
        x0, y0, x1, y1 = ranges[0]
        ranges = [ranges[0]]
        rows, cols = y1 - y0 + 1, x1 - x0 + 1
        if orientation == "COL_MAJOR":
            rows, cols = cols, rows
        shard = [_round_up(-(-height // rows), align), _round_up(-(-width // cols), align)]
    if rng.random() < 0.1:  # a shard shape that does not fit: ttnn must refuse it, and so must the emulator
        shard[rng.randrange(2)] = max(1, shard[0] // 2 if rng.random() < 0.5 else shard[1] + 1)
    return {"kind": kind, "buffer": buffer, "grid": [list(r) for r in ranges], "shard": shard, "orient": orientation}


def interleaved(buffer: str) -> Json:
    return {"kind": "interleaved", "buffer": buffer}


def memory(rng: random.Random, shape: Sequence[int], layout: str, sharded_share: float = 0.4) -> Json:
    if rng.random() < sharded_share:
        return sharded(rng, shape, layout)
    return interleaved(rng.choice(["DRAM", "L1"]))


def out_memory(rng: random.Random, shape: Sequence[int], layout: str) -> Json:
    """An output memory_config argument: mostly absent (the op's default), else interleaved or sharded."""
    roll = rng.random()
    if roll < 0.5:
        return None
    if roll < 0.8:
        return {"mem": interleaved(rng.choice(["DRAM", "L1"]))}
    return {"mem": sharded(rng, shape, layout)}


def shape4(rng: random.Random) -> list[int]:
    return [rng.choice([1, 1, 2]), rng.choice([1, 1, 3]), rng.choice(HEIGHTS), rng.choice(WIDTHS)]


def tensor(
    rng: random.Random,
    shape: Sequence[int] | None = None,
    layout: str | None = None,
    dtype: str | None = None,
    mem: Json = "random",
) -> Json:
    shape = list(shape if shape is not None else shape4(rng))
    layout = layout or rng.choice(["TILE", "TILE", "ROW_MAJOR"])
    dtype = dtype or rng.choice(DTYPES)
    if dtype == "BFLOAT8_B" and layout == "ROW_MAJOR" and rng.random() < 0.8:
        layout = "TILE"  # mostly valid: bfloat8_b exists only in TILE layout
    return {
        "shape": shape,
        "layout": layout,
        "dtype": dtype,
        "mem": memory(rng, shape, layout) if mem == "random" else mem,
    }


def _unary(name: str) -> Callable[[random.Random], Call]:
    def make(rng: random.Random) -> Call:
        x = tensor(rng, dtype=rng.choice(["BFLOAT16", "BFLOAT16", "BFLOAT8_B", "FLOAT32"]))
        kwargs = {"memory_config": out_memory(rng, x["shape"], x["layout"])}
        return {"op": name, "inputs": [x], "args": [{"t": 0}], "kwargs": kwargs}

    return make


def _binary(name: str) -> Callable[[random.Random], Call]:
    def make(rng: random.Random) -> Call:
        a = tensor(rng, dtype=rng.choice(["BFLOAT16", "BFLOAT16", "BFLOAT8_B", "FLOAT32"]))
        roll = rng.random()
        if roll < 0.2:
            other: Json = rng.choice([0.5, 2.0, -1.0])
            inputs = [a]
        else:
            b_shape = list(a["shape"])
            if roll < 0.45:  # broadcast a row, a column or a batch
                b_shape[rng.choice([0, 1, 2, 3])] = 1
            elif roll < 0.5:  # shapes that cannot broadcast
                b_shape[-1] += 1
            same = rng.random() < 0.6
            b = tensor(
                rng,
                shape=b_shape,
                layout=a["layout"] if same else None,
                dtype=a["dtype"] if same else None,
                mem=a["mem"] if same and a["mem"]["kind"] == "interleaved" else "random",
            )
            inputs = [a, b]
            other = {"t": 1}
        kwargs: dict[str, Json] = {"memory_config": out_memory(rng, a["shape"], a["layout"])}
        if rng.random() < 0.25:
            kwargs["dtype"] = {"dtype": rng.choice(["BFLOAT16", "BFLOAT8_B", "FLOAT32"])}
        if rng.random() < 0.15:
            kwargs["activations"] = [{"unary": "RELU"}]
        return {"op": name, "inputs": inputs, "args": [{"t": 0}, other], "kwargs": kwargs}

    return make


def _relational(name: str) -> Callable[[random.Random], Call]:
    """A comparison: the binary op's draws, without the scalar-first form ttnn does not bind."""
    binary = _binary(name)

    def make(rng: random.Random) -> Call:
        call = binary(rng)
        call["kwargs"].pop("activations", None)
        return call

    return make


def _operator(name: str) -> Callable[[random.Random], Call]:
    """A Tensor operator (``a + b``, ``a @ b``, ...): the matching op's draws, without its keyword arguments."""
    source = _matmul("matmul") if name == "__matmul__" else _binary("add")

    def make(rng: random.Random) -> Call:
        call = source(rng)
        return {"op": f"Tensor.{name}", "inputs": call["inputs"], "args": call["args"], "kwargs": {}}

    return make


def _getitem(rng: random.Random) -> Call:
    """``x[...]``: ttnn turns it into a slice, then drops the integer-indexed dimensions."""
    x = tensor(rng)
    shape = x["shape"]
    index: list[Json] = [rng.choice([{"slice": [None, None, None]}, 0])]
    for size in shape[1:]:
        start = rng.randrange(size)
        stop = rng.randint(start + 1, size) + (rng.choice([1, 32]) if rng.random() < 0.1 else 0)
        index.append(rng.choice([{"slice": [None, None, None]}, {"slice": [start, stop, None]}, start]))
    if rng.random() < 0.2:
        index = [{"ellipsis": True}, *index[-rng.randint(1, 2) :]]
    return {"op": "Tensor.__getitem__", "inputs": [x], "args": [{"t": 0}, {"index": index}], "kwargs": {}}


def _softmax_in_place(rng: random.Random) -> Call:
    x = tensor(rng, dtype=rng.choice(["BFLOAT16", "BFLOAT8_B", "FLOAT32"]))
    kwargs = {"dim": rng.choice([-1, -1, 3, 2])}
    return {"op": "softmax_in_place", "inputs": [x], "args": [{"t": 0}], "kwargs": kwargs}


def _softmax(rng: random.Random) -> Call:
    x = tensor(rng, dtype=rng.choice(["BFLOAT16", "BFLOAT8_B", "FLOAT32"]))
    kwargs = {"dim": rng.choice([-1, -1, 3, 2, 1]), "memory_config": out_memory(rng, x["shape"], x["layout"])}
    return {"op": "softmax", "inputs": [x], "args": [{"t": 0}], "kwargs": kwargs}


def _matmul(name: str) -> Callable[[random.Random], Call]:
    def make(rng: random.Random) -> Call:
        batch = [rng.choice([1, 1, 2]), 1]
        m, k, n = rng.choice([1, 32, 33, 64, 100]), rng.choice([16, 32, 45, 64, 96]), rng.choice([7, 32, 64, 96])
        a = tensor(rng, shape=[*batch, m, k], dtype=rng.choice(["BFLOAT16", "BFLOAT8_B"]))
        k_b = k if rng.random() < 0.9 else k + 32
        b = tensor(
            rng,
            shape=[1, 1, k_b, n],
            dtype=rng.choice(["BFLOAT16", "BFLOAT8_B"]),
            mem=interleaved(rng.choice(["DRAM", "L1"])),
        )
        inputs = [a, b]
        kwargs: dict[str, Json] = {"memory_config": out_memory(rng, [*batch, m, n], "TILE")}
        if rng.random() < 0.3:
            kwargs["dtype"] = {"dtype": rng.choice(["BFLOAT16", "BFLOAT8_B"])}
        if name == "linear" and rng.random() < 0.5:
            inputs.append(tensor(rng, shape=[1, 1, 1, n], dtype="BFLOAT16", mem=interleaved("DRAM")))
            kwargs["bias"] = {"t": 2}
        if rng.random() < 0.2:
            kwargs["activation"] = rng.choice(["relu", "silu"])
        return {"op": name, "inputs": inputs, "args": [{"t": 0}, {"t": 1}], "kwargs": kwargs}

    return make


def _to_layout(rng: random.Random) -> Call:
    x = tensor(rng)
    target = rng.choice(["TILE", "ROW_MAJOR"])
    kwargs: dict[str, Json] = {"memory_config": out_memory(rng, x["shape"], target)}
    if rng.random() < 0.3:
        kwargs["dtype"] = {"dtype": rng.choice(["BFLOAT16", "BFLOAT8_B", "FLOAT32"])}
    return {"op": "to_layout", "inputs": [x], "args": [{"t": 0}, {"layout": target}], "kwargs": kwargs}


def _to_memory_config(rng: random.Random) -> Call:
    x = tensor(rng)
    target = memory(rng, x["shape"], x["layout"], sharded_share=0.6)
    kwargs = {"dtype": {"dtype": rng.choice(["BFLOAT16", "BFLOAT8_B"])}} if rng.random() < 0.2 else {}
    return {"op": "to_memory_config", "inputs": [x], "args": [{"t": 0}, {"mem": target}], "kwargs": kwargs}


def _interleaved_to_sharded(rng: random.Random) -> Call:
    x = tensor(rng, mem=interleaved(rng.choice(["DRAM", "L1"])))
    target = sharded(rng, x["shape"], x["layout"])
    return {"op": "interleaved_to_sharded", "inputs": [x], "args": [{"t": 0}, {"mem": target}], "kwargs": {}}


def _sharded_to_interleaved(rng: random.Random) -> Call:
    x = tensor(rng, dtype=rng.choice(["BFLOAT16", "BFLOAT8_B"]))
    x["mem"] = sharded(rng, x["shape"], x["layout"]) if rng.random() < 0.9 else interleaved("L1")
    kwargs = {"memory_config": rng.choice([None, {"mem": interleaved("DRAM")}, {"mem": interleaved("L1")}])}
    return {"op": "sharded_to_interleaved", "inputs": [x], "args": [{"t": 0}], "kwargs": kwargs}


def _reshard(rng: random.Random) -> Call:
    x = tensor(rng, dtype=rng.choice(["BFLOAT16", "BFLOAT8_B"]))
    x["mem"] = sharded(rng, x["shape"], x["layout"])
    target = sharded(rng, x["shape"], x["layout"])
    return {"op": "reshard", "inputs": [x], "args": [{"t": 0}, {"mem": target}], "kwargs": {}}


def _typecast(rng: random.Random) -> Call:
    x = tensor(rng)
    target = rng.choice(["BFLOAT16", "BFLOAT8_B", "FLOAT32", "UINT32", "INT32"])
    kwargs = {"memory_config": out_memory(rng, x["shape"], x["layout"])}
    return {"op": "typecast", "inputs": [x], "args": [{"t": 0}, {"dtype": target}], "kwargs": kwargs}


def _clone(rng: random.Random) -> Call:
    x = tensor(rng)
    kwargs: dict[str, Json] = {"memory_config": out_memory(rng, x["shape"], x["layout"])}
    if rng.random() < 0.3:
        kwargs["dtype"] = {"dtype": rng.choice(["BFLOAT16", "BFLOAT8_B", "FLOAT32"])}
    return {"op": "clone", "inputs": [x], "args": [{"t": 0}], "kwargs": kwargs}


def _reshape(rng: random.Random) -> Call:
    x = tensor(rng)
    n, c, h, w = x["shape"]
    choices = [[1, 1, n * c * h, w], [n, c * h, w], [n * c, h * w], [n, c, w, h], [-1, w], [n, c, h, w + 1]]
    kwargs = {"memory_config": out_memory(rng, [1, 1, n * c * h, w], x["layout"])}
    return {"op": "reshape", "inputs": [x], "args": [{"t": 0}, rng.choice(choices)], "kwargs": kwargs}


def _squeeze(rng: random.Random) -> Call:
    x = tensor(rng, shape=[1, *shape4(rng)[1:]])
    return {"op": "squeeze", "inputs": [x], "args": [{"t": 0}, rng.choice([0, 1, 0])], "kwargs": {}}


def _unsqueeze(rng: random.Random) -> Call:
    x = tensor(rng, shape=shape4(rng)[1:])
    return {"op": "unsqueeze", "inputs": [x], "args": [{"t": 0}, rng.choice([0, 1, 2, -1])], "kwargs": {}}


def _permute(rng: random.Random) -> Call:
    x = tensor(rng)
    dims = rng.choice([[0, 2, 3, 1], [0, 3, 1, 2], [0, 1, 3, 2], [1, 0, 2, 3], [0, 1, 2, 3], [3, 2, 1, 0]])
    kwargs = {"memory_config": out_memory(rng, x["shape"], x["layout"]) if rng.random() < 0.5 else None}
    return {"op": "permute", "inputs": [x], "args": [{"t": 0}, dims], "kwargs": kwargs}


def _transpose(rng: random.Random) -> Call:
    x = tensor(rng)
    dims = rng.choice([[2, 3], [-2, -1], [1, 2], [0, 1], [1, 3]])
    return {"op": "transpose", "inputs": [x], "args": [{"t": 0}, *dims], "kwargs": {}}


def _pad(rng: random.Random) -> Call:
    x = tensor(rng)
    padding = [[0, 0], [0, 0], [0, rng.choice([0, 1, 3, 32])], [0, rng.choice([0, 1, 9, 32])]]
    if rng.random() < 0.2:
        padding[1] = [0, rng.choice([1, 5])]
    if rng.random() < 0.1:
        padding[3] = [1, 1]  # front padding
    return {"op": "pad", "inputs": [x], "args": [{"t": 0}, padding, 0.0], "kwargs": {}}


def _slice(rng: random.Random) -> Call:
    x = tensor(rng)
    shape = x["shape"]
    start = [0, 0, rng.randrange(shape[2]), rng.randrange(shape[3])]
    end = [shape[0], shape[1], rng.randint(start[2] + 1, shape[2]), rng.randint(start[3] + 1, shape[3])]
    if rng.random() < 0.1:
        end[rng.choice([2, 3])] += rng.choice([1, 32])  # past the end: ttnn refuses
    args: list[Json] = [{"t": 0}, start, end]
    if rng.random() < 0.2:
        args.append([1, 1, rng.choice([1, 2]), rng.choice([1, 2])])
    return {"op": "slice", "inputs": [x], "args": args, "kwargs": {}}


def _concat(rng: random.Random) -> Call:
    dim = rng.choice([3, 3, 2, 1, 0, -1])
    first = tensor(rng, dtype=rng.choice(["BFLOAT16", "BFLOAT16", "BFLOAT8_B"]))
    inputs = [first]
    for _ in range(rng.choice([1, 1, 2])):
        shape = list(first["shape"])
        shape[dim] = rng.choice([1, 7, 16, 32, 45])
        same = rng.random() < 0.8
        inputs.append(
            tensor(
                rng,
                shape=shape,
                layout=first["layout"] if same else None,
                dtype=first["dtype"] if same else None,
                mem=first["mem"] if same and first["mem"]["kind"] == "interleaved" else "random",
            )
        )
    kwargs = {"memory_config": out_memory(rng, first["shape"], first["layout"]) if rng.random() < 0.4 else None}
    return {"op": "concat", "inputs": inputs, "args": [{"tensors": list(range(len(inputs)))}, dim], "kwargs": kwargs}


def _split(rng: random.Random) -> Call:
    x = tensor(rng)
    dim = rng.choice([3, 2, -1])
    size = rng.choice([1, 16, 32, max(1, x["shape"][dim] // 2)])
    return {"op": "split", "inputs": [x], "args": [{"t": 0}, size, dim], "kwargs": {}}


def _reallocate(rng: random.Random) -> Call:
    x = tensor(rng)
    return {"op": "reallocate", "inputs": [x], "args": [{"t": 0}], "kwargs": {}}


def _nhwc_input(rng: random.Random, batch: int, height: int, width: int, channels: int) -> Json:
    """A flattened NHWC activation ([1, 1, N*H*W, C]) as convs and pools take it."""
    layout = rng.choice(["ROW_MAJOR", "ROW_MAJOR", "TILE"])
    shape = [1, 1, batch * height * width, channels]
    roll = rng.random()
    mem = sharded(rng, shape, layout, kind="height") if roll < 0.35 else interleaved(rng.choice(["DRAM", "L1"]))
    return {"shape": shape, "layout": layout, "dtype": rng.choice(["BFLOAT16", "BFLOAT16", "BFLOAT8_B"]), "mem": mem}


def _max_pool2d(rng: random.Random) -> Call:
    batch, height, width = rng.choice([1, 1, 2]), rng.choice([4, 8, 13, 16]), rng.choice([4, 8, 13, 16])
    channels = rng.choice([3, 16, 32, 40, 64])
    x = _nhwc_input(rng, batch, height, width, channels)
    kernel = rng.choice([2, 3, 5])
    stride = rng.choice([1, 2])
    args = [{"t": 0}, batch, height, width, channels, [kernel, kernel], [stride, stride], [kernel // 2] * 2, [1, 1]]
    kwargs: dict[str, Json] = {"ceil_mode": rng.random() < 0.2}
    if rng.random() < 0.2:
        kwargs["memory_config"] = {"mem": interleaved(rng.choice(["DRAM", "L1"]))}
    return {"op": "max_pool2d", "inputs": [x], "args": args, "kwargs": kwargs}


def _upsample(rng: random.Random) -> Call:
    batch, height, width = rng.choice([1, 2]), rng.choice([4, 5, 10, 20]), rng.choice([4, 5, 10, 20])
    channels = rng.choice([3, 16, 32, 64])
    layout = rng.choice(["ROW_MAJOR", "ROW_MAJOR", "TILE"])
    shape = [batch, height, width, channels]
    mem = sharded(rng, shape, layout, kind="height") if rng.random() < 0.3 else interleaved(rng.choice(["DRAM", "L1"]))
    x = {"shape": shape, "layout": layout, "dtype": rng.choice(["BFLOAT16", "BFLOAT16", "BFLOAT8_B"]), "mem": mem}
    scale = rng.choice([2, 2, 3, [2, 1], [2, 2]])
    kwargs: dict[str, Json] = {"mode": rng.choice(["nearest", "nearest", "bilinear"])}
    if rng.random() < 0.2:
        kwargs["memory_config"] = {"mem": interleaved(rng.choice(["DRAM", "L1"]))}
    return {"op": "upsample", "inputs": [x], "args": [{"t": 0}, scale], "kwargs": kwargs}


def _conv2d(rng: random.Random) -> Call:
    batch, height, width = rng.choice([1, 1, 2]), rng.choice([8, 13, 16, 20]), rng.choice([8, 13, 16, 20])
    in_channels, out_channels = rng.choice([3, 8, 16, 32]), rng.choice([8, 16, 32, 48])
    kernel, stride = rng.choice([1, 3, 3]), rng.choice([1, 1, 2])
    groups = in_channels if rng.random() < 0.1 and in_channels == out_channels else 1
    x = _nhwc_input(rng, batch, height, width, in_channels)
    weight = {
        "shape": [out_channels, in_channels // groups, kernel, kernel],
        "layout": "ROW_MAJOR",
        "dtype": "BFLOAT16",
        "mem": None,
    }
    inputs = [x, weight]
    kwargs: dict[str, Json] = {
        "input_tensor": {"t": 0},
        "weight_tensor": {"t": 1},
        "device": {"device": True},
        "in_channels": in_channels,
        "out_channels": out_channels,
        "batch_size": batch,
        "input_height": height,
        "input_width": width,
        "kernel_size": [kernel, kernel],
        "stride": [stride, stride],
        "padding": [kernel // 2, kernel // 2],
        "groups": groups,
    }
    if rng.random() < 0.5:
        inputs.append({"shape": [1, 1, 1, out_channels], "layout": "ROW_MAJOR", "dtype": "BFLOAT16", "mem": None})
        kwargs["bias_tensor"] = {"t": 2}
    if rng.random() < 0.3:
        kwargs["dtype"] = {"dtype": rng.choice(["BFLOAT16", "BFLOAT8_B"])}
    if rng.random() < 0.6:
        config: dict[str, Json] = {"weights_dtype": rng.choice(["BFLOAT16", "BFLOAT8_B"])}
        if x["mem"]["kind"] == "interleaved" and rng.random() < 0.5:
            config["shard_layout"] = rng.choice(list(MEMORY_LAYOUT.values()))
        if rng.random() < 0.3:
            config["activation"] = "RELU"
        kwargs["conv_config"] = {"conv_config": config}
    return {"op": "conv2d", "inputs": inputs, "args": [], "kwargs": kwargs}


def _from_torch(rng: random.Random) -> Call:
    """Building a tensor on the device is the op here: the inputs stage is the whole call."""
    return {"op": "from_torch", "inputs": [tensor(rng)], "args": [{"t": 0}], "kwargs": {}}


GENERATORS: dict[str, Callable[[random.Random], Call]] = {
    **{name: _unary(name) for name in ("relu", "sigmoid", "silu", "exp", "neg")},
    **{name: _binary(name) for name in ("add", "subtract", "multiply", "divide", "div")},
    **{name: _relational(name) for name in ("eq", "ne", "gt", "ge", "lt", "le")},
    **{f"Tensor.{name}": _operator(name) for name in ("__add__", "__sub__", "__mul__", "__matmul__")},
    "Tensor.__getitem__": _getitem,
    "softmax": _softmax,
    "softmax_in_place": _softmax_in_place,
    "matmul": _matmul("matmul"),
    "linear": _matmul("linear"),
    "to_layout": _to_layout,
    "to_memory_config": _to_memory_config,
    "interleaved_to_sharded": _interleaved_to_sharded,
    "sharded_to_interleaved": _sharded_to_interleaved,
    "reshard": _reshard,
    "typecast": _typecast,
    "clone": _clone,
    "reshape": _reshape,
    "squeeze": _squeeze,
    "unsqueeze": _unsqueeze,
    "permute": _permute,
    "transpose": _transpose,
    "pad": _pad,
    "slice": _slice,
    "concat": _concat,
    "split": _split,
    "reallocate": _reallocate,
    "max_pool2d": _max_pool2d,
    "upsample": _upsample,
    "conv2d": _conv2d,
    "from_torch": _from_torch,
}


def generate_calls(count: int, seed: int) -> list[Call]:
    """``count`` calls, the ops taken in turn so each gets an equal share, drawn from one seeded generator."""
    rng = random.Random(seed)
    names = sorted(GENERATORS)
    calls = []
    for index in range(count):
        call = GENERATORS[names[index % len(names)]](rng)
        call["id"] = f"{seed}-{index:05d}"
        calls.append(call)
    return calls


# ---------------------------------------------------------------- execution (on any ttnn-shaped namespace)


def build_memory_config(api: Any, desc: Json) -> Any:
    buffer = getattr(api.BufferType, desc["buffer"])
    if desc["kind"] == "interleaved":
        return api.MemoryConfig(api.TensorMemoryLayout.INTERLEAVED, buffer)
    ranges = {api.CoreRange(api.CoreCoord(x0, y0), api.CoreCoord(x1, y1)) for x0, y0, x1, y1 in desc["grid"]}
    spec = api.ShardSpec(api.CoreRangeSet(ranges), desc["shard"], getattr(api.ShardOrientation, desc["orient"]))
    return api.MemoryConfig(getattr(api.TensorMemoryLayout, MEMORY_LAYOUT[desc["kind"]]), buffer, spec)


def _torch_values(desc: Json, index: int) -> Any:
    import torch

    generator = torch.Generator().manual_seed(index)
    values = torch.randn(desc["shape"], generator=generator)
    if desc["dtype"] in ("UINT32", "INT32"):
        return (values.abs() * 10).to(torch.int32)
    return values


def build_tensor(api: Any, device: Any, desc: Json, index: int) -> Any:
    kwargs: dict[str, Any] = {
        "dtype": getattr(api.DataType, desc["dtype"]),
        "layout": getattr(api.Layout, desc["layout"]),
    }
    if desc["mem"] is not None:
        kwargs["device"] = device
        kwargs["memory_config"] = build_memory_config(api, desc["mem"])
    return api.from_torch(_torch_values(desc, index), **kwargs)


def _decode(api: Any, device: Any, value: Json, tensors: list[Any]) -> Any:
    if isinstance(value, list):
        return [_decode(api, device, v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    ((key, item),) = value.items()
    if key == "t":
        return tensors[item]
    if key == "tensors":
        return [tensors[i] for i in item]
    if key == "mem":
        return build_memory_config(api, item)
    if key == "dtype":
        return getattr(api.DataType, item)
    if key == "layout":
        return getattr(api.Layout, item)
    if key == "device":
        return device
    if key == "slice":
        return slice(*item)
    if key == "ellipsis":
        return Ellipsis
    if key == "index":
        return tuple(_decode(api, device, part, tensors) for part in item)
    if key == "unary":
        return api.UnaryWithParam(getattr(api.UnaryOpType, item))
    if key == "conv_config":
        fields = dict(item)
        if "weights_dtype" in fields:
            fields["weights_dtype"] = getattr(api.DataType, fields["weights_dtype"])
        if "shard_layout" in fields:
            fields["shard_layout"] = getattr(api.TensorMemoryLayout, fields["shard_layout"])
        if "activation" in fields:
            fields["activation"] = api.UnaryWithParam(getattr(api.UnaryOpType, fields["activation"]))
        return api.Conv2dConfig(**fields)
    raise ValueError(f"unknown argument encoding {value!r}")


def _name(value: Any) -> str:
    return str(value).rsplit(".", 1)[-1]


def output_spec(tensor: Any) -> Json:
    """What the test compares of an output tensor (values excepted: the mocked device returns zeros)."""
    config = tensor.memory_config()
    spec: dict[str, Json] = {
        "shape": list(tensor.shape),
        "padded_shape": list(tensor.padded_shape),
        "layout": _name(tensor.layout),
        "dtype": _name(tensor.dtype),
        "memory_layout": _name(config.memory_layout),
        "buffer_type": _name(config.buffer_type),
    }
    shard = config.shard_spec
    if shard is not None:
        spec["shard_shape"] = list(shard.shape)
        spec["shard_grid"] = sorted([r.start.x, r.start.y, r.end.x, r.end.y] for r in shard.grid.ranges())
        spec["shard_orientation"] = _name(shard.orientation)
    return spec


def _message(error: BaseException) -> str:
    text = str(error).strip()
    fatal = [line for line in text.splitlines() if "TT_FATAL" in line or "TT_THROW" in line]
    lines = fatal or text.splitlines() or [type(error).__name__]
    index = text.splitlines().index(lines[0]) if lines[0] in text.splitlines() else 0
    detail = " ".join(text.splitlines()[index : index + 2])
    return f"{type(error).__name__}: {detail}"[:300]


def _free(api: Any, values: Sequence[Any]) -> None:
    for value in values:
        if isinstance(value, (list, tuple)):
            _free(api, value)
        elif hasattr(value, "is_allocated") and value.is_allocated() and _name(value.storage_type()) == "DEVICE":
            api.deallocate(value)


def run_call(api: Any, device: Any, call: Call) -> Record:
    record: Record = {"id": call["id"], "op": call["op"]}
    tensors: list[Any] = []
    try:
        for index, desc in enumerate(call["inputs"]):
            tensors.append(build_tensor(api, device, desc, index))
    except Exception as error:  # ttnn refuses the inputs: the rejection is the result
        _free(api, tensors)
        return {**record, "stage": "inputs", "accepted": False, "error": _message(error)}
    if call["op"] == "from_torch":
        result: Any = tensors[0]
        tensors = []
    else:
        try:
            args = _decode(api, device, call["args"], tensors)
            kwargs = {k: _decode(api, device, v, tensors) for k, v in call["kwargs"].items() if v is not None}
            if call["op"].startswith("Tensor."):  # an operator or method: called on the first argument
                result = getattr(args[0], call["op"].removeprefix("Tensor."))(*args[1:], **kwargs)
            else:
                result = getattr(api, call["op"])(*args, **kwargs)
        except Exception as error:
            _free(api, tensors)
            return {**record, "stage": "op", "accepted": False, "error": _message(error)}
    outputs = result if isinstance(result, (list, tuple)) else [result]
    try:
        specs = [output_spec(output) for output in outputs]
    finally:
        _free(api, [*tensors, *outputs])
    return {**record, "stage": "op", "accepted": True, "outputs": specs}


def run_calls(api: Any, device: Any, calls: Sequence[Call], sink: Callable[[Record], None]) -> None:
    for call in calls:
        sink(run_call(api, device, call))


def main(arch: str, calls_path: Path, records_path: Path) -> None:
    from pytest_ttpose.mock import activate

    activate(arch)
    import ttnn

    calls = json.loads(calls_path.read_text(encoding="utf-8"))
    done = set()
    if records_path.exists():
        done = {json.loads(line)["id"] for line in records_path.read_text(encoding="utf-8").splitlines() if line}
    device = ttnn.open_device(**DEVICE_PARAMS)
    with records_path.open("a", encoding="utf-8") as sink:

        def write(record: Record) -> None:
            sink.write(json.dumps(record) + "\n")
            sink.flush()  # a crash of ttnn loses no finished record

        run_calls(ttnn, device, [call for call in calls if call["id"] not in done], write)
    ttnn.close_device(device)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
