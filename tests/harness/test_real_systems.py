"""What the ttnn backend would meet on real machines, checked on a fake ttnn that answers like ttnn 0.81.1 on the
mocked systems: an N300 is one device node with two chips, two P150 cards may lack an ethernet link, and each
pytest-xdist worker must see only its own card."""

from __future__ import annotations

from pathlib import Path

import pytest

FAKE_TTNN_SOURCE = Path(__file__).with_name("fake_ttnn_hardware.py").read_text(encoding="utf-8")
# The machine's device nodes; ttnn itself is the fake ttnn.py next to this conftest.
HARDWARE_CONFTEST = """
import os

import pytest_ttpose.harness.backends as backends

backends.tt_device_ids = lambda device_dir=None: [int(node) for node in os.environ["FAKE_TT_NODES"].split(",")]
backends.installed_ttnn_version = lambda: "0.81.1"
"""

MESH_TEST = """
def test_mesh_dp(ttpose_mesh_device):
    assert ttpose_mesh_device.label == "mesh{expected}"

def test_single(ttpose_device):
    assert ttpose_device.label == "device0"
"""


@pytest.fixture
def hardware(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.delenv("TT_VISIBLE_DEVICES", raising=False)
    pytester.makeconftest(HARDWARE_CONFTEST)
    pytester.makepyfile(ttnn=FAKE_TTNN_SOURCE)
    pytester.makeini("[pytest]\nttpose_backend = ttnn\n")
    return pytester


def machine(monkeypatch: pytest.MonkeyPatch, nodes: str, chips_per_node: int, system_mesh: str) -> None:
    monkeypatch.setenv("FAKE_TT_NODES", nodes)
    monkeypatch.setenv("FAKE_TT_CHIPS_PER_NODE", str(chips_per_node))
    monkeypatch.setenv("FAKE_TT_SYSTEM_MESH", system_mesh)


def log(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "ttnn_log.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_an_n300_runs_its_data_parallel_cases_on_a_1x2_mesh(
    hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 1: one device node, two chips. Counting nodes found 1 device and skipped every _dp case."""
    machine(monkeypatch, nodes="0", chips_per_node=2, system_mesh="1x2")
    hardware.makepyfile(MESH_TEST.format(expected="1x2"))
    result = hardware.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*backend ttnn*device 0 of 2, mesh 1x2*"])
    assert "open mesh 1x2 trace_region_size=23887872" in log(hardware)


def test_an_n300_accepts_an_explicit_1x2_mesh(hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    machine(monkeypatch, nodes="0", chips_per_node=2, system_mesh="1x2")
    hardware.makepyfile(MESH_TEST.format(expected="1x2"))
    hardware.runpytest_subprocess("-p", "no:cacheprovider", "--ttpose-mesh-shape=1x2").assert_outcomes(passed=2)


def test_unlinked_cards_skip_data_parallel_cases_saying_why(
    hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 2: two P150s without a link are two devices but no mesh; their _dp cases skip, never error."""
    machine(monkeypatch, nodes="0,1", chips_per_node=1, system_mesh="1x1")
    hardware.makepyfile(MESH_TEST.format(expected="1x2"))
    result = hardware.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*device 0 of 2, mesh 1x1*", "*SKIPPED*not ethernet-linked*pytest -n 2*"])
    assert not [line for line in log(hardware) if line.startswith("open mesh")]


def test_unlinked_cards_refuse_an_explicit_mesh_naming_the_option(
    hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine(monkeypatch, nodes="0,1", chips_per_node=1, system_mesh="1x1")
    result = hardware.runpytest_subprocess("-p", "no:cacheprovider", "--ttpose-mesh-shape=1x2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ttpose-mesh-shape=1x2: *cannot open this mesh*not ethernet-linked*"])


def test_each_xdist_worker_sees_only_its_card(hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 6: worker gwK restricts ttnn to card K (TT_VISIBLE_DEVICES) before ttnn counts, and opens its
    device 0; no worker counts the whole machine."""
    pytest.importorskip("xdist")
    machine(monkeypatch, nodes="0,1", chips_per_node=1, system_mesh="1x2")
    hardware.makepyfile(
        """
import os
import pytest

@pytest.mark.parametrize("n", range(4))
def test_single(ttpose_device, n):
    assert ttpose_device.label == "device0"
"""
    )
    hardware.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=4)
    lines = log(hardware)
    worker_counts = sorted(line for line in lines if line.startswith("count visible=") and line != "count visible=None")
    assert worker_counts == ["count visible=0", "count visible=1"]
    assert sorted(line for line in lines if line.startswith("open device")) == [
        "open device 0 visible=0",
        "open device 0 visible=1",
    ]


def test_more_workers_than_cards_is_a_usage_error(hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    machine(monkeypatch, nodes="0", chips_per_node=2, system_mesh="1x2")
    result = hardware.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    assert result.ret != pytest.ExitCode.OK
    assert "use -n 1 or fewer" in result.stdout.str() + result.stderr.str()


def test_the_header_points_to_the_machine_check(hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    machine(monkeypatch, nodes="0", chips_per_node=1, system_mesh="1x1")
    hardware.runpytest_subprocess("-p", "no:cacheprovider").stdout.fnmatch_lines(
        ["ttpose: machine check: python -m pytest_ttpose.doctor"]
    )


def test_auto_with_a_tt_device_chooses_ttnn(hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    machine(monkeypatch, nodes="0,1", chips_per_node=1, system_mesh="1x2")
    result = hardware.runpytest_subprocess("-p", "no:cacheprovider", "--ttpose-backend=auto")
    result.stdout.fnmatch_lines(["ttpose: backend ttnn (auto: Tenstorrent device found), *device 0 of 2, mesh 1x2*"])


def test_chips_ttnn_cannot_enumerate_are_a_usage_error_pointing_to_the_doctor(
    hardware: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine(monkeypatch, nodes="0", chips_per_node=0, system_mesh="1x1")
    hardware.makepyfile(
        ttnn=FAKE_TTNN_SOURCE
        + "\n\ndef GetNumAvailableDevices():  # noqa: N802\n    raise RuntimeError('TT_FATAL: num_chips > 0')\n"
    )
    result = hardware.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ttnn could not enumerate the chips (TT_FATAL: num_chips > 0)*pytest_ttpose.doctor*"])
