"""Session state of the plugin: settings, backend, open devices, cached model objects, results and baselines.

One ``TtposeSession`` lives in ``config.stash``; the hooks in ``plugin.py`` delegate to it. Devices are opened
lazily, once, by ``DeviceManager``: a single device and a mesh share chips on real hardware, so opening one closes
the other (the plugin orders data-parallel cases last, so each is opened once per session). Everything a device
holds (runners with their traces, cached infra) is released before the device is closed, at session end too,
including after a failure or Ctrl-C.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pytest

from pytest_ttpose.harness.atomic_files import remove_stale_temp_files
from pytest_ttpose.harness.backends import Backend
from pytest_ttpose.harness.baselines import (
    BaselineEntry,
    BaselineFile,
    BaselineFileError,
    Fingerprint,
    backup_path,
    baseline_path,
)
from pytest_ttpose.harness.report import INTERRUPTED, CaseResult, build_report, render_table, write_report
from pytest_ttpose.harness.settings import MeshShape, Settings
from pytest_ttpose.harness.ttnn_import import TtnnAlias
from pytest_ttpose.harness.user_model import UserModel
from pytest_ttpose.harness.weights import WeightsIdentity, load_checked_weights, weights_identity

WORKER_OUTPUT_KEY = "ttpose_results"
# What a DeviceManager opens: the single device of the non-dp cases, or the mesh of the _dp cases.
DeviceKind = Literal["device", "mesh"]


@dataclass
class _Open:
    kind: DeviceKind
    handle: Any
    # Objects built on this device, released (in reverse order) before it closes: runners hold traces.
    held: list[Any] = field(default_factory=list)
    cache: dict[Any, Any] = field(default_factory=dict)
    # Keys of cached objects that hold a trace: released as soon as anything else is built on the device.
    traced: list[Any] = field(default_factory=list)


class DeviceManager:
    """Opens the session's device or mesh on first use and closes it at the end (or when the other is needed)."""

    def __init__(self, backend: Backend, settings: Settings) -> None:
        self.backend = backend
        self.settings = settings
        self._open: _Open | None = None
        self.opened: list[str] = []  # what was opened, in order (the header of a failure, and the tests)
        # How the traced runners staged their input, per "device"/"mesh" (chosen per arch in runner/staging.py).
        self.session: TtposeSession | None = None  # the session owning it: what the fixtures build comes from there

    def _switch(self, kind: DeviceKind) -> _Open:
        if self._open is not None and self._open.kind == kind:
            return self._open
        self.close()
        params = self.backend.device_params(kind)
        if kind == "mesh":
            handle = self.backend.open_mesh_device(self.settings.mesh_shape, params)
            self.opened.append(f"mesh {self.settings.mesh_shape}")
        else:
            handle = self.backend.open_device(self.settings.device_id, params)
            self.opened.append(f"device {self.settings.device_id}")
        self._open = _Open(kind, handle)
        return self._open

    def device(self) -> Any:
        return self._switch("device").handle

    def mesh(self) -> Any:
        return self._switch("mesh").handle

    @property
    def mesh_shape(self) -> MeshShape:
        return self.settings.mesh_shape

    def cached(
        self, kind: DeviceKind, key: Any, build: Callable[[Any], Any], *, releasable: bool = False, traced: bool = False
    ) -> Any:
        """The object built by ``build(handle)`` for ``key`` on the open ``kind``; built once, held until close.

        A ``traced`` object (a runner holding a trace) is released, and built again when asked for again, as soon
        as anything else is built on the device: a trace replays into the addresses its intermediate buffers had
        during capture, so a buffer allocated after the capture may be overwritten by the next replay (ttnn warns
        "Allocating device buffers is unsafe due to the existence of an active trace").

        Then the device's program cache is cleared: every compiled program keeps its config tensors (conv halo and
        sliding-window configs) in the small L1_SMALL region, so a session that runs many matrix points on one
        device fills it (real ttnn on a mocked n150 runs out after three points of the default matrix). A cached
        object used again later recompiles its programs.
        """
        state = self._switch(kind)
        if key not in state.cache:
            self._release_traced(state)
            self.backend.clear_program_cache(state.handle)
            value = build(state.handle)
            state.cache[key] = value
            if releasable or traced:
                state.held.append(value)
            if traced:
                state.traced.append(key)
        return state.cache[key]

    def release_traced(self, kind: DeviceKind) -> None:
        """Release the cached objects holding a trace on ``kind``: something is about to be built outside the
        cache (a fresh runner), and a trace must not replay over buffers allocated after its capture."""
        self._release_traced(self._switch(kind))

    @staticmethod
    def _release_traced(state: _Open) -> None:
        while state.traced:
            value = state.cache.pop(state.traced.pop())
            state.held.remove(value)
            value.release()

    def close(self) -> None:
        """Release every held object, then close the device; errors in releasing do not keep the device open."""
        state, self._open = self._open, None
        if state is None:
            return
        errors: list[BaseException] = []
        for held in reversed(state.held):
            try:
                held.release()
            except Exception as error:  # keep going: the device must still be closed
                errors.append(error)
        state.cache.clear()
        state.traced.clear()
        if state.kind == "mesh":
            self.backend.close_mesh_device(state.handle)
        else:
            self.backend.close_device(state.handle)
        if errors:
            raise errors[0]


class TtposeSession:
    """Everything the plugin knows during one pytest session (one per process; see ``SESSION_KEY``)."""

    def __init__(
        self, settings: Settings, backend: Backend, *, is_worker: bool, user_model: UserModel | None = None
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.is_worker = is_worker
        # The user's implementation under test (None: the bundled model), and the `import ttnn` alias if installed.
        self.user_model = user_model
        self.ttnn_alias: TtnnAlias | None = None
        self.devices = DeviceManager(backend, settings)
        self.devices.session = self
        # pytest's hook caller (set when configured): the user model's make hooks are called through it.
        self.hook: Any = None
        self.results: dict[str, CaseResult] = {}
        self.notes: list[str] = []
        self._store: BaselineFile | None = None
        self._fingerprint: Fingerprint | None = None
        self._weights: WeightsIdentity | None = None
        self._weights_checked = False
        # The --ttpose-weights state dict, loaded and checked once (None: the bundled or seeded weights).
        self.weights_state: Any = None
        self._optables: dict[str, dict[str, float]] | None = None
        self.written: list[str] = []

    # weights, fingerprint and baselines --------------------------------------------------------------------------
    @property
    def weights(self) -> WeightsIdentity:
        """The identity of the weights this session runs (a --ttpose-weights file is hashed once)."""
        if self._weights is None:
            self._weights = weights_identity(self.settings.weights, self.settings.model_scale)
        return self._weights

    def check_weights(self) -> None:
        """Open and check the --ttpose-weights file once, before any case runs; raises UnusableWeights."""
        if not self._weights_checked:
            self.weights_state = load_checked_weights(self.settings)
            self._weights_checked = True

    @property
    def fingerprint(self) -> Fingerprint:
        """The backend's fingerprint with this session's weights. A mesh of one device runs no data-parallel case,
        so it is recorded as the backend's default mesh: --ttpose-mesh-shape=1 reads the single-device entries of
        the default run instead of an empty file of its own."""
        if self._fingerprint is None:
            mesh = self.settings.mesh_shape
            if mesh.size < 2:
                mesh = self.backend.default_mesh_shape
            self._fingerprint = replace(
                self.backend.fingerprint(mesh), weights=self.weights.key, model=self.settings.model
            )
        return self._fingerprint

    @property
    def baseline_file(self) -> Path:
        return baseline_path(self.settings.baseline_dir, self.fingerprint)

    def clean_temp_files(self) -> None:
        """Delete the temporary files a killed baseline write left behind, and say so in the summary."""
        for path in remove_stale_temp_files(self.settings.baseline_dir):
            self.notes.append(f"removed {path}: the temporary file of a baseline write that was killed")

    def load_store(self) -> BaselineFile:
        """The baseline file for this fingerprint, validated once.

        Unusable (not JSON, other schema or fingerprint): raises, update or not. Invalid entries: a read-only run
        keeps the valid ones and notes the others (their cases find no baseline); an update raises, since writing
        would drop them. ``--ttpose-baselines-reset`` lets an update go on from the valid entries (none for an
        unusable file); the old file is kept as ``<name>.bak`` when the update writes.
        """
        if self._store is None:
            reset = self.settings.update_baselines and self.settings.baselines_reset
            try:
                store = BaselineFile.load(self.baseline_file, self.fingerprint)
            except BaselineFileError as error:
                if not reset:
                    raise
                self.notes.append(f"{error}; --ttpose-baselines-reset: starting the file afresh")
                store = BaselineFile(self.baseline_file, self.fingerprint, {}, exists=True)
            for node_id, problem in store.invalid.items():
                self.notes.append(f"invalid baseline entry {node_id}: {problem.position}: {problem.problem}")
            if store.invalid and self.settings.update_baselines and not reset:
                first = next(iter(store.invalid.values()))
                count = len(store.invalid)
                raise BaselineFileError(
                    self.baseline_file,
                    first.position,
                    f"{first.problem} ({count} invalid entr{'y' if count == 1 else 'ies'}, all listed in the "
                    "summary); an update would drop them",
                )
            self._store = store
        return self._store

    def optable_baseline(self, node_id: str) -> dict[str, float] | None:
        """The stored per-op modelled ns of a perf case (the op-table file beside the baseline file), if any."""
        from pytest_ttpose.harness.modelled_perf import load_optables, optable_path

        if self._optables is None:
            try:
                self._optables = load_optables(optable_path(self.baseline_file))
            except ValueError as error:
                self.notes.append(f"{error}; per-op comparison unavailable")
                self._optables = {}
        return self._optables.get(node_id)

    # results -----------------------------------------------------------------------------------------------------
    def result(self, node_id: str) -> CaseResult:
        if node_id not in self.results:
            self.results[node_id] = CaseResult(node_id)
        return self.results[node_id]

    def worker_output(self) -> list[dict[str, Any]]:
        return [result.to_json() for result in self.results.values()]

    def merge_worker_output(self, output: Iterable[dict[str, Any]]) -> None:
        for data in output:
            result = CaseResult.from_json(data)
            self.results[result.node_id] = result

    def baseline_updates(self) -> list[tuple[str, BaselineEntry]]:
        """Values produced by passing cases, for ``--ttpose-update-baselines``."""
        updates: list[tuple[str, BaselineEntry]] = []
        for result in self.results.values():
            if result.status != "passed":
                continue
            entry = BaselineEntry(
                pcc=result.pcc if result.store_pcc else None,
                fps=result.fps if result.store_perf else None,
                latency_ms=result.latency_ms if result.store_perf else None,
            )
            if not entry.is_empty:
                updates.append((result.node_id, entry))
        return updates

    def write_baselines(self) -> None:
        """Merge the produced values into the file once (controller or single process), atomically. The file is
        read again first (another run may have written it meanwhile) and under the same rules as ``load_store``:
        nothing valid is dropped without --ttpose-baselines-reset, and then the old file is kept as .bak."""
        updates = self.baseline_updates()
        if not updates:
            return
        path = self.baseline_file
        try:
            current = BaselineFile.load(path, self.fingerprint)
            problem = None if not current.invalid else next(iter(current.invalid.values()))
        except BaselineFileError as error:
            current, problem = BaselineFile(path, self.fingerprint, {}), error
        if problem is not None:
            if not self.settings.baselines_reset:
                self.notes.append(f"baselines NOT written: {problem}; the file is left as it is")
                return
            shutil.copy2(path, backup_path(path))
            self.notes.append(f"--ttpose-baselines-reset: the old file is kept as {backup_path(path)}")
        current.updated(updates).write_atomic()
        self.written = [node_id for node_id, _ in updates]
        self._write_optables()

    def _write_optables(self) -> None:
        """Store the op tables of the modelled perf cases that stored their FPS (others keep theirs)."""
        from pytest_ttpose.harness.modelled_perf import load_optables, op_figures, optable_path, write_optables

        produced = {
            result.node_id: op_figures(result.op_table)
            for result in self.results.values()
            if result.status == "passed" and result.store_perf and result.op_table is not None
        }
        if not produced:
            return
        path = optable_path(self.baseline_file)
        try:
            tables = load_optables(path)
        except ValueError as error:
            self.notes.append(f"{error}; rewritten with the op tables of the tests that ran")
            tables = {}
        tables.update(produced)
        write_optables(path, tables)

    # reporting ---------------------------------------------------------------------------------------------------
    def ordered_results(self) -> list[CaseResult]:
        return [self.results[node_id] for node_id in sorted(self.results)]

    def summary_lines(self) -> list[str]:
        lines = render_table(self.ordered_results()) if self.results else []
        lines.append(f"baseline file: {self.baseline_file}")
        if self.settings.update_baselines:
            lines.append(f"baselines updated: {len(self.written)} entr{'y' if len(self.written) == 1 else 'ies'}")
        lines.extend(self.notes)
        return lines

    def report(self, exit_status: int) -> dict[str, Any]:
        settings = self.settings
        finished = exit_status in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED)
        return build_report(
            self.ordered_results(),
            fingerprint=self.fingerprint.as_dict(),
            baseline_file=str(self.baseline_file),
            update_baselines=settings.update_baselines,
            complete=finished and not any(result.status == INTERRUPTED for result in self.results.values()),
            exit_status=int(exit_status),
            settings={
                "backend": settings.backend,
                "device_id": settings.device_id,
                "mesh_shape": str(settings.mesh_shape),
                "matrix": [point.as_dict() for point in settings.matrix],
                "pcc_tolerance": settings.pcc_tolerance,
                "perf_tolerance": settings.perf_tolerance,
            },
        )

    def write_report(self, exit_status: int) -> None:
        """Write the JSON report (atomically). A run that stopped before any case result reached this process (an
        interrupted pytest-xdist run) has nothing to say: it leaves an earlier report as it was, and says so."""
        path = self.settings.report_path
        if path is None:
            return
        report = self.report(exit_status)
        if not report["complete"] and not report["cases"]:
            self.notes.append(f"report not written: the run stopped before any case result; {path} is left as it was")
            return
        write_report(path, report)
        tables = {r.node_id: r.op_table for r in self.ordered_results() if r.op_table is not None}
        if tables:
            from pytest_ttpose.harness.modelled_perf import csv_path, write_op_csv

            write_op_csv(csv_path(path), tables)


SESSION_KEY = pytest.StashKey[TtposeSession]()


def get_session(config: pytest.Config) -> TtposeSession:
    try:
        return config.stash[SESSION_KEY]
    except KeyError:
        raise pytest.UsageError(
            "pytest-ttpose is not configured in this session (was it disabled with -p no:ttpose?)"
        ) from None
