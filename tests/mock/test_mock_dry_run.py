"""The real ttnn on mocked clusters: systems open, ops run and are validated, the fit report reads the allocator.

Each case runs a script from ``scenarios/`` in a subprocess, because ttnn fixes its cluster per process.
"""

from __future__ import annotations

import json

import pytest
from scenario_runner import run_scenario

from pytest_ttpose.mock import CLUSTERS, UNOPENABLE

pytestmark = pytest.mark.requires_ttnn


@pytest.mark.parametrize(
    "arch",
    [
        # A system ttnn 0.81.1's mock cannot open is an expected failure, not a skip: CI insists that every test needing
        # the real ttnn runs, and a strict xfail turns red the day the system opens (drop it from UNOPENABLE then).
        pytest.param(name, marks=pytest.mark.xfail(reason=UNOPENABLE[name], strict=True))
        if name in UNOPENABLE
        else name
        for name in CLUSTERS
    ],
)
def test_the_mocked_system_opens_and_runs_an_op_on_every_chip(arch: str) -> None:
    cluster = CLUSTERS[arch]
    result = run_scenario("open_system", arch).result
    opened = cluster.mesh_shape[0] * cluster.mesh_shape[1]  # unlinked chips open one at a time
    assert result["arch"].lower().endswith(cluster.chip_arch)
    assert result["available_devices"] == cluster.num_chips  # ttnn counts every chip, linked or not
    assert result["num_devices"] == opened
    assert result["mesh_shape"] == list(cluster.mesh_shape)
    assert result["matmul_shape"] == [opened, 1, 64, 64]  # one result per chip, concatenated
    assert result["bound_to_mock_api"], "the device must be bound to the dry-run namespace for api_for(device)"
    assert result["l1_bank_size"] > 0


@pytest.fixture(scope="module")
def p150_conv_run() -> dict:
    return run_scenario("conv_relu_matmul", "p150").result


@pytest.fixture(scope="module")
def rejections() -> dict:
    return run_scenario("rejections", "n150").result


def test_conv_relu_matmul_runs_and_reports_its_l1_fit(p150_conv_run: dict) -> None:
    result = p150_conv_run
    assert result["conv_output_hw"] == [32, 32]
    assert result["output_shape"] == [1, 1, 32 * 32, 64]
    fit = result["fit"]
    assert fit["peak_cb"] > 0, "a conv creates circular buffers; none recorded means the capture saw no program"
    assert fit["peak_l1"] > 0
    assert max(fit["peak_cb"], fit["peak_l1"]) <= fit["peak_total"] <= fit["peak_cb"] + fit["peak_l1"]
    assert fit["required"] == fit["resident_l1"] + fit["peak_total"]
    assert fit["fits"] is (fit["required"] <= fit["bank_size"])
    assert json.loads(result["fit_json"]) == fit
    assert f"{fit['bank_size']:,} B" in result["fit_text"]


def test_fit_on_a_mesh_is_per_chip_not_summed_over_chips(p150_conv_run: dict) -> None:
    single = p150_conv_run["fit"]
    mesh = run_scenario("conv_relu_matmul", "2xp150").result["fit"]
    assert mesh == single  # same chips, same program on each: the per-core peak must not double


def test_an_oversized_l1_shard_fails_with_ttnns_out_of_memory(rejections: dict) -> None:
    message = rejections["oversized_l1_shard"]
    assert "Out of Memory: Not enough space to allocate 8388608 B L1 buffer across 1 banks" in message


def test_a_conv2d_with_wrong_in_channels_fails_with_ttnns_message(rejections: dict) -> None:
    message = rejections["conv2d_wrong_in_channels"]
    assert "Attempting to reshape between two shapes with different volumes" in message
