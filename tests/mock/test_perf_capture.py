"""Reading device programs out of a ttnn graph capture (node layout and printing as ttnn 0.81.1 produces them)."""

from __future__ import annotations

from typing import Any

from pytest_ttpose.devperf.descriptors import ConvWork
from pytest_ttpose.mock.perf_capture import device_ops, tensor_desc

SHARDED_L1 = (
    "MemoryConfig(memory_layout=TensorMemoryLayout::HEIGHT_SHARDED,buffer_type=BufferType::L1,shard_spec=ShardSpec"
    '{grid=[{"start":{"x":0,"y":0},"end":{"x":7,"y":7}}], shape=[64, 32], orientation=ShardOrientation::ROW_MAJOR},'
    "nd_shard_spec=std::nullopt,created_with_nd_shard_spec=0,per_core_allocation=0,range_lockstep_allocation=0)"
)
DRAM = (
    "MemoryConfig(memory_layout=TensorMemoryLayout::INTERLEAVED,buffer_type=BufferType::DRAM,shard_spec=std::nullopt,"
    "nd_shard_spec=std::nullopt,created_with_nd_shard_spec=0,per_core_allocation=0,range_lockstep_allocation=0)"
)
CONV_PARAMS = (
    "Conv2dParams(SlidingWindowConfig(1, 0, {64, 64}, {3, 3}, {1, 1}, array(1, 1, 1, 1), {0, 0}, {1, 1}, std::nullopt, "
    "1, 1, 64, 1, <CoreRangeSet>, 1, 0, 0, 0, PaddingMode::Zeros), 32, 1, 0, 0, std::nullopt, "
    "ComputeKernelConfig(math_fidelity=LoFi,math_approx_mode=1,fp32_dest_acc_en=0))"
)


def tensor(counter: int, shape: str, dtype: str, layout: str, memory: str, tensor_id: int) -> dict[str, Any]:
    params = {"shape": shape, "dtype": dtype, "layout": layout, "memory_config": memory, "tensor_id": tensor_id}
    return {"counter": counter, "node_type": "tensor", "params": params, "connections": [], "input_tensors": []}


def node(counter: int, kind: str, name: str, connections: list[int], inputs: list[int], args: list[str]) -> dict:
    return {
        "counter": counter,
        "node_type": kind,
        "params": {"name": name},
        "connections": connections,
        "input_tensors": inputs,
        "arguments": args,
    }


def test_tensor_node_parses_shape_dtype_layout_and_shard_grid() -> None:
    desc = tensor_desc(
        tensor(0, "Shape([1, 1, 4096, 32])", "DataType::BFLOAT8_B", "Layout::TILE", SHARDED_L1, 1)["params"]
    )
    assert desc.shape == (1, 1, 4096, 32)
    assert (desc.dtype, desc.layout, desc.buffer, desc.memory_layout, desc.cores) == (
        "BFLOAT8_B",
        "TILE",
        "L1",
        "HEIGHT_SHARDED",
        64,
    )
    assert tensor_desc(tensor(0, "Shape([8])", "DataType::BFLOAT16", "Layout::ROW_MAJOR", DRAM, 2)["params"]).cores == 0


def test_device_programs_in_order_with_inputs_output_and_conv_geometry() -> None:
    graph = [
        {"counter": 0, "node_type": "capture_start", "params": {}, "connections": [], "input_tensors": []},
        node(1, "function_start", "ttnn.conv2d", [2], [], []),
        node(2, "function_start", "Conv2dDeviceOperation", [5], [3, 4], [CONV_PARAMS]),
        tensor(3, "Shape([1, 1, 12672, 32])", "DataType::BFLOAT16", "Layout::ROW_MAJOR", SHARDED_L1, 1),
        tensor(4, "Shape([1, 1, 288, 32])", "DataType::FLOAT32", "Layout::TILE", DRAM, 2),
        node(5, "function_end", "Conv2dDeviceOperation", [6], [], []),
        tensor(6, "Shape([1, 1, 4096, 32])", "DataType::BFLOAT16", "Layout::TILE", SHARDED_L1, 3),
        node(7, "function_start", "BinaryNgDeviceOperation", [10], [8, 9], ["operation_attributes_t(...)"]),
        tensor(8, "Shape([1, 1, 4096, 32])", "DataType::BFLOAT16", "Layout::TILE", DRAM, 4),
        tensor(9, "Shape([1, 1, 4096, 32])", "DataType::BFLOAT16", "Layout::TILE", DRAM, 5),
        node(10, "function_end", "BinaryNgDeviceOperation", [11], [], []),
        tensor(11, "Shape([1, 1, 4096, 32])", "DataType::BFLOAT16", "Layout::TILE", DRAM, 5),  # in place
    ]
    conv, add = device_ops(graph)
    assert conv.name == "conv2d" and conv.fidelity == "LoFi"
    assert [t.shape for t in conv.inputs] == [(1, 1, 12672, 32), (1, 1, 288, 32)]
    assert conv.output.cores == 64
    assert conv.work == ConvWork(1, 32, 32, (3, 3), (4096, 1), 1, halo=False)
    assert add.name == "add" and add.fidelity is None
    assert len(add.inputs) == 1  # the preallocated output passed as an input counts once, as the output
