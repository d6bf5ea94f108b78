"""The emulator answers the calls of third-party YOLO11 TT model code (issue 14) as the real ttnn 0.81.1 does on
mocked n150 and p150 chips, case by case (``scenarios/foreign_cases.py``).

Where real ttnn raises, the emulator raises the same error type with ttnn's message in its own. Where real ttnn
accepts, the emulator returns the same output spec (shape, padded shape, layout, dtype, memory layout, buffer type,
shard shape, grid and orientation), and its values follow torch. Real ttnn's values cannot be compared: a mocked
chip keeps no data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
from scenario_runner import EMULATED_ARCH, open_emulated_device, run_scenario
from scenarios.foreign_cases import CASES, ForeignCase, spec_of

import pytest_ttpose.emulator as emulator

pytestmark = pytest.mark.requires_ttnn

MIN_PCC = 0.999  # bfloat16 inputs and outputs; every case's values are O(1) random numbers

# Calls real ttnn accepts that the emulator refuses with NotImplementedError, because it cannot give their values.
NOT_MODELLED = {
    "slice tile end into the tile padding": "the values would be whatever the tile padding holds",
    "audit: max_pool2d of an input with fewer channels than stated": "ttnn reads past the input's rows",
}


@pytest.fixture(scope="module", params=list(EMULATED_ARCH))
def ttnn_answers(request: pytest.FixtureRequest) -> tuple[str, dict[str, dict[str, Any]]]:
    return request.param, run_scenario("foreign_calls", request.param).result["cases"]


@pytest.fixture
def emulated_device(ttnn_answers: tuple[str, dict[str, Any]]) -> Iterator[emulator.MeshDevice]:
    with open_emulated_device(ttnn_answers[0]) as device:
        yield device


def pcc(actual: torch.Tensor, expected: torch.Tensor) -> float:
    stacked = torch.stack([actual.flatten().double(), expected.flatten().double()])
    return float(torch.corrcoef(stacked)[0, 1])


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_emulator_answers_as_ttnn_does(
    ttnn_answers: tuple[str, dict[str, Any]], emulated_device: emulator.MeshDevice, case: ForeignCase
) -> None:
    arch, answers = ttnn_answers
    ttnn = answers[case.name]
    try:
        output, expected = case.run(emulator, emulated_device, torch.Generator().manual_seed(0))
    except NotImplementedError as refusal:
        assert case.name in NOT_MODELLED and "error" not in ttnn, f"{arch} {case.name}: emulator refuses: {refusal}"
        return
    except (RuntimeError, TypeError, ValueError, IndexError) as error:
        assert "error" in ttnn, (
            f"{arch} {case.name}: real ttnn accepts this call ({ttnn['spec']}), the emulator says {error}"
        )
        assert type(error).__name__ == ttnn["error_type"], f"{arch} {case.name}: {error!r}"
        assert ttnn["error"] in str(error), f"{arch} {case.name}: ttnn says {ttnn['error']!r}, the emulator {error}"
        return
    assert "error" not in ttnn, (
        f"{arch} {case.name}: real ttnn rejects this call ({ttnn['error']}), the emulator ran it"
    )
    assert case.name not in NOT_MODELLED, f"{arch} {case.name}: the emulator now models this call; update NOT_MODELLED"
    assert spec_of(output) == ttnn["spec"], f"{arch} {case.name}"
    if expected is not None:
        values = emulator.to_torch(output).float()
        assert values.shape == expected.shape, f"{arch} {case.name}"
        assert pcc(values, expected) >= MIN_PCC, f"{arch} {case.name}"


def test_the_cases_cover_both_answers(ttnn_answers: tuple[str, dict[str, Any]]) -> None:
    """The calibration holds calls ttnn rejects (the emulator must not repair them) and calls it accepts."""
    _, answers = ttnn_answers
    assert set(answers) == {case.name for case in CASES}
    rejected = [name for name, answer in answers.items() if "error" in answer]
    assert any(
        "Ends 416 must be less than or equal to the shape of the tensor 128" in answers[n]["error"] for n in rejected
    )
    assert len(rejected) < len(answers) // 2
