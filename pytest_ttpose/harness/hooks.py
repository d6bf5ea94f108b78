"""The plugin's work around the session's life, on one object registered per configured session.

``configure`` resolves the options and registers a ``SessionHooks`` holding the ``TtposeSession``; pytest then calls
its hook methods, each of which delegates to the session or to ``collection``. A session that was not configured
(``--help``, ``--version``) registers nothing, so no hook needs to ask whether there is a session.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Generator
from typing import Any

import pytest

from pytest_ttpose.harness import collection, configuration
from pytest_ttpose.harness.backends import BackendUnavailable, builtin_backends, installed_ttnn_version
from pytest_ttpose.harness.baselines import BaselineFileError
from pytest_ttpose.harness.session import SESSION_KEY, WORKER_OUTPUT_KEY, TtposeSession
from pytest_ttpose.harness.settings import OptionError
from pytest_ttpose.harness.user_model import resolve_user_model
from pytest_ttpose.harness.weights import UnusableWeights

# The fixture that builds the torch reference, and so needs the weights.
_REFERENCE_FIXTURE = "ttpose_reference"


def configure(config: pytest.Config) -> None:
    """Register the fixtures and the marker, resolve the options (usage errors here), register the session's hooks."""
    from pytest_ttpose.harness import fixtures

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "ttpose-fixtures")
    config.addinivalue_line("markers", collection.MARKER_HELP)
    if config.getoption("help", False) or config.getoption("version", False):
        return
    backends = builtin_backends()
    config.hook.pytest_ttpose_add_backends(backends=backends)
    settings, backend = configuration.resolve(config, backends)
    try:
        backend.prepare()
    except BackendUnavailable as error:
        raise pytest.UsageError(f"--ttpose-backend={settings.backend}: {error}") from None
    alias = backend.ttnn_import_alias() if settings.import_ttnn == "backend" else None
    hidden = alias.install() if alias is not None else []
    try:  # the user's module is imported here, after the backend's environment and the alias are in place
        user_model = resolve_user_model(
            configuration.text_of(config, "--ttpose-runner"),
            configuration.text_of(config, "--ttpose-tt-model"),
            configuration.text_of(config, "--ttpose-output"),
            _make_hook_plugins(config),
        )
    except OptionError as error:
        if alias is not None:
            alias.uninstall()
        raise pytest.UsageError(str(error)) from None
    if user_model is not None:
        settings = dataclasses.replace(settings, model=user_model.name)
    session = TtposeSession(settings, backend, is_worker=hasattr(config, "workerinput"), user_model=user_model)
    session.ttnn_alias = alias
    session.hook = config.hook
    if hidden:
        session.notes.append(
            f"ttnn was imported before the session started ({len(hidden)} modules, by a plugin or an initial "
            "conftest): modules that imported it then keep the installed ttnn; see --ttpose-import-ttnn"
        )
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(SessionHooks(session), "ttpose-session")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(session), "ttpose-xdist")
    if config.pluginmanager.hasplugin("benchmark"):
        config.pluginmanager.register(BenchmarkHooks(session), "ttpose-benchmark")


def _make_hook_plugins(config: pytest.Config) -> dict[str, list[str]]:
    """The names of the plugins implementing the make hooks, by kind of user model (conftests: module names)."""
    found: dict[str, list[str]] = {}
    for kind, caller in (
        ("runner", config.hook.pytest_ttpose_make_runner),
        ("tt-model", config.hook.pytest_ttpose_make_tt_model),
    ):
        names = [str(getattr(impl.plugin, "__name__", impl.plugin_name)) for impl in caller.get_hookimpls()]
        if names:
            found[kind] = names
    return found


def header_lines(session: TtposeSession) -> list[str]:
    """Backend, arch, devices, ttnn version, baseline file, update mode and matrix."""
    settings, backend = session.settings, session.backend
    how = f" (auto: {'Tenstorrent device found' if settings.backend == 'ttnn' else 'no Tenstorrent device'})"
    arch = backend.arch_if_known
    devices = f"device {settings.device_id} of {settings.device_count}, mesh {settings.mesh_shape}"
    ttnn_version = installed_ttnn_version() or "not installed"
    # On hardware the arch (part of the fingerprint) needs ttnn: no import just for a header line.
    baseline = str(session.baseline_file) if arch is not None else f"{settings.baseline_dir}/<fingerprint>.json"
    mode = "UPDATE (entries of the tests that run are rewritten)" if settings.update_baselines else "read-only"
    if settings.baselines_reset:
        mode += ", RESET allowed (an unusable file or invalid entries are dropped, the old file kept as .bak)"
    return [
        f"ttpose: backend {settings.backend}{how if settings.requested_backend == 'auto' else ''}, "
        f"arch {arch or 'read from the device'}, "
        f"{devices}, ttnn {ttnn_version}",
        f"ttpose: weights {session.weights.label}",
        f"ttpose: baselines {baseline} [{mode}]",
        f"ttpose: matrix {settings.describe_matrix()}",
        f"ttpose: model {_model_line(session)}",
    ] + (
        # On hardware, or when auto found none: the checklist of driver, firmware, hugepages, sfpi and meshes.
        ["ttpose: machine check: python -m pytest_ttpose.doctor"]
        if settings.backend == "ttnn" or settings.requested_backend == "auto"
        else []
    )


def _model_line(session: TtposeSession) -> str:
    settings, user = session.settings, session.user_model
    if user is None:
        what = f"bundled YOLO11{settings.model_scale}-pose (pytest_ttpose.tt, traced by pytest_ttpose.runner)"
    elif user.kind == "runner":
        what = f"{user.name} (your runner)"
    else:
        what = f"{user.name} (your TT model, traced by pytest_ttpose.runner)"
    if session.ttnn_alias is not None:
        what += f"; `import ttnn` gives {session.ttnn_alias.description}"
    return what


def _unusable(error: BaselineFileError) -> str:
    # Never suggest a command that loses entries: the reset keeps every valid entry and the old file as .bak.
    return (
        f"ttpose: unusable baseline file: {error}\nThe file is left as it is. Fix it at that position (or restore "
        "it from version control). To update it anyway from its valid entries, add --ttpose-baselines-reset to "
        "--ttpose-update-baselines: the old file is kept next to it as <name>.bak."
    )


class SessionHooks:
    """pytest's hooks for one configured ttpose session."""

    def __init__(self, session: TtposeSession) -> None:
        self.session = session

    def pytest_report_header(self) -> list[str]:
        return header_lines(self.session)

    def pytest_sessionstart(self) -> None:
        """The controller (or the single process) removes temp files of a killed baseline write. Under pytest-xdist
        it also validates the baseline file before any worker starts (a worker that stopped the run itself would
        look like a crash to xdist)."""
        if self.session.is_worker:
            return
        self.session.clean_temp_files()
        if not self.session.settings.xdist_workers:
            return
        try:
            self.session.load_store()
            self.session.check_weights()
        except BaselineFileError as error:
            raise pytest.UsageError(_unusable(error)) from None
        except UnusableWeights as error:
            raise pytest.UsageError(str(error)) from None

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        collection.parametrize(self.session, metafunc)

    @pytest.hookimpl(tryfirst=True)  # mark data-parallel cases before -k/-m deselection runs
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        collection.order_items(self.session, items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Before any case runs: read and validate the baseline file, and (when a case builds the reference) open
        and check the weights file once. Either one unusable stops the run with one usage error."""
        if not any(collection.is_ttpose_item(item) for item in session.items):
            return
        try:
            self.session.load_store()
            if any(_REFERENCE_FIXTURE in getattr(item, "fixturenames", ()) for item in session.items):
                self.session.check_weights()
        except BaselineFileError as error:
            pytest.exit(_unusable(error), returncode=pytest.ExitCode.USAGE_ERROR)
        except UnusableWeights as error:
            pytest.exit(f"ttpose: {error}", returncode=pytest.ExitCode.USAGE_ERROR)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        collection.mark_started(self.session, item)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        collection.record_phase(self.session, item, report)
        return report

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Workers publish their results; the controller writes baselines (on request) and the JSON report once."""
        if self.session.is_worker:
            session.config.workeroutput[WORKER_OUTPUT_KEY] = json.dumps(self.session.worker_output())  # type: ignore[attr-defined]
            return
        # An interrupted run (Ctrl-C) writes nothing: the baselines stay byte-identical.
        if self.session.settings.update_baselines and exitstatus != pytest.ExitCode.INTERRUPTED:
            self.session.write_baselines()
        self.session.write_report(exitstatus)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        state = self.session
        if state.is_worker or not (state.results or state.notes or state.written):
            return
        terminalreporter.write_sep("=", "ttpose summary")
        for line in state.summary_lines():
            terminalreporter.write_line(line)

    def pytest_unconfigure(self) -> None:
        """Close any device still open (after an interrupted session fixture teardown); drop the ttnn alias."""
        try:
            self.session.devices.close()
        finally:
            if self.session.ttnn_alias is not None:
                self.session.ttnn_alias.uninstall()


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


__all__ = ["BenchmarkHooks", "SessionHooks", "XdistHooks", "configure", "header_lines"]
