"""The emulator's model of conv2d's L1 (halo output, circular buffers, and tt-metal's check on them) against what the
real ttnn allocates on mocked n150 and p150 chips, case by case (``scenarios/conv_cases.py``).

Real ttnn records every circular buffer a program creates in its graph capture; the conv program is the last one of
each case. The emulator must predict the static region those buffers take (the part tt-metal checks against live L1
tensors), the weights buffer, and the halo's output shard, and must fail or pass each case with ttnn's own message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from scenario_runner import EMULATED_ARCH, open_emulated_device, run_scenario
from scenarios.conv_cases import CASES, ConvCase, run_conv

import pytest_ttpose.emulator as emulator
from pytest_ttpose.emulator.circular_buffers import static_region_end
from pytest_ttpose.emulator.memory import ARCHS
from pytest_ttpose.emulator.ops.conv_programs import ShardedConv, ShardedConvPlan, SlidingWindow, plan_sharded_conv

pytestmark = pytest.mark.requires_ttnn

PROGRAM_NUMBER = re.compile(r"in program \d+")  # tt-metal numbers every program it creates; only the rest must match


@pytest.fixture(scope="module", params=list(EMULATED_ARCH))
def ttnn_cases(request: pytest.FixtureRequest) -> tuple[str, dict[str, dict[str, Any]]]:
    result = run_scenario("conv_circular_buffers", request.param).result
    return request.param, {case["case"]: case for case in result["cases"]}


def plan_for(arch: str, case: ConvCase) -> ShardedConvPlan:
    grid_x, grid_y = ARCHS[EMULATED_ARCH[arch]].compute_grid
    window = SlidingWindow(
        case.batch,
        (case.size, case.size),
        (case.output_size, case.output_size),
        (case.kernel, case.kernel),
        (case.stride, case.stride),
        (1, 1),
        (case.pad,) * 4,
    )
    dtype = {"bfloat16": emulator.bfloat16, "bfloat8_b": emulator.bfloat8_b}
    conv = ShardedConv(
        window=window,
        in_channels=case.in_channels,
        out_channels=case.out_channels,
        input_dtype=emulator.bfloat16,
        weights_dtype=dtype[case.weights_dtype],
        output_dtype=dtype[case.output_dtype],
        has_bias=case.bias,
        output_layout=emulator.ROW_MAJOR_LAYOUT if case.row_major_output else emulator.TILE_LAYOUT,
        conv_config=emulator.Conv2dConfig(**case.options),
        compute_config=emulator.init_device_compute_kernel_config(
            emulator.Arch.WORMHOLE_B0, fp32_dest_acc_en=case.fp32_dest_acc_en, packer_l1_acc=case.packer_l1_acc
        ),
    )
    return plan_sharded_conv(conv, case.input_cores or grid_x * grid_y)


def conv_program(ttnn_case: dict[str, Any]) -> list[dict[str, Any]]:
    assert ttnn_case["programs"], f"{ttnn_case['case']}: real ttnn created no program"
    return ttnn_case["programs"][-1]


@pytest.fixture
def emulated_device(ttnn_cases: tuple[str, dict[str, Any]]) -> Iterator[emulator.MeshDevice]:
    with open_emulated_device(ttnn_cases[0]) as device:
        yield device


SLIDING_WINDOW_CASES = [case for case in CASES if not case.is_matmul]


@pytest.mark.parametrize("case", SLIDING_WINDOW_CASES, ids=[case.name for case in SLIDING_WINDOW_CASES])
def test_static_circular_buffers_take_the_room_ttnn_gives_them(
    ttnn_cases: tuple[str, dict[str, Any]], case: ConvCase
) -> None:
    arch, cases = ttnn_cases
    program = conv_program(cases[case.name])
    ttnn_static = [buffer["size"] for buffer in program if not buffer["global"]]
    plan = plan_for(arch, case)
    emulated_static = [buffer.size for buffer in plan.conv_buffers if not buffer.globally_allocated and buffer.size]
    assert static_region_end(0, plan.conv_buffers, 16) == sum(ttnn_static), (
        f"{arch} {case.name}: static circular buffers {emulated_static} (emulator) vs {ttnn_static} (ttnn)"
    )
    assert emulated_static[0] == ttnn_static[0], f"{arch} {case.name}: weights buffer"


@pytest.mark.parametrize("case", SLIDING_WINDOW_CASES, ids=[case.name for case in SLIDING_WINDOW_CASES])
def test_the_halo_output_shard_is_the_size_ttnn_allocates(
    ttnn_cases: tuple[str, dict[str, Any]], case: ConvCase
) -> None:
    arch, cases = ttnn_cases
    # The conv program's last buffer is the window onto the halo output (ttnn's ACT_SHARDED, created last).
    ttnn_halo_bytes = conv_program(cases[case.name])[-1]["size"]
    plan = plan_for(arch, case)
    assert plan.halo_rows * case.in_channels * 2 == ttnn_halo_bytes, f"{arch} {case.name}"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_emulator_fails_exactly_where_ttnn_fails_and_with_its_message(
    ttnn_cases: tuple[str, dict[str, Any]], emulated_device: emulator.MeshDevice, case: ConvCase
) -> None:
    arch, cases = ttnn_cases
    expected = cases[case.name]["error"]
    torch.manual_seed(0)
    try:
        emulator.deallocate(run_conv(emulator, emulated_device, case))
        message = None
    except RuntimeError as error:
        message = str(error).removeprefix("TT_THROW: ")
    if expected is None:
        assert message is None, f"{arch} {case.name}: real ttnn accepts this conv, the emulator says: {message}"
    else:
        assert message is not None, f"{arch} {case.name}: real ttnn rejects this conv ({expected}), the emulator ran it"
        # ttnn's message verbatim; the emulator may follow it with a parenthesised hint at the fix
        assert PROGRAM_NUMBER.sub("in program N", message).startswith(PROGRAM_NUMBER.sub("in program N", expected))


def test_the_calibration_covers_a_clash_and_an_overflow(ttnn_cases: tuple[str, dict[str, Any]]) -> None:
    arch, cases = ttnn_cases
    errors = [case["error"] or "" for case in cases.values()]
    if arch == "n150":
        assert any("clash with L1 buffers" in error for error in errors)
    assert any("beyond max L1 size" in error for error in errors)
