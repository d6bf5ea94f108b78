"""comp_pcc edge cases (tt-metal semantics) and the per-component PCC of the (B, 56, A) output and raw head tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pytest_ttpose.pose.metrics import (
    OUTPUT_COMPONENTS,
    comp_pcc,
    component_pcc,
    nonfinite_counts,
    raw_component_pcc,
)


def _random(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def test_both_all_nan_is_zero_unlike_tt_metal() -> None:
    """tt-metal says 1.0 here; two broken outputs are no match (all-NaN weights give exactly this)."""
    assert comp_pcc(torch.full((4, 4), math.nan), torch.full((4, 4), math.nan)) == 0.0
    assert component_pcc(torch.full((1, 56, 8), math.nan), torch.full((1, 56, 8), math.nan))["all"] == 0.0


def test_nonfinite_counts_per_component() -> None:
    output = _random((2, 56, 10))
    output[0, 4, 3] = math.nan  # score
    output[1, 5, 0:3] = math.inf  # x of keypoint 0
    counts = nonfinite_counts(output)
    assert counts == {"all": 4, "box": 0, "score": 1, "kpt_xy": 3, "kpt_vis": 0}
    assert nonfinite_counts(torch.tensor([1.0, math.nan, -math.inf])) == {"all": 2}


def test_one_all_nan_is_zero() -> None:
    assert comp_pcc(torch.full((4, 4), math.nan), _random((4, 4))) == 0.0
    assert comp_pcc(_random((4, 4)), torch.full((4, 4), math.nan)) == 0.0


def test_one_all_zero_is_zero() -> None:
    assert comp_pcc(torch.zeros(10), _random((10,))) == 0.0
    assert comp_pcc(_random((10,)), torch.zeros(10)) == 0.0


def test_equal_is_one() -> None:
    x = _random((3, 56, 50))
    assert comp_pcc(x, x.clone()) == 1.0
    assert comp_pcc(torch.zeros(5), torch.zeros(5)) == 1.0
    assert comp_pcc(torch.full((5,), 2.0), torch.full((5,), 2.0)) == 1.0


def test_matches_pearson_in_float64() -> None:
    golden, noise = _random((2, 56, 300), 1), _random((2, 56, 300), 2)
    calculated = golden + 0.3 * noise
    expected = np.corrcoef(golden.double().flatten().numpy(), calculated.double().flatten().numpy())[0, 1]
    assert comp_pcc(golden, calculated) == pytest.approx(expected, abs=1e-12)
    assert comp_pcc(golden, 2 * golden + 1) == pytest.approx(1.0, abs=1e-12)
    assert comp_pcc(golden, -golden) == pytest.approx(-1.0, abs=1e-12)
    assert comp_pcc(golden.numpy(), calculated.numpy()) == pytest.approx(expected, abs=1e-12)


def test_nan_and_inf_are_replaced_by_zero() -> None:
    golden = _random((1000,), 3)
    calculated = golden.clone()
    calculated[[1, 2]] = torch.tensor([math.inf, math.nan])
    patched = calculated.clone()
    patched[[1, 2]] = 0.0
    assert comp_pcc(golden, calculated) == pytest.approx(comp_pcc(golden, patched), abs=1e-15)
    assert 0.99 < comp_pcc(golden, calculated) < 1.0


def test_constant_but_different_fails() -> None:
    assert comp_pcc(torch.full((8,), 5.0), torch.full((8,), 6.0)) == 0.0
    assert comp_pcc(torch.full((8,), 5.0), torch.full((8,), 5.0 + 1e-9)) == 1.0


def test_bfloat16_is_compared_in_the_golden_dtype() -> None:
    golden = _random((500,), 4).to(torch.bfloat16)
    calculated = golden.float() * (1 + 5e-4)  # a fraction of a bf16 ulp: rounds back to the golden values
    assert comp_pcc(golden, calculated) == 1.0


def test_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(1, 56, 10\).*\(1, 56, 11\)"):
        comp_pcc(torch.zeros(1, 56, 10), torch.zeros(1, 56, 11))
    with pytest.raises(ValueError, match="equal shapes"):
        component_pcc(torch.zeros(1, 56, 10), torch.zeros(2, 56, 10))


def test_component_channels_cover_the_output() -> None:
    assert OUTPUT_COMPONENTS["all"] == list(range(56))
    parts = (
        OUTPUT_COMPONENTS["box"]
        + OUTPUT_COMPONENTS["score"]
        + OUTPUT_COMPONENTS["kpt_xy"]
        + OUTPUT_COMPONENTS["kpt_vis"]
    )
    assert sorted(parts) == list(range(56))


@pytest.mark.parametrize(
    ("component", "channel"), [("box", 2), ("score", 4), ("kpt_xy", 6), ("kpt_xy", 5), ("kpt_vis", 55)]
)
def test_component_pcc_isolates_a_damaged_component(component: str, channel: int) -> None:
    golden = _random((2, 56, 400), 5)
    calculated = golden.clone()
    calculated[:, channel] = _random((2, 400), 6)  # this channel is now unrelated
    result = component_pcc(golden, calculated)
    assert set(result) == {"all", "box", "score", "kpt_xy", "kpt_vis"}
    assert result[component] < 0.99
    assert all(value == 1.0 for name, value in result.items() if name not in (component, "all"))
    assert result["all"] < 1.0


def test_component_pcc_refuses_other_layouts() -> None:
    with pytest.raises(ValueError, match="56"):
        component_pcc(torch.zeros(1, 84, 10), torch.zeros(1, 84, 10))


def test_raw_component_pcc() -> None:
    golden = {"boxes": _random((1, 64, 100), 7), "scores": _random((1, 1, 100), 8), "kpts": _random((1, 51, 100), 9)}
    calculated = {k: v.clone() for k, v in golden.items()}
    calculated["kpts"][:, 2::3] = _random((1, 17, 100), 10)  # visibility logits damaged
    result = raw_component_pcc(golden, calculated)
    assert result["boxes"] == result["scores"] == result["kpt_xy"] == 1.0
    assert result["kpt_vis"] < 0.5 and result["kpts"] < 1.0
    with pytest.raises(ValueError, match="scores"):
        raw_component_pcc({"boxes": golden["boxes"], "kpts": golden["kpts"]}, calculated)
    with pytest.raises(ValueError, match="boxes"):
        raw_component_pcc(golden, {**calculated, "boxes": torch.zeros(1, 64, 99)})
