"""A device opened without the runner's params fails at construction, naming each parameter and its value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_ttpose.emulator.machine import memory_snapshot
from pytest_ttpose.runner import (
    DeviceParamsError,
    YOLOv11PoseBasicRunner,
    YOLOv11PosePerformantRunner,
    query_opened_params,
)
from pytest_ttpose.tt.device_params import MESH_DEVICE_PARAMS, SINGLE_DEVICE_PARAMS


def test_the_device_reports_what_it_was_opened_with(open_emulated: Callable[..., Any]) -> None:
    opened = query_opened_params(open_emulated(params={"l1_small_size": 8192, "num_command_queues": 2}))
    assert (opened.l1_small_size, opened.trace_region_size, opened.num_command_queues) == (8192, 0, 2)


def test_a_bare_device_names_every_missing_param(open_emulated: Callable[..., Any], tiny_kwargs: dict) -> None:
    device = open_emulated(params={})  # the README's ttnn.open_device(device_id=0)
    before = memory_snapshot(device)
    with pytest.raises(DeviceParamsError) as error:
        YOLOv11PosePerformantRunner(device, **tiny_kwargs)
    message = str(error.value)
    for name, value in SINGLE_DEVICE_PARAMS.items():
        assert f"{name}: the device has " in message
        assert f"use {name}={value}" in message
    assert "the device has 1, use num_command_queues=2" in message
    assert (
        "ttnn.open_device(device_id=0, l1_small_size=24576, trace_region_size=6434816, num_command_queues=2)" in message
    )
    assert memory_snapshot(device) == before  # nothing was put on the device


def test_only_the_missing_param_is_named(open_emulated: Callable[..., Any], tiny_kwargs: dict) -> None:
    params = dict(SINGLE_DEVICE_PARAMS, num_command_queues=1)
    with pytest.raises(DeviceParamsError) as error:
        YOLOv11PosePerformantRunner(open_emulated(params=params), **tiny_kwargs)
    lacks = str(error.value).split("lacks:")[1].split("\nopen it")[0]
    assert "num_command_queues" in lacks
    assert "l1_small_size" not in lacks and "trace_region_size" not in lacks


def test_a_too_small_trace_region_is_named(open_emulated: Callable[..., Any], tiny_kwargs: dict) -> None:
    params = dict(SINGLE_DEVICE_PARAMS, trace_region_size=1 << 20)
    expected = "trace_region_size: the device has 1048576, use trace_region_size=6434816"
    with pytest.raises(DeviceParamsError, match=expected):
        YOLOv11PosePerformantRunner(open_emulated(params=params), **tiny_kwargs)


def test_a_bare_mesh_is_told_the_mesh_values(open_emulated: Callable[..., Any], tiny_kwargs: dict) -> None:
    with pytest.raises(DeviceParamsError) as error:
        YOLOv11PosePerformantRunner(open_emulated(num_devices=2, params={}), **tiny_kwargs)
    message = str(error.value)
    assert f"use trace_region_size={MESH_DEVICE_PARAMS['trace_region_size']}" in message
    assert "ttnn.open_mesh_device(mesh_shape=ttnn.MeshShape(1, 2), l1_small_size=24576" in message


def test_the_basic_runner_needs_only_l1_small(emulated: Any, tiny_kwargs: dict) -> None:
    bare = emulated.open(params={})
    with pytest.raises(DeviceParamsError, match="use l1_small_size=24576") as error:
        YOLOv11PoseBasicRunner(bare, **tiny_kwargs)
    assert "trace_region_size" not in str(error.value)
    emulated.close(bare)

    device = emulated.open(params={"l1_small_size": 24576})
    with YOLOv11PoseBasicRunner(device, **tiny_kwargs) as runner:
        assert runner.run_to_torch().shape[1] == 56
    with pytest.raises(DeviceParamsError) as error:
        YOLOv11PosePerformantRunner(device, **tiny_kwargs)
    lacks = str(error.value).split("lacks:")[1].split("\nopen it")[0]
    assert "trace_region_size" in lacks and "num_command_queues" in lacks and "l1_small_size" not in lacks


def test_every_arch_and_kind_has_its_row_with_a_reason_for_each_value() -> None:
    from pytest_ttpose.tt.device_params import DEVICE_PARAMS_TABLE

    assert set(DEVICE_PARAMS_TABLE) == {(a, k) for a in ("wormhole_b0", "blackhole") for k in ("device", "mesh")}
    for row in DEVICE_PARAMS_TABLE.values():
        for name, value in row.as_kwargs().items():
            assert any(reason.startswith(f"{name}={value}:") for reason in row.reasons), (name, value)


def test_a_blackhole_device_needs_blackholes_larger_trace_region(
    open_emulated: Callable[..., Any], tiny_kwargs: dict
) -> None:
    """Finding 3: one trace region for every single chip; Blackhole now needs tt-metal's Blackhole value."""
    device = open_emulated(arch="blackhole", params=SINGLE_DEVICE_PARAMS)  # the Wormhole row
    with pytest.raises(DeviceParamsError, match=r"use trace_region_size=23887872"):
        YOLOv11PosePerformantRunner(device, **tiny_kwargs)
