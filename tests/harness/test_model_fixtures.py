"""ttpose_infra / ttpose_runner / ttpose_dp_*: built lazily, once per matrix point and device, with the point's
settings; released before their device closes, also when tests fail; runners (traces) also when anything else is
built."""

from __future__ import annotations

import pytest

STAND_INS = """
import sys
import types

from conftest import DEVICE_LOG


class RunnerConfig:
    def __init__(self, **options):
        self.__dict__.update(options)


class StandIn:
    def __init__(self, device, device_batch_size, act_dtype, weight_dtype, resolution, *, config):
        self.device = device
        self.kwargs = dict(
            vars(config),
            device_batch_size=device_batch_size,
            act_dtype=act_dtype,
            weight_dtype=weight_dtype,
            resolution=resolution,
        )
        kwargs = self.kwargs
        height, width = kwargs["resolution"]
        point = f"{height}x{width}-b{kwargs['device_batch_size']}-{kwargs['act_dtype']}-{kwargs['weight_dtype']}"
        self.name = type(self).__name__ + "@" + device.label + ":" + point
        with DEVICE_LOG.open("a") as log:
            log.write("main build " + self.name + "\\n")

    def release(self):
        assert not self.device.closed
        with DEVICE_LOG.open("a") as log:
            log.write("main release " + self.name + "\\n")


runner = types.ModuleType("pytest_ttpose.runner")
runner.RunnerConfig = RunnerConfig
runner.YOLOv11PosePerformanceRunnerInfra = type("Infra", (StandIn,), {})
runner.YOLOv11PosePerformantRunner = type("Runner", (StandIn,), {})
runner.YOLOv11PoseBasicRunner = type("Basic", (StandIn,), {})
sys.modules["pytest_ttpose.runner"] = runner
"""

CASES = """
import pytest

SEEN = {}


@pytest.fixture(scope="session")
def ttpose_reference():
    return "reference"


def test_runner(ttpose_runner, ttpose_point):
    assert ttpose_runner.kwargs["reference_model"] == "reference"
    assert ttpose_runner.kwargs["scale"] == ttpose_point.scale
    assert ttpose_runner.kwargs["validate_on_capture"] is True

def test_infra(ttpose_infra, ttpose_point):
    SEEN.setdefault(ttpose_point.id, ttpose_infra)

def test_infra_again(ttpose_infra, ttpose_point):
    assert SEEN[ttpose_point.id] is ttpose_infra

def test_infra_fails(ttpose_infra):
    assert False, "fails, and its infra is still released"

def test_runner_dp(ttpose_dp_runner):
    pass
"""


def test_built_once_per_point_and_released_before_close(fake_tester: pytest.Pytester, device_log) -> None:
    """Infra is cached per point until the device closes. A runner holds a trace, so it is released as soon as
    anything else is built on its device (a later replay would overwrite buffers allocated after its capture).
    Before every build the device's program cache is cleared: its programs' config tensors would otherwise fill
    L1_SMALL point after point (finding 3 of the ttnn-mock dry run)."""
    fake_tester.makepyfile(stand_ins=STAND_INS, test_cases="import stand_ins  # noqa: F401\n" + CASES)
    result = fake_tester.runpytest("--ttpose-dtypes=bfloat16", "--ttpose-resolutions=64", "--ttpose-batch-sizes=1,2")
    result.assert_outcomes(passed=8, failed=2)
    assert device_log(program_cache=True) == [
        ("main", "open", "device0"),
        ("main", "clear-programs", "device0"),
        ("main", "build", "Runner@device0:64x64-b1-fake-bfloat16-fake-bfloat16"),
        ("main", "release", "Runner@device0:64x64-b1-fake-bfloat16-fake-bfloat16"),
        ("main", "clear-programs", "device0"),
        ("main", "build", "Runner@device0:64x64-b2-fake-bfloat16-fake-bfloat16"),
        ("main", "release", "Runner@device0:64x64-b2-fake-bfloat16-fake-bfloat16"),
        ("main", "clear-programs", "device0"),
        ("main", "build", "Infra@device0:64x64-b1-fake-bfloat16-fake-bfloat16"),
        ("main", "clear-programs", "device0"),
        ("main", "build", "Infra@device0:64x64-b2-fake-bfloat16-fake-bfloat16"),
        ("main", "release", "Infra@device0:64x64-b2-fake-bfloat16-fake-bfloat16"),
        ("main", "release", "Infra@device0:64x64-b1-fake-bfloat16-fake-bfloat16"),
        ("main", "close", "device0"),
        ("main", "open", "mesh1x2"),
        ("main", "clear-programs", "mesh1x2"),
        ("main", "build", "Runner@mesh1x2:64x64-b1-fake-bfloat16-fake-bfloat16"),
        ("main", "release", "Runner@mesh1x2:64x64-b1-fake-bfloat16-fake-bfloat16"),
        ("main", "clear-programs", "mesh1x2"),
        ("main", "build", "Runner@mesh1x2:64x64-b2-fake-bfloat16-fake-bfloat16"),
        ("main", "release", "Runner@mesh1x2:64x64-b2-fake-bfloat16-fake-bfloat16"),
        ("main", "close", "mesh1x2"),
    ]


def test_nothing_is_built_or_opened_when_unused(fake_tester: pytest.Pytester, device_log) -> None:
    fake_tester.makepyfile(stand_ins=STAND_INS, test_cases="import stand_ins  # noqa: F401\n" + CASES)
    fake_tester.runpytest("--co").assert_outcomes()
    fake_tester.runpytest("-k", "nothing").assert_outcomes(deselected=40)
    assert device_log() == []


def test_fixture_list_matches_the_fixtures_module() -> None:
    from pytest_ttpose.harness import fixtures
    from pytest_ttpose.harness.collection import TTPOSE_FIXTURES

    assert {name for name in vars(fixtures) if name.startswith("ttpose_")} == TTPOSE_FIXTURES
