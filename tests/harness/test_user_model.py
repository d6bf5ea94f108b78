"""--ttpose-runner / --ttpose-tt-model / --ttpose-output, and `import ttnn` in an emulator session.

The runner doubles below run the torch reference on the host and put its output on the device the way a user's
model leaves it: they test the harness's plumbing (build per point, output adapter, PCC, baselines, release), in
a fraction of a TT model's time. The mirrored one feeds its model the image flipped left-right.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest
import torch

import pytest_ttpose

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = Path(pytest_ttpose.__file__).resolve().parents[1]
SUITE_ARGS = (
    "--ttpose-backend=emulator",
    "--ttpose-resolutions=320",
    "--ttpose-batch-sizes=1",
    "--ttpose-dtypes=bfloat16/bfloat16",
)

HOST_RUNNERS = """
import torch
import ttnn


class HostRunner:
    mirrored = False

    def __init__(self, device, device_batch_size, act_dtype, weight_dtype, resolution, *, reference_model):
        self.device = device
        self.reference_model = reference_model
        self.output = None
        self.mapper = ttnn.ShardTensorToMesh(device, dim=0) if device.get_num_devices() > 1 else None

    def run(self, torch_input_tensor):
        image = torch_input_tensor.flip(-1) if self.mirrored else torch_input_tensor
        with torch.no_grad():
            decoded = self.reference_model(image)
        if self.output is not None:
            ttnn.deallocate(self.output)
        # (B, 1, A, 56) in TILE layout: the layout a TT head's last matmul leaves
        rows = decoded.transpose(1, 2).unsqueeze(1).contiguous()
        self.output = ttnn.from_torch(
            rows, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=self.device, mesh_mapper=self.mapper
        )
        return self.output

    def release(self):
        if self.output is not None:
            ttnn.deallocate(self.output)
            self.output = None


class MirroredRunner(HostRunner):
    mirrored = True


class NoRelease:
    def __init__(self, device, device_batch_size, act_dtype, weight_dtype, resolution):
        pass

    def run(self, torch_input_tensor):
        return torch_input_tensor


class TooFewParameters:
    def __init__(self, device, batch_size):
        pass

    def run(self, torch_input_tensor):
        return torch_input_tensor

    def release(self):
        pass
"""


@pytest.fixture
def emulator_tester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    # The runner module, and this checkout's package (not another install's), for subprocess runs too.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pytester.path), str(PACKAGE_ROOT)]))
    pytester.makepyfile(host_runners=HOST_RUNNERS)
    pytester.syspathinsert()
    return pytester


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--ttpose-runner=no_such_module:Runner"], "cannot import module 'no_such_module'"),
        (["--ttpose-runner=host_runners:Missing"], "has no attribute 'Missing'"),
        (["--ttpose-runner=host_runners"], "not of the form MODULE:NAME"),
        (["--ttpose-runner=host_runners:NoRelease"], "has no release method"),
        (["--ttpose-runner=host_runners:TooFewParameters"], "does not fit the call"),
        (["--ttpose-tt-model=host_runners:HostRunner"], "does not fit the call"),
        (["--ttpose-runner=host_runners:HostRunner", "--ttpose-output=host_runners:HostRunner"], "--ttpose-output"),
        (["--ttpose-runner=host_runners:HostRunner", "--ttpose-tt-model=x:y"], "also given: --ttpose-tt-model"),
    ],
)
def test_a_runner_that_does_not_fit_is_one_usage_error(
    emulator_tester: pytest.Pytester, args: list[str], problem: str
) -> None:
    emulator_tester.makepyfile(test_case="def test_case(ttpose_point):\n    pass\n")
    result = emulator_tester.runpytest("--ttpose-backend=emulator", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr.lines
    named = errors[0].removeprefix("ERROR: ").split("=")[0]
    assert named in [arg.split("=")[0] for arg in args] and problem in errors[0], errors[0]


def test_suites_run_on_a_user_runner_and_a_mirrored_one_fails_pcc(emulator_tester: pytest.Pytester) -> None:
    suites = str(ROOT / "suites" / "test_pcc_pose.py")
    baselines = f"--ttpose-baseline-dir={emulator_tester.path / 'baselines'}"
    runner = "--ttpose-runner=host_runners:HostRunner"
    # In subprocesses: the suites import cv2, which cannot be imported twice in one process.
    run = emulator_tester.runpytest_subprocess
    first = run(suites, *SUITE_ARGS, runner, baselines, "--ttpose-update-baselines")
    first.assert_outcomes(passed=1)
    header = "\n".join(first.outlines)
    assert "ttpose: model host_runners:HostRunner (your runner)" in header
    assert "`import ttnn` gives pytest_ttpose.emulator" in header
    (written,) = (emulator_tester.path / "baselines").iterdir()
    assert written.name.endswith("_model-host_runners-HostRunner.json")
    assert '"model": "host_runners:HostRunner"' in written.read_text()
    run(suites, *SUITE_ARGS, runner, baselines).assert_outcomes(passed=1)

    mirrored = run(suites, *SUITE_ARGS, "--ttpose-runner=host_runners:MirroredRunner", baselines)
    mirrored.assert_outcomes(failed=1)
    mirrored.stdout.fnmatch_lines(["*FAIL below threshold*"])


def test_block_tests_skip_under_a_user_model_and_say_why(emulator_tester: pytest.Pytester) -> None:
    suites = str(ROOT / "suites" / "test_modules_pose.py")
    result = emulator_tester.runpytest_subprocess(suites, *SUITE_ARGS, "--ttpose-runner=host_runners:HostRunner", "-rs")
    result.assert_outcomes(skipped=5)
    result.stdout.fnmatch_lines(["*block tests feed the bundled model's blocks*host_runners:HostRunner*"])


USER_MODULE = """
import sys

import ttnn
import ttnn.model_preprocessing
from ttnn import from_torch

import pytest_ttpose.emulator


def test_user_code_sees_the_emulator():
    assert ttnn is pytest_ttpose.emulator
    assert from_torch is pytest_ttpose.emulator.from_torch
    assert ttnn.model_preprocessing is sys.modules["pytest_ttpose.emulator.model_preprocessing"]
"""

STAND_IN_PREPROCESSING = """
import importlib.util
import sys
import types

# Where the emulator has no model_preprocessing yet, a stand-in at that name shows that ttnn.model_preprocessing
# resolves to whatever pytest_ttpose.emulator.model_preprocessing is.
if importlib.util.find_spec("pytest_ttpose.emulator.model_preprocessing") is None:
    stand_in = types.ModuleType("pytest_ttpose.emulator.model_preprocessing")
    sys.modules[stand_in.__name__] = stand_in
"""


@pytest.mark.requires_ttnn
def test_import_ttnn_gives_the_emulator_in_an_emulator_session(
    real_ttnn: object, emulator_tester: pytest.Pytester
) -> None:
    """The real ttnn is installed (and imported by this process), yet the user's module sees the emulator; after
    the session `ttnn` is the real package again."""
    emulator_tester.makeconftest(STAND_IN_PREPROCESSING)
    emulator_tester.makepyfile(test_user=USER_MODULE)
    emulator_tester.runpytest("--ttpose-backend=emulator").assert_outcomes(passed=1)
    import ttnn

    assert ttnn is real_ttnn


@pytest.mark.requires_ttnn
def test_import_ttnn_installed_keeps_the_real_package(real_ttnn: object, emulator_tester: pytest.Pytester) -> None:
    emulator_tester.makepyfile(
        test_user="import ttnn\nimport pytest_ttpose.emulator\n\n"
        "def test_real():\n    assert ttnn is not pytest_ttpose.emulator and hasattr(ttnn, 'get_arch_name')\n"
    )
    emulator_tester.runpytest("--ttpose-backend=emulator", "--ttpose-import-ttnn=installed").assert_outcomes(passed=1)


def test_a_ttnn_submodule_the_emulator_lacks_is_a_clear_import_error(emulator_tester: pytest.Pytester) -> None:
    emulator_tester.makepyfile(
        test_user="import pytest\n\ndef test_missing():\n"
        "    with pytest.raises(ModuleNotFoundError, match='ttpose emulator'):\n"
        "        import ttnn.no_such_part  # noqa: F401\n"
    )
    emulator_tester.runpytest("--ttpose-backend=emulator").assert_outcomes(passed=1)


# the default output adapter --------------------------------------------------------------------------------------
ANCHORS = 2100  # at 320x320: 40*40 + 20*20 + 10*10


def _emulator() -> Any:
    # sys.modules' entry, as the seam finds it: nested pytester runs restore sys.modules but not package attributes.
    return importlib.import_module("pytest_ttpose.emulator")


@pytest.fixture(scope="module")
def emulated_device():  # type: ignore[no-untyped-def]
    emulator = _emulator()
    device = emulator.open_device(device_id=0)
    yield device
    emulator.close_device(device)


@pytest.mark.parametrize(
    "layout",
    ["B,56,A", "B,A,56", "B,1,A,56", "B,1,56,A", "B,1,A,56 padded to tiles", "torch B,56,A"],
)
def test_the_default_adapter_reads_the_common_layouts(emulated_device, layout: str) -> None:  # type: ignore[no-untyped-def]
    from pytest_ttpose.runner.user import read_output

    emulator = _emulator()
    expected = torch.randn(2, 56, ANCHORS)
    source = {
        "B,56,A": expected,
        "B,A,56": expected.transpose(1, 2),
        "B,1,A,56": expected.transpose(1, 2).unsqueeze(1),
        "B,1,56,A": expected.unsqueeze(1),
        "B,1,A,56 padded to tiles": torch.nn.functional.pad(expected.transpose(1, 2).unsqueeze(1), (0, 8, 0, 12)),
        "torch B,56,A": expected,
    }[layout].contiguous()
    output = (
        source
        if layout.startswith("torch")
        else emulator.from_torch(source, dtype=emulator.float32, layout=emulator.TILE_LAYOUT, device=emulated_device)
    )
    read = read_output(output, emulated_device, None, batch=2, resolution=(320, 320))
    assert torch.equal(read, expected)


def test_an_unreadable_output_names_the_shape_and_the_option(emulated_device) -> None:  # type: ignore[no-untyped-def]
    from pytest_ttpose.runner.user import OutputLayoutError, read_output

    with pytest.raises(OutputLayoutError, match=r"\(2, 65, 2100\).*--ttpose-output=MODULE:FUNC"):
        read_output(torch.zeros(2, 65, ANCHORS), emulated_device, None, batch=2, resolution=(320, 320))


@pytest.mark.requires_ttnn
def test_import_ttnn_under_the_dry_run_gives_the_real_ttnn_with_the_stand_ins(
    real_ttnn: Any, emulator_tester: pytest.Pytester
) -> None:
    """Mock mode crashes on trace and event calls: user code gets the dry run's namespace, the real ttnn otherwise."""
    emulator_tester.makepyfile(
        test_user="import ttnn\n\n"
        "def test_namespace():\n"
        "    import ttnn.model_preprocessing  # a real submodule of the installed package\n"
        "    from pytest_ttpose.mock.api import MockTtnn\n"
        "    assert ttnn.execute_trace.__self__.__class__ is MockTtnn\n"
        "    assert ttnn.from_torch is ttnn.execute_trace.__self__.real.from_torch\n"
        "    assert ttnn.model_preprocessing.__name__ == 'ttnn.model_preprocessing'\n"
    )
    result = emulator_tester.runpytest_subprocess("--ttpose-backend=ttnn-mock", "--ttpose-arch=n150")
    result.assert_outcomes(passed=1)


HOST_MODELS = '''
import torch
import ttnn


class HostModel:
    """A TT model double for --ttpose-tt-model: reads the harness's device input back, runs the reference."""

    def __init__(self, device, reference_model, resolution, batch_size):
        self.device, self.reference_model = device, reference_model
        self.resolution, self.batch_size = resolution, batch_size

    def __call__(self, input_tensor):
        height, width = self.resolution
        pixels = ttnn.to_torch(input_tensor).reshape(self.batch_size, 3, height, width)  # the NCHW RGB input
        with torch.no_grad():
            decoded = self.reference_model(pixels.float())
        return ttnn.from_torch(decoded, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=self.device)


def make_model(device, reference_model, act_dtype, weight_dtype, resolution, batch_size):
    return HostModel(device, reference_model, resolution, batch_size)
'''


def test_a_user_tt_model_is_driven_by_the_harness_infra(emulator_tester: pytest.Pytester) -> None:
    emulator_tester.makepyfile(host_models=HOST_MODELS)
    suites = str(ROOT / "suites" / "test_pcc_pose.py")
    result = emulator_tester.runpytest_subprocess(
        suites, *SUITE_ARGS, "--ttpose-tt-model=host_models:make_model", "--ttpose-update-baselines"
    )
    result.assert_outcomes(passed=1)
    header = "ttpose: model host_models:make_model (your TT model, traced by pytest_ttpose.runner)*"
    result.stdout.fnmatch_lines([header])


HOOK_CONFTEST = """
def pytest_ttpose_make_runner(device, device_batch_size, act_dtype, weight_dtype, resolution, reference_model,
                              torch_input_tensor):
    from host_runners import HostRunner  # imported here, after the session's `import ttnn` alias is in place

    return HostRunner(device, device_batch_size, act_dtype, weight_dtype, resolution, reference_model=reference_model)
"""


def test_a_conftest_hook_builds_the_runner(emulator_tester: pytest.Pytester) -> None:
    emulator_tester.makeconftest(HOOK_CONFTEST)
    suites = str(ROOT / "suites" / "test_pcc_pose.py")
    result = emulator_tester.runpytest_subprocess(
        suites, *SUITE_ARGS, f"--rootdir={emulator_tester.path}", "--ttpose-update-baselines", "-p", "conftest"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ttpose: model hook:conftest (your runner)*"])
    (written,) = (emulator_tester.path / "baselines").iterdir()
    assert written.name.endswith("_model-hook-conftest.json")
