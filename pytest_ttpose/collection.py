"""What the plugin does around collection and the session's life: parametrize, mark, order, record, finish."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from pytest_ttpose import configuration
from pytest_ttpose.backends import BackendUnavailable, builtin_backends, installed_ttnn_version
from pytest_ttpose.baselines import BaselineFileError
from pytest_ttpose.session import SESSION_KEY, WORKER_OUTPUT_KEY, TtposeSession

DP_MARKER = "ttpose_dp"
MESH_FIXTURE = "ttpose_mesh_device"
MARKER_HELP = f"{DP_MARKER}: data-parallel (mesh) case of pytest-ttpose; -m {DP_MARKER} selects exactly these"


def session_of(config: pytest.Config) -> TtposeSession | None:
    return config.stash.get(SESSION_KEY, None)


def configure(config: pytest.Config) -> None:
    from pytest_ttpose import fixtures

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "ttpose-fixtures")
    config.addinivalue_line("markers", MARKER_HELP)
    if config.getoption("help", False) or config.getoption("version", False):
        return
    backends = builtin_backends()
    config.hook.pytest_ttpose_add_backends(backends=backends)
    settings, backend = configuration.resolve(config, backends)
    try:
        backend.prepare()
    except BackendUnavailable as error:
        raise pytest.UsageError(f"--ttpose-backend={settings.backend}: {error}") from None
    session = TtposeSession(settings, backend, is_worker=hasattr(config, "workerinput"))
    config.stash[SESSION_KEY] = session
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(session), "ttpose-xdist")
    if config.pluginmanager.hasplugin("benchmark"):
        config.pluginmanager.register(BenchmarkHooks(session), "ttpose-benchmark")


def header_lines(config: pytest.Config) -> list[str]:
    session = session_of(config)
    if session is None:
        return []
    settings, backend = session.settings, session.backend
    how = f" (auto: {'Tenstorrent device found' if settings.backend == 'ttnn' else 'no Tenstorrent device'})"
    arch = backend.arch_if_known
    devices = f"device {settings.device_id} of {settings.device_count}, mesh {settings.mesh_shape}"
    ttnn_version = installed_ttnn_version() or "not installed"
    # On hardware the arch (part of the fingerprint) needs ttnn: no import just for a header line.
    baseline = str(session.baseline_file) if arch is not None else f"{settings.baseline_dir}/<fingerprint>.json"
    mode = "UPDATE (entries of the tests that run are rewritten)" if settings.update_baselines else "read-only"
    return [
        f"ttpose: backend {settings.backend}{how if settings.requested_backend == 'auto' else ''}, "
        f"arch {arch or 'read from the device'}, "
        f"{devices}, ttnn {ttnn_version}",
        f"ttpose: baselines {baseline} [{mode}]",
        f"ttpose: matrix {settings.describe_matrix()}",
    ] + (
        # On hardware, or when auto found none: the checklist of driver, firmware, hugepages, sfpi and meshes.
        ["ttpose: machine check: python -m pytest_ttpose.doctor"]
        if settings.backend == "ttnn" or settings.requested_backend == "auto"
        else []
    )


# collection ------------------------------------------------------------------------------------------------------
def parametrize(metafunc: pytest.Metafunc) -> None:
    session = session_of(metafunc.config)
    if session is None:
        return
    names = metafunc.fixturenames
    marks = [pytest.mark.ttpose_dp] if MESH_FIXTURE in names else []
    if "ttpose_point" in names:
        metafunc.parametrize(
            "ttpose_point", [pytest.param(point, id=point.id, marks=marks) for point in session.settings.matrix]
        )
    if "ttpose_dtype_pair" in names:
        metafunc.parametrize(
            "ttpose_dtype_pair",
            [pytest.param(pair, id=f"{pair.act}-{pair.weight}", marks=marks) for pair in session.settings.dtype_pairs],
        )


# The plugin's fixtures (pytest_ttpose.fixtures); a test using any of them is a ttpose case.
TTPOSE_FIXTURES = frozenset(
    {
        "ttpose_settings",
        "ttpose_backend",
        "ttpose_devices",
        "ttpose_device",
        "ttpose_mesh_device",
        "ttpose_point",
        "ttpose_dtype_pair",
        "ttpose_reference",
        "ttpose_infra",
        "ttpose_dp_infra",
        "ttpose_runner",
        "ttpose_dp_runner",
        "ttpose_check",
        "ttpose_images",
        "ttpose_input",
        "ttpose_infra_at",
        "ttpose_runner_at",
    }
)


def is_ttpose_item(item: pytest.Item) -> bool:
    return not TTPOSE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def dp_skip_reason(session: TtposeSession) -> str | None:
    settings = session.settings
    if settings.xdist_workers:
        return (
            "data-parallel cases need every device and each pytest-xdist worker owns one; "
            f"run them without -n: pytest -m {DP_MARKER}"
        )
    if settings.device_count < 2:
        return (
            f"data-parallel cases need at least 2 devices; the {settings.backend} backend has {settings.device_count}"
        )
    if settings.mesh_shape.size < 2 and not settings.mesh_shape_explicit:
        return (
            f"data-parallel cases need a mesh, and the {settings.device_count} devices of the {settings.backend} "
            "backend are not ethernet-linked (ttnn's system mesh is 1x1), so ttnn cannot open them as one; "
            f"run the single-device cases on every device at once with pytest -n {settings.device_count}"
        )
    if settings.mesh_shape.size < 2:
        return f"--ttpose-mesh-shape={settings.mesh_shape} is a single device; data-parallel cases need 2 or more"
    return None


def modify_items(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark and check data-parallel cases, skip them when the mesh is impossible, and run them last.

    Running them last means the single device and the mesh (which share chips) are each opened once.
    """
    session = session_of(config)
    if session is None:
        return
    problems: list[str] = []
    single: list[pytest.Item] = []
    mesh: list[pytest.Item] = []
    reason = dp_skip_reason(session)
    for item in items:
        if not is_ttpose_item(item):
            single.append(item)
            continue
        if MESH_FIXTURE in item.fixturenames:  # type: ignore[attr-defined]
            if not getattr(item, "originalname", item.name).endswith("_dp"):
                problems.append(f"{item.nodeid}: uses the mesh, so its test name must end in _dp")
            item.add_marker(DP_MARKER)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
            mesh.append(item)
        else:
            if "dp" in item.nodeid.lower():
                problems.append(
                    f"{item.nodeid}: only data-parallel (_dp) cases may contain 'dp', so -k dp selects "
                    "exactly them; rename it"
                )
            single.append(item)
    if problems:
        raise pytest.UsageError("ttpose naming rules:\n  " + "\n  ".join(problems))
    items[:] = single + mesh


def _unusable(error: BaselineFileError) -> str:
    return (
        f"ttpose: unusable baseline file: {error}\nFix the file (it is never overwritten without "
        "--ttpose-update-baselines), or rewrite it from the tests that run with --ttpose-update-baselines."
    )


def check_baselines_before_workers(session: pytest.Session) -> None:
    """Under pytest-xdist the controller validates the baseline file before any worker starts.

    A worker that stopped the run itself would look like a crash to xdist.
    """
    state = session_of(session.config)
    if state is None or state.is_worker or not state.settings.xdist_workers:
        return
    try:
        state.load_store()
    except BaselineFileError as error:
        raise pytest.UsageError(_unusable(error)) from None


def load_baselines(session: pytest.Session) -> None:
    """Read and validate the baseline file before any case runs; a malformed file stops the run."""
    state = session_of(session.config)
    if state is None or not any(is_ttpose_item(item) for item in session.items):
        return
    try:
        state.load_store()
    except BaselineFileError as error:
        pytest.exit(_unusable(error), returncode=pytest.ExitCode.USAGE_ERROR)


# running -----------------------------------------------------------------------------------------------------------
def record_phase(item: pytest.Item, report: pytest.TestReport) -> None:
    state = session_of(item.config)
    if state is None or not is_ttpose_item(item):
        return
    result = state.result(item.nodeid)
    params = getattr(getattr(item, "callspec", None), "params", {})
    point = params.get("ttpose_point")
    result.point = None if point is None else point.id
    result.dp = MESH_FIXTURE in item.fixturenames  # type: ignore[attr-defined]
    if report.when == "call" or report.skipped:
        result.status = report.outcome
    elif report.failed:
        result.status = "error"
    elif report.when == "setup":
        result.status = "passed"
    if report.skipped and isinstance(report.longrepr, tuple):
        result.messages.append(str(report.longrepr[2]))


def finish(session: pytest.Session, exitstatus: int) -> None:
    state = session_of(session.config)
    if state is None:
        return
    if state.is_worker:
        session.config.workeroutput[WORKER_OUTPUT_KEY] = json.dumps(state.worker_output())  # type: ignore[attr-defined]
        return
    # An interrupted run (Ctrl-C) writes nothing: the baselines stay byte-identical.
    if state.settings.update_baselines and exitstatus != pytest.ExitCode.INTERRUPTED:
        state.write_baselines()
    state.write_report()


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = session_of(config)
    if state is None or state.is_worker or not (state.results or state.notes or state.written):
        return
    terminalreporter.write_sep("=", "ttpose summary")
    for line in state.summary_lines():
        terminalreporter.write_line(line)


def unconfigure(config: pytest.Config) -> None:
    state = session_of(config)
    if state is not None:
        state.devices.close()


class XdistHooks:
    """Registered only when pytest-xdist is loaded: the controller merges what each worker measured."""

    def __init__(self, session: TtposeSession) -> None:
        self._session = session

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
        if output:
            self._session.merge_worker_output(json.loads(output))


class BenchmarkHooks:
    """Registered only when pytest-benchmark is loaded: the device fingerprint goes into its saved machine info."""

    def __init__(self, session: TtposeSession) -> None:
        self._session = session

    def pytest_benchmark_update_machine_info(self, config: pytest.Config, machine_info: dict[str, Any]) -> None:
        machine_info["ttpose"] = self._session.fingerprint.as_dict()


__all__: Sequence[str] = [
    "configure",
    "finish",
    "header_lines",
    "load_baselines",
    "modify_items",
    "parametrize",
    "record_phase",
    "terminal_summary",
    "unconfigure",
]
