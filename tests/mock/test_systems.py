"""The multi-chip systems of the dry run against the real ttnn 0.81.1: shipped descriptors, which meshes each opens
(the rule of ``pytest_ttpose.harness.topology``), and what the plugin makes of them."""

from __future__ import annotations

import pytest
from cluster_descriptors import CLUSTER_DIR, GENERATED
from scenario_runner import run_scenario

from pytest_ttpose.harness.settings import MeshShape
from pytest_ttpose.harness.topology import Topology
from pytest_ttpose.mock import CLUSTERS, UNOPENABLE
from pytest_ttpose.systems import SYSTEMS

# Shapes tried on each system: every one ttnn opens and every one it refuses must agree with Topology.why_not.
SHAPES = {
    "t3k": ["1x2", "2x2", "2x3", "3x2", "2x4", "4x2", "1x8", "8x1"],
    "4xp150": ["1x2", "1x4", "4x1", "2x2"],
    "8xp150": ["1x8", "2x4", "2x2"],
    "2xp150-unlinked": ["1x2"],
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_shipped_descriptor_is_the_generated_one(name: str) -> None:
    system = GENERATED[name]
    assert CLUSTERS[name].descriptor_path == CLUSTER_DIR / system.file_name
    assert CLUSTERS[name].descriptor_path.read_text(encoding="utf-8") == system.yaml(), (
        "regenerate with: python tests/mock/cluster_descriptors.py"
    )


def test_every_named_system_has_a_descriptor() -> None:
    assert set(CLUSTERS) == set(SYSTEMS)
    assert all(cluster.descriptor_path.is_file() for cluster in CLUSTERS.values())


@pytest.mark.requires_ttnn
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_ttnn_opens_exactly_the_meshes_the_topology_allows(name: str) -> None:
    result = run_scenario("mesh_shapes", name, *SHAPES[name]).result
    arch, chips, (rows, cols) = SYSTEMS[name]
    topology = Topology(chips, MeshShape(rows, cols))
    assert result["available"] == chips
    assert sorted(result["system_mesh"].split("x")) == sorted([str(rows), str(cols)])  # ttnn may list it as Nx1
    for shape, outcome in result["outcomes"].items():
        r, c = (int(part) for part in shape.split("x"))
        expected_open = topology.why_not(MeshShape(r, c)) is None
        assert outcome.startswith("opened") is expected_open, f"{name} {shape}: ttnn {outcome}"


@pytest.mark.requires_ttnn
def test_t3k_header_shows_its_2x4_mesh(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ttpose-backend=ttnn-mock", "--ttpose-arch=t3k")
    result.stdout.fnmatch_lines(["*backend ttnn-mock, arch t3k, device 0 of 8, mesh 2x4*"])


@pytest.mark.requires_ttnn
def test_4xp150_header_shows_its_1x4_mesh_and_refuses_2x2_naming_the_option(pytester: pytest.Pytester) -> None:
    pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ttpose-backend=ttnn-mock", "--ttpose-arch=4xp150"
    ).stdout.fnmatch_lines(["*device 0 of 4, mesh 1x4*"])
    refused = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ttpose-backend=ttnn-mock", "--ttpose-arch=4xp150", "--ttpose-mesh-shape=2x2"
    )
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*--ttpose-mesh-shape=2x2: *cannot open this mesh: the linked chips form a 1x4*"])


@pytest.mark.requires_ttnn
def test_the_galaxy_dry_run_is_refused_with_the_reason(pytester: pytest.Pytester) -> None:
    refused = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ttpose-backend=ttnn-mock", "--ttpose-arch=galaxy"
    )
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*--ttpose-arch=galaxy cannot be dry-run: ttnn 0.81.1's mock mode cannot open*"])
    assert "galaxy" in UNOPENABLE


@pytest.mark.requires_ttnn
def test_unlinked_p150s_skip_data_parallel_cases_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_mesh_dp(ttpose_mesh_device):\n    raise AssertionError('no mesh should open')\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-rs", "--ttpose-backend=ttnn-mock", "--ttpose-arch=2xp150-unlinked"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*device 0 of 2, mesh 1x1*", "*SKIPPED*not ethernet-linked*"])
