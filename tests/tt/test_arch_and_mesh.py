"""The same model code on other machines: an emulated Blackhole P150 and a two-chip data-parallel mesh."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from torch import nn
from ttmodel_cases import letterboxed_images

from pytest_ttpose.pose.metrics import component_pcc
from pytest_ttpose.runner.inputs import l1_input_config
from pytest_ttpose.tt import (
    MESH_DEVICE_PARAMS,
    SINGLE_DEVICE_PARAMS,
    build_pose_model,
    input_to_host_tensor,
)

RESOLUTION = (320, 320)
BFLOAT16_ALL_PCC = 0.999


@pytest.fixture
def blackhole_device(ttnn: Any) -> Iterator[Any]:
    machine = importlib.import_module("pytest_ttpose.emulator.machine")
    machine.set_machine(arch="blackhole", num_devices=1)
    opened = ttnn.open_device(device_id=0, **SINGLE_DEVICE_PARAMS)
    yield opened
    ttnn.close_device(opened)
    machine.set_machine()


@pytest.fixture
def two_chip_mesh(ttnn: Any) -> Iterator[Any]:
    machine = importlib.import_module("pytest_ttpose.emulator.machine")
    machine.set_machine(arch="wormhole_b0", num_devices=2)
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2), **MESH_DEVICE_PARAMS)
    yield mesh
    ttnn.close_mesh_device(mesh)
    machine.set_machine()


def _check(ttnn: Any, device: Any, real_n: nn.Module, cache_dir: Any, per_device_batch: int, l1_input: bool) -> None:
    images, _ = letterboxed_images(RESOLUTION)
    model = build_pose_model(
        device,
        real_n,
        batch_size=per_device_batch,
        resolution=RESOLUTION,
        act_dtype=ttnn.bfloat16,
        weight_dtype=ttnn.bfloat16,
        cache_dir=cache_dir,
    )
    host = input_to_host_tensor(ttnn, images, mesh_mapper=model.input_mesh_mapper())
    per_chip_shape = (per_device_batch, 3, *RESOLUTION)
    memory_config = l1_input_config(ttnn, device, per_chip_shape) if l1_input else ttnn.DRAM_MEMORY_CONFIG
    x = ttnn.to_device(host, device, memory_config=memory_config)
    got = model.output_to_torch(model(x), mesh_composer=model.output_mesh_composer())
    with torch.no_grad():
        expected = real_n(images)
    assert got.shape == expected.shape == (2, 56, model.num_anchors)
    for i in range(2):  # each image lands on its own chip on the mesh; compare them one by one
        assert component_pcc(expected[i : i + 1], got[i : i + 1])["all"] >= BFLOAT16_ALL_PCC


def test_blackhole_p150(ttnn: Any, blackhole_device: Any, real_n: nn.Module, cache_dir: Any) -> None:
    """Grids come from the device: the Blackhole compute grid needs no code path of its own (input L1-sharded on it)."""
    _check(ttnn, blackhole_device, real_n, cache_dir, per_device_batch=2, l1_input=True)


def test_data_parallel_mesh(ttnn: Any, two_chip_mesh: Any, real_n: nn.Module, cache_dir: Any) -> None:
    """Weights replicated, the batch sharded over two chips (one image each), outputs concatenated on batch."""
    _check(ttnn, two_chip_mesh, real_n, cache_dir, per_device_batch=1, l1_input=False)
