"""``CaseCheck``, the object behind the ``ttpose_check`` fixture: measure, record, compare with the baseline, assert.

Every check records what it measured in the case's ``CaseResult`` before it asserts, so the summary table and the
JSON report show failing cases with their numbers too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ttpose.harness.baselines import BaselineEntry
from pytest_ttpose.harness.report import PERF_MEASURED, PERF_MODELLED, PERF_NOT_MEASURED, CaseResult
from pytest_ttpose.pose.acceptance import (
    COMPONENTS,
    Component,
    PccFinding,
    compare_pcc,
    fps_floor,
    nonfinite_findings,
    pcc_floor,
)

if TYPE_CHECKING:
    from pytest_ttpose.harness.session import TtposeSession

# Used when a case has no dtype (neither ttpose_point nor ttpose_dtype_pair) and passes no thresholds.
_DEFAULT_THRESHOLD_DTYPE = "bfloat16"


class ReferenceOutputError(RuntimeError):
    """The torch reference produced NaN or inf: its weights are broken, so no comparison means anything."""


def format_layer_table(rows: Any, threshold: float) -> list[str]:
    """Rows with ``name`` and ``pcc`` (as ``tt.diagnostics.layer_pcc_table`` returns), the first below marked."""
    lines = [f"per-layer PCC (threshold {threshold:.4f}; '<<' marks the first layer below it):"]
    marked = False
    for row in rows:
        value = float(row.pcc)
        below = math.isnan(value) or value < threshold
        shape = getattr(row, "shape", None)
        error = getattr(row, "max_abs_error", None)
        text = f"  {row.name:<28} pcc {value:.6f}"
        if shape is not None:
            text += f"  shape {tuple(shape)}"
        if error is not None:
            text += f"  max|err| {float(error):.4g}"
        if below and not marked:
            text += "  << first below threshold"
            marked = True
        lines.append(text)
    if not marked:
        lines.append("  (no layer below the threshold: the drop is in the final output only)")
    return lines


class CaseCheck:
    """PCC and perf assertions of one test case against the absolute thresholds and the stored baseline."""

    def __init__(
        self, session: TtposeSession, result: CaseResult, dtypes: tuple[str, str] | None, regen_command: str
    ) -> None:
        self._session = session
        self.result = result
        self._dtypes = dtypes
        self.regen_command = regen_command

    # helpers -----------------------------------------------------------------------------------------------------
    @property
    def _update(self) -> bool:
        return self._session.settings.update_baselines

    def _entry(self) -> BaselineEntry | None:
        return self._session.load_store().get(self.result.node_id)

    def _thresholds(self, override: float | Mapping[str, float] | None) -> dict[str, float]:
        if isinstance(override, Mapping):
            return {component: float(override[component]) for component in COMPONENTS}
        if override is not None:
            return dict.fromkeys(COMPONENTS, float(override))
        act, weight = self._dtypes or (_DEFAULT_THRESHOLD_DTYPE, _DEFAULT_THRESHOLD_DTYPE)
        return dict.fromkeys(COMPONENTS, pcc_floor(act, weight))

    def _fail(self, lines: list[str]) -> None:
        __tracebackhide__ = True
        message = "\n".join(lines)
        self.result.messages.append(message)
        pytest.fail(message, pytrace=False)

    def _missing(self, what: str) -> None:
        __tracebackhide__ = True
        invalid = self._session.load_store().invalid.get(self.result.node_id)
        if invalid is None:
            self._fail(
                [
                    f"no {what} baseline for {self.result.node_id}",
                    f"baseline file: {self._session.baseline_file}",
                    f"create it with: {self.regen_command}",
                ]
            )
        self._fail(
            [
                f"no valid {what} baseline for {self.result.node_id}: its entry is invalid",
                f"baseline file: {invalid}",
                "fix the entry, or replace the file's invalid entries with: "
                f"{self.regen_command} --ttpose-baselines-reset (the old file is kept as <name>.bak)",
            ]
        )

    # PCC ---------------------------------------------------------------------------------------------------------
    def pcc(
        self,
        reference_output: Any,
        device_output: Any,
        *,
        layers: Callable[[], Any] | None = None,
        thresholds: float | Mapping[str, float] | None = None,
    ) -> dict[str, float] | None:
        """Per-component PCC of two (B, 56, A) outputs, checked. On the ttnn-mock dry run: recorded as a dry run."""
        __tracebackhide__ = True
        if self._session.backend.dry_run:
            self.result.dry_run = True
            return None
        from pytest_ttpose.pose.metrics import component_pcc, nonfinite_counts

        self._check_finite(nonfinite_counts(reference_output), nonfinite_counts(device_output))
        return self.pcc_values(component_pcc(reference_output, device_output), layers=layers, thresholds=thresholds)

    def tensor_pcc(
        self,
        golden: Any,
        calculated: Any,
        *,
        layers: Callable[[], Any] | None = None,
        thresholds: float | Mapping[str, float] | None = None,
    ) -> float | None:
        """PCC of any two same-shaped tensors (a block's output, say), checked as the ``all`` component."""
        __tracebackhide__ = True
        if self._session.backend.dry_run:
            self.result.dry_run = True
            return None
        from pytest_ttpose.pose.metrics import comp_pcc, nonfinite_counts

        self._check_finite(nonfinite_counts(golden), nonfinite_counts(calculated))
        return self.pcc_values({"all": comp_pcc(golden, calculated)}, layers=layers, thresholds=thresholds)["all"]

    def _check_finite(self, reference_counts: Mapping[Component, int], device_counts: Mapping[Component, int]) -> None:
        """NaN or inf in the reference is an error of the weights; in the device output, a failure of the case."""
        __tracebackhide__ = True
        reference_problems = nonfinite_findings(reference_counts, "reference")
        if reference_problems:
            message = "\n".join(
                [
                    f"the torch reference output is not finite for {self.result.node_id}",
                    *(f"  {line}" for line in reference_problems),
                    f"weights: {self._session.weights.label}: they produce NaN/inf on this input; check or "
                    "replace them (--ttpose-weights)",
                ]
            )
            self.result.messages.append(message)
            raise ReferenceOutputError(message)
        device_problems = nonfinite_findings(device_counts, "device")
        if device_problems:
            self._fail(
                [
                    f"the device output is not finite for {self.result.node_id}",
                    *(f"  {line}" for line in device_problems),
                    "a NaN or inf is a broken output whatever its PCC (tt-metal's PCC counts them as 0)",
                ]
            )

    def pcc_values(
        self,
        values: Mapping[str, float],
        *,
        layers: Callable[[], Any] | None = None,
        thresholds: float | Mapping[str, float] | None = None,
    ) -> dict[str, float]:
        """Check already computed per-component PCCs (any subset of all/box/score/kpt_xy/kpt_vis).

        On a dry-run backend the values are those of zeros: the case is recorded as a dry run, nothing is asserted.
        """
        __tracebackhide__ = True
        unknown = set(values) - set(COMPONENTS)
        if unknown or not values:
            raise ValueError(f"PCC components must be among {', '.join(COMPONENTS)}; got {sorted(values)}")
        measured: dict[str, float] = {c: float(values[c]) for c in COMPONENTS if c in values}
        if self._session.backend.dry_run:
            self.result.dry_run = True
            return measured
        floors = self._thresholds(thresholds)
        self.result.pcc = measured
        entry = self._entry()
        stored = None if entry is None or entry.pcc is None else dict(entry.pcc)
        self.result.pcc_baseline = stored
        compared = None if self._update else stored
        findings = compare_pcc(measured, floors, compared, self._session.settings.pcc_tolerance)
        if findings:
            self._fail(self._pcc_message(measured, floors, stored, findings, layers))
        if self._update:
            self.result.store_pcc = True
        elif stored is None or any(component not in stored for component in measured):
            self._missing("PCC")
        return measured

    def _pcc_message(
        self,
        measured: Mapping[str, float],
        floors: Mapping[str, float],
        stored: Mapping[str, float] | None,
        findings: list[PccFinding],
        layers: Callable[[], Any] | None,
    ) -> list[str]:
        tolerance = self._session.settings.pcc_tolerance
        failed = {finding.component: finding for finding in findings}
        lines = [
            f"PCC below the bar for {self.result.node_id}",
            f"  {'component':<10} {'measured':>10} {'threshold':>10} {'baseline':>10}  verdict",
        ]
        for component, value in measured.items():
            base = None if stored is None else stored.get(component)
            finding = failed.get(component)
            verdict = (
                "ok"
                if finding is None
                else (
                    "FAIL below threshold"
                    if finding.reason == "threshold"
                    else f"FAIL below baseline - {tolerance:g} = {finding.floor:.6f}"
                )
            )
            base_text = "-" if base is None else f"{base:.6f}"
            lines.append(f"  {component:<10} {value:>10.6f} {floors[component]:>10.6f} {base_text:>10}  {verdict}")
        lines.append(f"baseline file: {self._session.baseline_file}")
        if any(finding.reason == "threshold" for finding in findings):
            lines.append(
                "below the absolute threshold the output is wrong: fix the model (a new baseline does not help)"
            )
            lines.append(f"baseline regeneration command: {self.regen_command}")
        else:
            lines.append(f"to accept the measured values as the new baseline: {self.regen_command}")
        if layers is not None:
            try:
                lines.extend(format_layer_table(layers(), min(floors[c] for c in measured)))
            except Exception as error:  # the table is a diagnosis aid; its failure must not hide the PCC failure
                lines.append(f"per-layer PCC table unavailable: {type(error).__name__}: {error}")
        return lines

    # perf --------------------------------------------------------------------------------------------------------
    def perf(
        self,
        benchmark: Any,
        run: Callable[[], Any],
        *,
        device: Any = None,
        frames: int = 1,
        rounds: int = 3,
        warmup_rounds: int = 1,
    ) -> float | None:
        """Time ``run`` with ``benchmark.pedantic`` and check FPS against the baseline of this fingerprint.

        ``device`` is synchronized inside the timed call, so the time is the device's, not the enqueue's. Returns
        the FPS, or None when nothing was measured (``--benchmark-disable``, pytest-xdist, the dry run).
        """
        __tracebackhide__ = True
        session = self._session
        logs: list[Any] = []

        def timed() -> None:
            with session.backend.perf_recording() as log:
                run()
                if device is not None:
                    session.backend.synchronize(device)
            if log is not None:
                logs.append(log)

        if session.backend.dry_run:
            # Run it once through the fixture (pytest-benchmark warns about an unused one), but report no speed:
            # a mocked device executes nothing.
            benchmark.extra_info["dry_run"] = True
            benchmark.pedantic(timed, rounds=1, warmup_rounds=0, iterations=1)
            self.result.perf, self.result.perf_note = PERF_NOT_MEASURED, "dry run"
            return None
        benchmark.pedantic(timed, rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)
        entry = self._entry()
        self.result.fps_baseline = None if entry is None else entry.fps
        stats = None if benchmark.stats is None else benchmark.stats.stats
        if stats is not None:
            benchmark.extra_info["host_seconds_per_frame"] = stats.median / frames  # CPU time, compared with nothing
        if logs or (stats is None and self._models_perf()):
            if not logs:  # pytest-benchmark is disabled and ran nothing: run the call once to model it
                timed()
            return self._check_modelled(benchmark, logs[-1], frames)
        if stats is None:
            self.result.perf = PERF_NOT_MEASURED
            self.result.perf_note = "pytest-benchmark is disabled (--benchmark-disable or pytest-xdist)"
            return None
        fps = frames / stats.median
        latency = {"median": stats.median * 1e3, "min": stats.min * 1e3}
        benchmark.extra_info.update(
            {
                "fps": fps,
                "latency_ms_median": latency["median"],
                "latency_ms_min": latency["min"],
                "frames_per_call": frames,
                "ttpose_fingerprint": session.fingerprint.as_dict(),
            }
        )
        self.result.perf, self.result.fps, self.result.latency_ms = PERF_MEASURED, fps, latency
        return self._check_fps(
            fps, f"measured {fps:.3f} FPS (latency median {latency['median']:.2f} ms, min {latency['min']:.2f} ms)", []
        )

    def _models_perf(self) -> bool:
        with self._session.backend.perf_recording() as log:
            return log is not None

    def model_call(self, run: Callable[[], Any], *, device: Any = None, frames: int = 1) -> Any:
        """Run ``run`` once (and synchronize ``device``) under the backend's recording, and return its
        ``devperf.pipeline.CallModel``; None where the backend measures instead of modelling."""
        session = self._session
        with session.backend.perf_recording() as log:
            run()
            if device is not None:
                session.backend.synchronize(device)
        if log is None:
            return None
        from pytest_ttpose.devperf.pipeline import model_call

        return model_call(log.events, session.backend.perf_hardware(_chips(log)), frames)

    def call_figure(self, run: Callable[[], Any], *, device: Any, frames: int) -> CallFigure | None:
        """Seconds per call of ``run`` (plus a device synchronize): modelled where the backend models, else the
        median of a few timed calls on the device. None on the dry run (a mocked device runs nothing)."""
        if self._session.backend.dry_run:
            self.result.dry_run = True
            return None
        model = self.model_call(run, device=device, frames=frames)
        if model is not None:
            return CallFigure(model.period_ns / 1e9, model)
        return CallFigure(_median_seconds(run, device, self), None)

    def trace_speedup(
        self, basic: CallFigure | None, performant: CallFigure | None, *, minimum: float | None
    ) -> float | None:
        """The speedup of the traced runner's call over the basic runner's, recorded with where the time goes, and
        checked against ``minimum`` when given. None when there are no figures (the dry run)."""
        __tracebackhide__ = True
        if basic is None or performant is None:
            return None
        speedup = basic.seconds / performant.seconds
        figures: dict[str, Any] = {"speedup": speedup, "basic_s": basic.seconds, "performant_s": performant.seconds}
        if basic.model is not None and performant.model is not None:
            figures.update(
                perf=PERF_MODELLED,
                system=performant.model.hardware.system,
                basic=basic.model.breakdown(),
                performant=performant.model.breakdown(),
            )
        else:
            figures["perf"] = PERF_MEASURED
        self.result.perf_model = figures
        if minimum is not None and speedup < minimum:
            self._fail(
                [
                    f"trace + 2 CQs is {speedup:.3f}x the basic path for {self.result.node_id}; at least "
                    f"{minimum:g}x expected",
                    f"  where the time goes (ms per call): {figures}",
                ]
            )
        return speedup

    def dry_run_perf(self, work: Callable[[], Any], *, device: Any, frames: int, input_elements: int) -> float | None:
        """On the dry run: model the traced runner's FPS from the programs real ttnn accepted for ``work()`` (one
        model forward), with their real shapes, memory configs and grids. Recorded as modelled, compared with
        nothing (a mocked device runs nothing to measure). None on other backends."""
        session = self._session
        if not session.backend.dry_run:
            return None
        from pytest_ttpose.devperf.pipeline import model_call, traced_frame
        from pytest_ttpose.harness.modelled_perf import op_table

        chips = device.get_num_devices() if hasattr(device, "get_num_devices") else 1
        ops = session.backend.capture_device_ops(device, work)
        hardware = session.backend.perf_hardware(chips)
        model = model_call(traced_frame(ops, input_elements=input_elements, devices=chips), hardware, frames)
        self.result.perf, self.result.fps = PERF_MODELLED, model.fps
        self.result.perf_note = "dry run: modelled from the ops ttnn accepted, compared with nothing"
        self.result.perf_model = {
            "system": hardware.system,
            "grid": f"{hardware.grid[0]}x{hardware.grid[1]}",
            "frames_per_call": frames,
            "device_kernel_fps": model.kernel_fps,
            "ops": len(model.rows),
            **model.breakdown(),
        }
        self.result.op_table = op_table(model)
        return model.fps

    def _check_modelled(self, benchmark: Any, log: Any, frames: int) -> float:
        """Price the recorded call with the device model, record the figures and the per-op table, and check."""
        __tracebackhide__ = True
        from pytest_ttpose.devperf.pipeline import model_call
        from pytest_ttpose.harness.modelled_perf import grown_ops, op_figures, op_table

        session = self._session
        hardware = session.backend.perf_hardware(_chips(log))
        model = model_call(log.events, hardware, frames)
        fps = model.fps
        rows = op_table(model)
        breakdown = {
            "system": hardware.system,
            "grid": f"{hardware.grid[0]}x{hardware.grid[1]}",
            "frames_per_call": frames,
            "device_kernel_fps": model.kernel_fps,
            "ops": len(rows),
            **model.breakdown(),
        }
        benchmark.extra_info.update(
            {
                "fps": fps,
                "perf": PERF_MODELLED,
                "modelled": breakdown,
                "ttpose_fingerprint": session.fingerprint.as_dict(),
            }
        )
        period_ms = model.period_ns / 1e6
        self.result.perf, self.result.fps = PERF_MODELLED, fps
        self.result.latency_ms = {"median": period_ms, "min": period_ms}
        self.result.perf_model, self.result.op_table = breakdown, rows
        stored = session.optable_baseline(self.result.node_id)
        grown = [] if stored is None else grown_ops(op_figures(rows), stored)
        growth_lines = (
            ["  per-op baseline: none stored (update the baselines to store one)"]
            if stored is None
            else ["  ops that grew most against the baseline run (modelled device time):"]
            + [f"    {g.describe()}" for g in grown]
        )
        what = (
            f"modelled {fps:.3f} FPS on {hardware.system} ({period_ms:.3f} ms per call: device kernels "
            f"{model.kernel_ns / 1e6:.3f} ms, dispatch {model.dispatch_ns / 1e6:.3f} ms, transfer "
            f"{model.transfer_ns / 1e6:.3f} ms, host {model.host_ns / 1e6:.3f} ms)"
        )
        return self._check_fps(fps, what, growth_lines)

    def _check_fps(self, fps: float, what: str, extra: list[str]) -> float:
        __tracebackhide__ = True
        session = self._session
        if self._update:
            self.result.store_perf = True
            return fps
        if self.result.fps_baseline is None:
            self._missing("FPS")
            return fps
        tolerance = session.settings.perf_tolerance
        floor = fps_floor(self.result.fps_baseline, tolerance)
        if fps < floor:
            self._fail(
                [
                    f"FPS below the bar for {self.result.node_id}",
                    f"  {what}",
                    f"  baseline {self.result.fps_baseline:.3f} FPS x (1 - {tolerance:g}) = floor {floor:.3f} FPS",
                    *extra,
                    f"baseline file: {session.baseline_file} (fingerprint {session.fingerprint.as_dict()})",
                    f"to accept the measured speed as the new baseline: {self.regen_command}",
                ]
            )
        return fps

    # dry run -----------------------------------------------------------------------------------------------------
    def fit(self, report: Mapping[str, Any]) -> None:
        """Attach the dry run's fit report (peak L1 per core vs bank size); a ``summary`` key shows in the table."""
        self.result.dry_run = self.result.dry_run or self._session.backend.dry_run
        self.result.fit = dict(report)


@dataclass(frozen=True)
class CallFigure:
    """Seconds per call of a runner: modelled (with the model's breakdown) or measured on the device."""

    seconds: float
    model: Any = None  # devperf.pipeline.CallModel when modelled


def _median_seconds(run: Callable[[], Any], device: Any, check: CaseCheck, calls: int = 5) -> float:
    """Wall time of ``run`` plus a device synchronize, median of ``calls`` (hardware: speed is measured there)."""
    import statistics
    import time

    times = []
    for _ in range(calls):
        start = time.perf_counter()
        run()
        check._session.backend.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _chips(log: Any) -> int:
    """How many chips the recorded ops ran on (a data-parallel mesh runs every op on each)."""
    return max((getattr(event, "devices", 1) for event in log.events), default=1)


__all__ = ["CallFigure", "CaseCheck", "ReferenceOutputError", "format_layer_table"]
