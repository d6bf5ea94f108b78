"""The emulator places max_pool2d's and conv2d's outputs as the real ttnn 0.81.1's sliding-window planners do on
mocked n150 and p150 chips (``scenarios/sliding_window_cases.py``): the same output spec (shape, padded shape,
layout, dtype, memory layout, buffer type, shard shape, grid and orientation), or the same refusal, and values that
follow torch. Real ttnn's values cannot be compared: a mocked chip keeps no data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
from scenario_runner import EMULATED_ARCH, open_emulated_device, run_scenario
from scenarios.foreign_cases import spec_of
from scenarios.sliding_window_cases import CASES, SlidingWindowCase

import pytest_ttpose.emulator as emulator
from pytest_ttpose.pose.metrics import comp_pcc

pytestmark = pytest.mark.requires_ttnn

MIN_PCC = 0.999  # bfloat16 inputs and weights, the reference computed on the same rounded values


@pytest.fixture(scope="module", params=list(EMULATED_ARCH))
def ttnn_answers(request: pytest.FixtureRequest) -> tuple[str, dict[str, dict[str, Any]]]:
    return request.param, run_scenario("sliding_window_plans", request.param).result["cases"]


@pytest.fixture
def emulated_device(ttnn_answers: tuple[str, dict[str, Any]]) -> Iterator[emulator.MeshDevice]:
    with open_emulated_device(ttnn_answers[0]) as device:
        yield device


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_emulator_places_the_output_as_ttnn_does(
    ttnn_answers: tuple[str, dict[str, dict[str, Any]]], emulated_device: emulator.MeshDevice, case: SlidingWindowCase
) -> None:
    arch, answers = ttnn_answers
    ttnn = answers[case.name]
    try:
        output, expected = case.run(emulator, emulated_device, torch.Generator().manual_seed(0))
    except RuntimeError as error:
        assert "error" in ttnn, f"{arch} {case.name}: real ttnn accepts it ({ttnn['spec']}), the emulator says {error}"
        assert ttnn["error"].split(" (")[0] in str(error), f"{arch} {case.name}"
        return
    assert "spec" in ttnn, f"{arch} {case.name}: real ttnn refuses it ({ttnn['error']}), the emulator ran it"
    assert spec_of(output) == ttnn["spec"], f"{arch} {case.name}"
    values = emulator.to_torch(output).float()
    assert values.shape == expected.shape, f"{arch} {case.name}"
    assert comp_pcc(expected, values) >= MIN_PCC, f"{arch} {case.name}"


def test_the_cases_cover_every_placement(ttnn_answers: tuple[str, dict[str, dict[str, Any]]]) -> None:
    """The calibration holds refusals, and outputs in each sharding scheme and in DRAM."""
    _, answers = ttnn_answers
    assert set(answers) == {case.name for case in CASES}
    placements = {answer["spec"]["memory_layout"] for answer in answers.values() if "spec" in answer}
    assert placements == {"HEIGHT_SHARDED", "WIDTH_SHARDED", "BLOCK_SHARDED", "INTERLEAVED"}
    assert any("Conv2d supports Height, Block or Width" in answer.get("error", "") for answer in answers.values())
