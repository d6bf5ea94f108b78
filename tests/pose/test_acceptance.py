"""The one home of the pass rules: components, PCC floors per dtype, the baseline comparison and the FPS floor."""

from __future__ import annotations

import math

import pytest

from pytest_ttpose.harness import settings
from pytest_ttpose.pose.acceptance import COMPONENTS, PCC_FLOORS, compare_pcc, fps_floor, pcc_floor
from pytest_ttpose.pose.metrics import OUTPUT_COMPONENTS


def test_floor_is_the_looser_dtype() -> None:
    assert pcc_floor("bfloat16", "bfloat8_b") == PCC_FLOORS["bfloat8_b"]
    assert pcc_floor("bfloat8_b", "bfloat16") == PCC_FLOORS["bfloat8_b"]


def test_every_dtype_the_options_accept_has_a_floor() -> None:
    assert set(settings.DTYPES) <= set(PCC_FLOORS)


def test_an_unknown_dtype_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="no PCC floor for dtype 'int8'; known: bfloat16, bfloat8_b"):
        pcc_floor("int8", "bfloat16")


def test_the_metrics_compute_exactly_the_checked_components() -> None:
    assert tuple(OUTPUT_COMPONENTS) == COMPONENTS


def test_compare_pcc() -> None:
    thresholds = dict.fromkeys(("all", "box"), 0.97)
    assert compare_pcc({"all": 0.99, "box": 0.98}, thresholds, {"all": 0.991, "box": 0.99}, 0.002) == [
        compare_pcc({"box": 0.98}, thresholds, {"box": 0.99}, 0.002)[0]
    ]
    (finding,) = compare_pcc({"all": 0.96}, thresholds, None, 0.002)
    assert (finding.reason, finding.floor) == ("threshold", 0.97)
    (nan,) = compare_pcc({"all": math.nan}, thresholds, None, 0.002)
    assert nan.reason == "threshold"
    assert compare_pcc({"all": 0.99}, thresholds, {"all": 0.992}, 0.002) == []
    assert "failed on the baseline" in compare_pcc({"all": 0.98}, thresholds, {"all": 0.99}, 0.002)[0].describe()


def test_fps_floor() -> None:
    assert fps_floor(100.0, 0.1) == pytest.approx(90.0)
