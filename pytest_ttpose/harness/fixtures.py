"""The ttpose fixtures. Heavy imports (torch, ttnn, the emulator, the model) happen inside them, on first use.

Device fixtures are function-scoped views of the session's ``DeviceManager`` (``ttpose_devices``), which opens
the device or mesh once and closes it at session end; model objects are cached per matrix point on the device
they were built on.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from pytest_ttpose.harness.backends import Backend
from pytest_ttpose.harness.checks import CaseCheck
from pytest_ttpose.harness.configuration import regen_command
from pytest_ttpose.harness.session import DeviceKind, DeviceManager, TtposeSession, get_session
from pytest_ttpose.harness.settings import DtypePair, MatrixPoint, Settings
from pytest_ttpose.harness.user_model import UserModel, build_user_runner, user_tt_model_builder
from pytest_ttpose.harness.weights import REFERENCE_SEED


@pytest.fixture(scope="session")
def ttpose_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved ttpose options (backend, device, mesh, matrix, tolerances, baseline folder)."""
    return get_session(pytestconfig).settings


@pytest.fixture(scope="session")
def ttpose_backend(pytestconfig: pytest.Config) -> Backend:
    """The backend the session runs on (``ttnn``, ``emulator``, ``ttnn-mock``, or one added by a hook)."""
    return get_session(pytestconfig).backend


@pytest.fixture(scope="session")
def ttpose_devices(pytestconfig: pytest.Config) -> Iterator[DeviceManager]:
    """The session's device manager; closes whatever is open (runners released first) at session end."""
    manager = get_session(pytestconfig).devices
    yield manager
    manager.close()


@pytest.fixture
def ttpose_device(ttpose_devices: DeviceManager) -> Any:
    """The single device (``--ttpose-device``, or device K on xdist worker gwK), opened once per session."""
    return ttpose_devices.device()


@pytest.fixture
def ttpose_mesh_device(ttpose_devices: DeviceManager) -> Any:
    """The mesh for data-parallel cases (``--ttpose-mesh-shape``); tests using it must end in ``_dp``."""
    return ttpose_devices.mesh()


@pytest.fixture
def ttpose_point(request: pytest.FixtureRequest) -> MatrixPoint:
    """The matrix point of this case; requesting it parametrizes the test over the matrix."""
    return _param(request, "ttpose_point")


@pytest.fixture
def ttpose_dtype_pair(request: pytest.FixtureRequest) -> DtypePair:
    """The act/weight dtype pair of this case; requesting it parametrizes the test over the matrix's dtype pairs."""
    return _param(request, "ttpose_dtype_pair")


def _param(request: pytest.FixtureRequest, name: str) -> Any:
    if not hasattr(request, "param"):
        raise pytest.UsageError(f"{name} is parametrized by the ttpose plugin; request it as a test argument")
    return request.param


@pytest.fixture(scope="session")
def ttpose_reference(pytestconfig: pytest.Config, ttpose_settings: Settings) -> Any:
    """The torch YOLO11-pose reference (scale and weights from the options), built once per session from the
    weights the session checked at its start."""
    reference = importlib.import_module("pytest_ttpose.reference")
    session = get_session(pytestconfig)
    session.check_weights()
    weights = session.weights_state
    model = reference.build_reference(
        scale=ttpose_settings.model_scale,
        weights=weights,
        trust_weights=ttpose_settings.trust_weights,
        seed=REFERENCE_SEED,
    )
    if weights is not None:
        model.weights_source = session.weights.label
    return model.eval()


# What the harness builds for a matrix point: the untraced infra (model, reference, inputs), the traced runner, or
# the basic (untraced, one queue) runner the traced one is compared with.
ModelKind = Literal["infra", "runner", "basic"]


def _builder(
    kind: ModelKind, point: MatrixPoint, reference_model: Any, dry_run: bool, user: UserModel | None, hook: Any
) -> Callable[[Any], Any]:
    """``build(handle)`` for ``kind`` at ``point``. The PCC floor the runner validates its capture runs at is the
    dtypes' own (its default); a dry run's mocked device computes zeros, so it does not validate them at all.

    A user's runner (``--ttpose-runner`` or ``pytest_ttpose_make_runner``) is built for either kind: it has only
    its own path. A user's TT model (``--ttpose-tt-model`` or ``pytest_ttpose_make_tt_model``) goes into the
    bundled infra and runner as their ``model_builder``."""
    if user is not None and user.kind == "runner":
        return lambda handle: build_user_runner(
            user,
            hook,
            handle,
            point,
            reference_model,
            lambda count: _letterboxed(_sample_images(), count, point.resolution),
            dry_run,
        )

    def build(handle: Any) -> Any:
        from pytest_ttpose.runner import (
            RunnerConfig,
            YOLOv11PoseBasicRunner,
            YOLOv11PosePerformanceRunnerInfra,
            YOLOv11PosePerformantRunner,
        )
        from pytest_ttpose.seam import api_for

        api = api_for(handle)
        config = RunnerConfig(
            scale=point.scale,
            reference_model=reference_model,
            model_builder=None if user is None else user_tt_model_builder(user, hook),
            seed=REFERENCE_SEED,
            validate_on_capture=not dry_run,
        )
        model_class = {
            "infra": YOLOv11PosePerformanceRunnerInfra,
            "runner": YOLOv11PosePerformantRunner,
            "basic": YOLOv11PoseBasicRunner,
        }[kind]
        return model_class(
            handle,
            point.batch_size,
            getattr(api, point.act_dtype),
            getattr(api, point.weight_dtype),
            point.resolution,
            config=config,
        )

    return build


def _session_of(devices: DeviceManager) -> TtposeSession:
    if devices.session is None:
        raise RuntimeError("this DeviceManager belongs to no ttpose session")
    return devices.session


def _user_runner(devices: DeviceManager) -> UserModel | None:
    """The user's model when it is a whole runner (``--ttpose-runner`` or the make_runner hook), else None."""
    user = _session_of(devices).user_model
    return user if user is not None and user.kind == "runner" else None


def _cached(devices: DeviceManager, where: DeviceKind, kind: ModelKind, point: MatrixPoint, reference: Any) -> Any:
    session = _session_of(devices)
    if _user_runner(devices) is not None:
        kind = "runner"  # one object serves the untraced and the traced cases: the user's runner
    builder = _builder(kind, point, reference, devices.backend.dry_run, session.user_model, session.hook)
    return devices.cached(where, (kind, point), builder, releasable=True, traced=kind == "runner")


@pytest.fixture
def ttpose_infra(
    ttpose_devices: DeviceManager, ttpose_device: Any, ttpose_point: MatrixPoint, ttpose_reference: Any
) -> Any:
    """``YOLOv11PosePerformanceRunnerInfra`` for this matrix point on the single device (cached per point)."""
    return _cached(ttpose_devices, "device", "infra", ttpose_point, ttpose_reference)


@pytest.fixture
def ttpose_dp_infra(
    ttpose_devices: DeviceManager, ttpose_mesh_device: Any, ttpose_point: MatrixPoint, ttpose_reference: Any
) -> Any:
    """The infra for this matrix point on the mesh (batch per device; cached per point)."""
    return _cached(ttpose_devices, "mesh", "infra", ttpose_point, ttpose_reference)


@pytest.fixture
def ttpose_runner(
    ttpose_devices: DeviceManager, ttpose_device: Any, ttpose_point: MatrixPoint, ttpose_reference: Any
) -> Any:
    """``YOLOv11PosePerformantRunner`` (trace + 2 CQs) for this point on the single device. Cached until anything
    else is built on the device (a trace must not replay over buffers allocated after its capture), then released."""
    return _cached(ttpose_devices, "device", "runner", ttpose_point, ttpose_reference)


@pytest.fixture
def ttpose_basic_runner(
    ttpose_devices: DeviceManager, ttpose_device: Any, ttpose_point: MatrixPoint, ttpose_reference: Any
) -> Any:
    """``YOLOv11PoseBasicRunner`` (no trace, one CQ) for this point on the single device: the traced runner's
    baseline. Request it before ``ttpose_runner``: building it releases a cached traced runner. Skipped under a
    user's runner, which has only its own (traced) path to compare."""
    user = _user_runner(ttpose_devices)
    if user is not None:
        pytest.skip(f"the untraced basic runner is the bundled model's; {user.name} has only its own runner")
    return _cached(ttpose_devices, "device", "basic", ttpose_point, ttpose_reference)


@pytest.fixture
def ttpose_dp_runner(
    ttpose_devices: DeviceManager, ttpose_mesh_device: Any, ttpose_point: MatrixPoint, ttpose_reference: Any
) -> Any:
    """The performant runner for this point on the mesh (data parallel); released before the mesh closes."""
    return _cached(ttpose_devices, "mesh", "runner", ttpose_point, ttpose_reference)


@pytest.fixture
def ttpose_new_runner(
    ttpose_devices: DeviceManager, ttpose_device: Any, ttpose_backend: Backend, ttpose_reference: Any
) -> Callable[[MatrixPoint], Any]:
    """``runner = ttpose_new_runner(point)``: a fresh, uncached performant runner on the single device, built as the
    cached ones are; the caller releases it (a release check, say)."""

    # Cached runners' traces go first: a trace must not replay over what the new runner allocates (and a memory
    # snapshot taken by the test before building sees no runner but its own come and go).
    ttpose_devices.release_traced("device")

    def new_runner(point: MatrixPoint) -> Any:
        session = _session_of(ttpose_devices)
        builder = _builder("runner", point, ttpose_reference, ttpose_backend.dry_run, session.user_model, session.hook)
        return builder(ttpose_device)

    return new_runner


IMAGE_NAMES = ("bus.jpg", "zidane.jpg")


@pytest.fixture(scope="session")
def ttpose_images() -> dict[str, Any]:
    """Ultralytics' sample images (BGR uint8 arrays) by name: ``bus.jpg`` and ``zidane.jpg``."""
    return _sample_images()


@functools.cache
def _sample_images() -> dict[str, Any]:
    assets = importlib.import_module("pytest_ttpose.pose.assets")
    return {name: assets.load_image(name) for name in IMAGE_NAMES}


@pytest.fixture
def ttpose_input(
    request: pytest.FixtureRequest, ttpose_point: MatrixPoint, ttpose_images: dict[str, Any], ttpose_settings: Settings
) -> Any:
    """The model input of this case: real images (bus.jpg, zidane.jpg, alternating) letterboxed to the point's
    resolution, as a float (B, 3, H, W) batch; B is the point's batch, times the mesh's devices for a _dp case."""
    devices = ttpose_settings.mesh_shape.size if "ttpose_mesh_device" in request.fixturenames else 1
    return _letterboxed(ttpose_images, ttpose_point.batch_size * devices, ttpose_point.resolution)


def _letterboxed(images: dict[str, Any], count: int, resolution: tuple[int, int]) -> Any:
    """``count`` real images (bus.jpg, zidane.jpg, alternating) letterboxed to ``resolution``: (count, 3, H, W)."""
    postprocess = importlib.import_module("pytest_ttpose.pose.processing")
    batch, _ = postprocess.preprocess(
        [images[IMAGE_NAMES[index % len(IMAGE_NAMES)]] for index in range(count)], resolution
    )
    return batch


@pytest.fixture
def ttpose_infra_at(ttpose_devices: DeviceManager, ttpose_reference: Any) -> Any:
    """``infra = ttpose_infra_at(point)``: the cached infra for any matrix point (``mesh=True`` for the mesh), for
    suites that need a configuration outside the session matrix (a demo at 640x640, say)."""

    def infra_at(point: MatrixPoint, *, mesh: bool = False) -> Any:
        return _cached(ttpose_devices, "mesh" if mesh else "device", "infra", point, ttpose_reference)

    return infra_at


@pytest.fixture
def ttpose_runner_at(ttpose_devices: DeviceManager, ttpose_reference: Any) -> Any:
    """``runner = ttpose_runner_at(point)``: the cached traced runner for any matrix point (``mesh=True`` for the
    mesh), shared with ``ttpose_runner`` / ``ttpose_dp_runner`` of the same point."""

    def runner_at(point: MatrixPoint, *, mesh: bool = False) -> Any:
        return _cached(ttpose_devices, "mesh" if mesh else "device", "runner", point, ttpose_reference)

    return runner_at


@pytest.fixture
def ttpose_check(request: pytest.FixtureRequest) -> CaseCheck:
    """PCC and perf assertions of this case against thresholds and the baseline; results go to the summary."""
    session = get_session(request.config)
    node = request.node
    params = getattr(getattr(node, "callspec", None), "params", {})
    point = params.get("ttpose_point")
    pair = params.get("ttpose_dtype_pair")
    dtypes = (
        (point.act_dtype, point.weight_dtype)
        if point is not None
        else ((pair.act, pair.weight) if pair is not None else None)
    )
    return CaseCheck(
        session, session.result(node.nodeid), dtypes, regen_command(node.nodeid, session.settings.regen_args)
    )
