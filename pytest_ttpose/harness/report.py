"""The session's results as data: one ``CaseResult`` per ttpose test, the terminal table and the JSON report.

Workers serialise their results with ``to_json`` and the controller rebuilds them with ``from_json``; only the
process that prints (the controller, or the single process without xdist) renders the table and writes the file.
No pytest here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytest_ttpose.harness.atomic_files import write_text_atomic

REPORT_SCHEMA = "pytest-ttpose/report/1"

# How a perf case's FPS was obtained: timed on the backend's clock, modelled, or not at all (benchmarks disabled).
PerfSource = Literal["measured", "modelled", "not measured"]
PERF_MEASURED: PerfSource = "measured"
PERF_MODELLED: PerfSource = "modelled"  # FPS from pytest_ttpose.devperf of what the case ran, not from a clock
PERF_NOT_MEASURED: PerfSource = "not measured"

# How a case ended. "interrupted": it started (setup began) and the run ended before its outcome (Ctrl-C, a crash):
# never "passed", whatever its setup did.
CaseStatus = Literal["not run", "passed", "failed", "skipped", "error", "interrupted"]
INTERRUPTED: CaseStatus = "interrupted"


@dataclass
class CaseResult:
    """What one test case measured, what it was compared with, and how it ended."""

    node_id: str
    point: str | None = None
    dp: bool = False
    status: CaseStatus = "not run"
    pcc: dict[str, float] | None = None
    pcc_baseline: dict[str, float] | None = None
    perf: PerfSource | None = None  # None: not a perf case
    perf_note: str | None = None
    fps: float | None = None
    fps_baseline: float | None = None
    latency_ms: dict[str, float] | None = None
    dry_run: bool = False
    fit: dict[str, Any] | None = None
    # modelled perf: where the time goes (ms per call) and one row per device op (pytest_ttpose.harness.modelled_perf)
    perf_model: dict[str, Any] | None = None
    op_table: list[dict[str, Any]] | None = None
    messages: list[str] = field(default_factory=list)
    # Values this case may write under --ttpose-update-baselines (only those it produced and that passed the
    # absolute checks).
    store_pcc: bool = False
    store_perf: bool = False

    @property
    def pcc_min(self) -> tuple[str, float] | None:
        if not self.pcc:
            return None
        component = min(self.pcc, key=lambda name: (not math.isnan(self.pcc[name]), self.pcc[name]))  # type: ignore[index]
        return component, self.pcc[component]

    @property
    def fps_delta(self) -> float | None:
        if self.fps is None or not self.fps_baseline:
            return None
        return self.fps / self.fps_baseline - 1.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        pcc_min = self.pcc_min
        data["pcc_min"] = None if pcc_min is None else {"component": pcc_min[0], "value": pcc_min[1]}
        data["fps_delta"] = self.fps_delta
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseResult:
        names = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in names})


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table_rows(results: Iterable[CaseResult]) -> list[tuple[str, ...]]:
    header = ("case", "PCC min", "baseline", "FPS", "baseline", "delta", "status")
    rows: list[tuple[str, ...]] = [header]
    for result in results:
        pcc_min = result.pcc_min
        if result.dry_run:
            pcc_text, pcc_base = "dry run", "-"
        elif pcc_min is None:
            pcc_text, pcc_base = "-", "-"
        else:
            component, value = pcc_min
            pcc_text = f"{value:.5f} {component}"
            stored = None if result.pcc_baseline is None else result.pcc_baseline.get(component)
            pcc_base = _fmt(stored, 5)
        if result.perf is None:
            fps_text = "-"
        elif result.perf == PERF_NOT_MEASURED:
            fps_text = PERF_NOT_MEASURED
        else:
            fps_text = _fmt(result.fps, 2) + (" (modelled)" if result.perf == PERF_MODELLED else "")
        delta = result.fps_delta
        delta_text = "-" if delta is None else f"{delta * 100:+.1f}%"
        status_text: str = result.status
        if result.fit and result.fit.get("summary"):
            status_text = f"{status_text} ({result.fit['summary']})"
        rows.append(
            (result.node_id, pcc_text, pcc_base, fps_text, _fmt(result.fps_baseline, 2), delta_text, status_text)
        )
    return rows


def render_table(results: Iterable[CaseResult]) -> list[str]:
    rows = table_rows(results)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def build_report(
    results: Iterable[CaseResult],
    *,
    fingerprint: Mapping[str, str] | None,
    baseline_file: str | None,
    update_baselines: bool,
    settings: Mapping[str, Any],
    complete: bool,
    exit_status: int,
) -> dict[str, Any]:
    """The JSON report. ``complete`` is false when the run stopped early (Ctrl-C, an internal or usage error) or a
    case was interrupted: a consumer must not count such a report as green, whatever its cases say."""
    cases = [result.to_json() for result in results]
    counts: dict[str, int] = {}
    for case in cases:
        counts[case["status"]] = counts.get(case["status"], 0) + 1
    return {
        "schema": REPORT_SCHEMA,
        "complete": complete,
        "exit_status": exit_status,
        "fingerprint": dict(fingerprint) if fingerprint else None,
        "baseline_file": baseline_file,
        "update_baselines": update_baselines,
        "settings": dict(settings),
        "cases": cases,
        "summary": dict(sorted(counts.items())),
    }


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    """Atomically: a reader (CI) never sees half a report."""
    write_text_atomic(path, json.dumps(report, indent=2, sort_keys=True) + "\n")
