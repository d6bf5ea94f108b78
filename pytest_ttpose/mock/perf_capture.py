"""The device programs real ttnn accepted, read from its graph capture, as ``pytest_ttpose.devperf`` descriptors.

Every ``*DeviceOperation`` node of a ``ttnn.graph`` capture is one program: its input tensors are the node's
``input_tensors``, its output the tensor node its ``function_end`` connects to. Shapes, dtypes, layouts and memory
configs (with the shard grid) are parsed from ttnn's own printing of them; a conv's kernel window and output channels
from its ``Conv2dParams``, a compute kernel's math fidelity from its ``ComputeKernelConfig``. A dry run then prices the
model's real ops, as ttnn planned them, with the same model the emulator uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pytest_ttpose.devperf.descriptors import ConvWork, MatmulWork, OpDesc, TensorDesc
from pytest_ttpose.mock.fit import _begin_quiet_graph_capture
from pytest_ttpose.seam import api_for

_SHAPE = re.compile(r"Shape\(\[([\d, ]*)\]\)")
_MEMORY_LAYOUT = re.compile(r"memory_layout=TensorMemoryLayout::(\w+)")
_BUFFER = re.compile(r"buffer_type=BufferType::(\w+)")
_GRID = re.compile(r"shard_spec=ShardSpec\{grid=\[(.*?)\], shape")
_RANGE = re.compile(r'"start":\{"x":(\d+),"y":(\d+)\},"end":\{"x":(\d+),"y":(\d+)\}')
_FIDELITY = re.compile(r"math_fidelity=(LoFi|HiFi2|HiFi3|HiFi4)")
_WINDOW = re.compile(r"SlidingWindowConfig\((\d+), \d+, \{\d+, \d+\}, \{(\d+), (\d+)\}")
_CONV_CHANNELS = re.compile(r"SlidingWindowConfig\(.*?PaddingMode::\w+\), (\d+), (\d+),")

# ttnn's device operation name -> the op name the model's classes know
_OP_NAMES = {
    "Conv2dDeviceOperation": "conv2d",
    "MatmulDeviceOperation": "matmul",
    "BinaryNgDeviceOperation": "add",
    "BinaryDeviceOperation": "add",
    "UnaryDeviceOperation": "sigmoid",
    "SoftmaxDeviceOperation": "softmax",
    "HaloDeviceOperation": "halo",
    "Pool2DDeviceOperation": "max_pool2d",
    "UpSampleDeviceOperation": "upsample",
    "ConcatDeviceOperation": "concat",
    "MoveDeviceOperation": "reallocate",
    "ReshardDeviceOperation": "reshard",
    "InterleavedToShardedDeviceOperation": "interleaved_to_sharded",
    "ShardedToInterleavedDeviceOperation": "sharded_to_interleaved",
    "TilizeDeviceOperation": "tilize",
    "TilizeWithValPaddingDeviceOperation": "tilize",
    "UntilizeDeviceOperation": "untilize",
    "UntilizeWithUnpaddingDeviceOperation": "untilize",
    "TypecastDeviceOperation": "typecast",
    "CopyDeviceOperation": "clone",
}


def _cores(memory_config: str) -> int:
    grid = _GRID.search(memory_config)
    if grid is None:
        return 0
    return sum((int(x1) - int(x0) + 1) * (int(y1) - int(y0) + 1) for x0, y0, x1, y1 in _RANGE.findall(grid.group(1)))


def tensor_desc(params: dict[str, Any]) -> TensorDesc:
    """A graph tensor node's params as a descriptor."""
    shape = _SHAPE.search(str(params.get("shape", "")))
    memory = str(params.get("memory_config", ""))
    memory_layout = _MEMORY_LAYOUT.search(memory)
    buffer = _BUFFER.search(memory)
    return TensorDesc(
        shape=tuple(int(d) for d in shape.group(1).split(",") if d.strip()) if shape else (),
        dtype=str(params.get("dtype", "")).removeprefix("DataType::"),
        layout=str(params.get("layout", "")).removeprefix("Layout::"),
        buffer="DRAM" if buffer is None or buffer.group(1) == "DRAM" else "L1",
        memory_layout=memory_layout.group(1) if memory_layout else "INTERLEAVED",
        cores=_cores(memory),
    )


def _work(name: str, arguments: str, inputs: list[TensorDesc], output: TensorDesc) -> ConvWork | MatmulWork | None:
    if name == "conv2d" and len(inputs) >= 2:
        window, channels = _WINDOW.search(arguments), _CONV_CHANNELS.search(arguments)
        if window is None or channels is None:
            return None
        batch, kh, kw = (int(v) for v in window.groups())
        out_channels, groups = int(channels.group(1)), max(1, int(channels.group(2)))
        per_group = inputs[1].shape[-2] // (kh * kw) if inputs[1].shape else 0
        rows = output.volume // max(1, output.shape[-1]) if output.shape else 0
        # ttnn's halo ran as its own program: the conv itself gathers nothing
        return ConvWork(batch, per_group * groups, out_channels, (kh, kw), (rows, 1), groups, halo=False)
    if name == "matmul" and len(inputs) >= 2 and inputs[0].shape and inputs[1].shape:
        m = inputs[0].volume // max(1, inputs[0].shape[-1])
        return MatmulWork(m, inputs[0].shape[-1], inputs[1].shape[-1])
    return None


def device_ops(graph: list[dict[str, Any]]) -> list[OpDesc]:
    """One descriptor per device program of the capture, in order."""
    ops: list[OpDesc] = []
    for index, node in enumerate(graph):
        params = node.get("params") or {}
        raw_name = str(params.get("name", ""))
        if node.get("node_type") != "function_start" or not raw_name.endswith("DeviceOperation"):
            continue
        end = next(
            (
                other
                for other in graph[index + 1 :]
                if other.get("node_type") == "function_end" and (other.get("params") or {}).get("name") == raw_name
            ),
            None,
        )
        outputs = [graph[c] for c in (end or {}).get("connections", []) if graph[c].get("node_type") == "tensor"]
        if not outputs:
            continue
        output_params = outputs[0].get("params") or {}
        output = tensor_desc(output_params)
        # a preallocated output is passed in as an input too: count its bytes once
        inputs = [
            tensor_desc(graph[i].get("params") or {})
            for i in node.get("input_tensors") or []
            if (graph[i].get("params") or {}).get("tensor_id") != output_params.get("tensor_id")
        ]
        arguments = " ".join(str(a) for a in node.get("arguments") or [])
        name = _OP_NAMES.get(raw_name, raw_name.removesuffix("DeviceOperation").lower())
        fidelity = _FIDELITY.search(arguments)
        ops.append(
            OpDesc(
                name=name,
                inputs=tuple(inputs),
                output=output,
                fidelity=fidelity.group(1) if fidelity else None,  # type: ignore[arg-type]
                work=_work(name, arguments, inputs, output),
            )
        )
    return ops


def capture_device_ops(device: Any, work: Callable[[], Any]) -> tuple[Any, list[OpDesc]]:
    """Run ``work()`` under ttnn's graph capture; its result and the device programs it ran."""
    ttnn = api_for(device)
    _begin_quiet_graph_capture(ttnn)
    try:
        result = work()
    finally:
        graph = ttnn.graph.end_graph_capture()
    return result, device_ops(graph)


__all__ = ["capture_device_ops", "device_ops", "tensor_desc"]
