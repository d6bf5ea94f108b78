"""Extension points of pytest-ttpose, added through ``pytest_addhooks``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_ttpose.harness.backends import BackendFactory


@pytest.hookspec
def pytest_ttpose_add_backends(backends: dict[str, BackendFactory]) -> None:
    """Add or replace backends by name before the options are resolved.

    ``backends`` maps the ``--ttpose-backend`` name to a factory taking a ``BackendRequest`` and returning a
    ``pytest_ttpose.harness.backends.Backend``. Implement it in a ``conftest.py`` or a plugin to run the suites on a
    device layer of your own (the plugin's own tests plug a fake backend in this way).
    """


@pytest.hookspec(firstresult=True)
def pytest_ttpose_make_runner(
    device: Any,
    device_batch_size: int,
    act_dtype: Any,
    weight_dtype: Any,
    resolution: tuple[int, int],
    reference_model: Any,
    torch_input_tensor: Any,
) -> Any:
    """Build the runner the suites validate instead of the bundled one, for one matrix point on ``device`` (the
    single device, or the mesh of the ``_dp`` cases); return None to let the next implementation decide.

    The runner has the spec's API (``run(torch_input_tensor)`` returning the device output, ``release()``); the
    harness reads the output with the runner's ``output_to_torch(output)`` if it has one, else with
    ``--ttpose-output`` or the default adapter, checks PCC and FPS, and releases it (also after a failure). Use
    the hook when ``--ttpose-runner=MODULE:CLASS`` cannot build it as is (another constructor, a wrapper). Put
    the implementation in the ``conftest.py`` of the folder pytest is given (it must be loaded before the session
    starts); its baselines are filed under ``hook:<that module's name>``. Copy and adapt::

        # conftest.py
        def pytest_ttpose_make_runner(device, device_batch_size, act_dtype, weight_dtype, resolution,
                                      reference_model, torch_input_tensor):
            # import here, not at the top: the conftest loads before the session's `import ttnn` alias exists
            from my_models.yolo11_pose.runner import MyPoseRunner

            return MyPoseRunner(
                mesh_device=device,
                batch_size_per_device=device_batch_size,
                act_dtype=act_dtype,
                weight_dtype=weight_dtype,
                resolution=resolution,
                state_dict=reference_model.state_dict(),
            )
    """


@pytest.hookspec(firstresult=True)
def pytest_ttpose_make_tt_model(
    device: Any,
    reference_model: Any,
    act_dtype: Any,
    weight_dtype: Any,
    resolution: tuple[int, int],
    batch_size: int,
) -> Any:
    """Build the TT model that the harness's own infra and performant runner drive (trace, 2 CQs, staging), as
    ``--ttpose-tt-model=MODULE:FACTORY`` does; return None to let the next implementation decide.

    The model is called on the L1 height-sharded NCHW bfloat16 RGB input (3 channels, as tt-metal's YOLOv11 runners
    give it; pad them on the device, e.g. with ``pytest_ttpose.tt.rgb_to_conv_input``,
    ``batch_size`` images per chip) and returns its device output, read back by its ``output_to_torch(output,
    mesh_composer=...)`` if it has one, else by ``--ttpose-output`` or the default adapter. Copy and adapt::

        # conftest.py
        def pytest_ttpose_make_tt_model(device, reference_model, act_dtype, weight_dtype, resolution, batch_size):
            from my_models.yolo11_pose.model import MyPoseModel  # here: after the `import ttnn` alias exists

            return MyPoseModel(device, reference_model.state_dict(), act_dtype, weight_dtype, resolution, batch_size)
    """
