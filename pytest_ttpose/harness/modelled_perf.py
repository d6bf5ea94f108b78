"""Modelled performance on the harness side: per-op tables, their store beside the baseline file, and diffs.

A perf case on a backend that records what it runs (the emulator) gets its FPS from ``pytest_ttpose.devperf``; its
per-op table (one row per device program, like tt-metal's ops perf report) goes into the JSON report, a CSV next to
it, and, under ``--ttpose-update-baselines``, an op-table file beside the baseline file
(``<baseline>.optable.json``: node id -> {op key: modelled ns}). A failing perf case names the ops that grew most
against that table. Standard library and devperf only; no pytest.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ttpose.devperf.pipeline import CallModel

OPTABLE_SCHEMA = "pytest-ttpose/optable/1"
CSV_COLUMNS = (
    "case",
    "key",
    "op",
    "class",
    "inputs",
    "output",
    "memory",
    "cores",
    "fidelity",
    "replayed",
    "compute_ns",
    "bandwidth_ns",
    "modelled_ns",
    "share",
)


def op_table(model: CallModel) -> list[dict[str, Any]]:
    """One row per device program of the call, with its share of the summed kernel time."""
    rows = []
    for row in model.rows:
        cost = row.cost
        memory = sorted(
            {
                t.buffer if t.memory_layout == "INTERLEAVED" else f"{t.buffer} {t.memory_layout}"
                for t in (*cost.op.inputs, cost.op.output)
            }
        )
        rows.append(
            {
                "key": row.key,
                "op": cost.name,
                "class": cost.op_class,
                "inputs": "; ".join(t.describe() for t in cost.op.inputs),
                "output": cost.op.output.describe(),
                "memory": ", ".join(memory),
                "cores": cost.cores,
                "fidelity": cost.op.fidelity or "",
                "replayed": row.replayed,
                "compute_ns": round(cost.compute_ns, 1),
                "bandwidth_ns": round(cost.bandwidth_ns, 1),
                "modelled_ns": round(cost.modelled_ns, 1),
                "share": round(cost.modelled_ns / model.kernel_ns, 6) if model.kernel_ns else 0.0,
            }
        )
    return rows


def op_figures(rows: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    return {str(row["key"]): float(row["modelled_ns"]) for row in rows}


@dataclass(frozen=True)
class OpGrowth:
    key: str
    baseline_ns: float | None
    modelled_ns: float | None

    @property
    def delta_ns(self) -> float:
        return (self.modelled_ns or 0.0) - (self.baseline_ns or 0.0)

    def describe(self) -> str:
        before = "new" if self.baseline_ns is None else f"{self.baseline_ns / 1e3:.2f} us"
        after = "gone" if self.modelled_ns is None else f"{self.modelled_ns / 1e3:.2f} us"
        return f"{self.key:<28} {before:>12} -> {after:>12}  ({self.delta_ns / 1e3:+.2f} us)"


def grown_ops(current: Mapping[str, float], baseline: Mapping[str, float], limit: int = 10) -> list[OpGrowth]:
    """The ``limit`` ops whose modelled time grew most (new ops count from zero), largest growth first."""
    keys = set(current) | set(baseline)
    growth = [OpGrowth(key, baseline.get(key), current.get(key)) for key in keys]
    growing = [g for g in growth if g.delta_ns > 0]
    return sorted(growing, key=lambda g: (-g.delta_ns, g.key))[:limit]


def optable_path(baseline_file: Path) -> Path:
    return baseline_file.with_name(baseline_file.stem + ".optable.json")


def load_optables(path: Path) -> dict[str, dict[str, float]]:
    """The stored op tables (node id -> op key -> ns); a missing file is empty, a malformed one raises ValueError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict) or data.get("schema") != OPTABLE_SCHEMA or not isinstance(data.get("entries"), dict):
        raise ValueError(f"{path}: expected an object with schema {OPTABLE_SCHEMA!r} and 'entries'")
    tables: dict[str, dict[str, float]] = {}
    for node_id, table in data["entries"].items():
        if not isinstance(table, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in table.values()
        ):
            raise ValueError(f"{path}: entries[{node_id!r}] must map op keys to finite numbers of ns")
        tables[node_id] = {str(k): float(v) for k, v in table.items()}
    return tables


def write_optables(path: Path, tables: Mapping[str, Mapping[str, float]]) -> None:
    document = {
        "schema": OPTABLE_SCHEMA,
        "entries": {node: {k: round(v, 1) for k, v in sorted(table.items())} for node, table in sorted(tables.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def csv_path(report_path: Path) -> Path:
    return report_path.with_name(report_path.stem + ".ops.csv")


def write_op_csv(path: Path, tables: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for case, rows in tables.items():
            for row in rows:
                writer.writerow({"case": case, **{k: row[k] for k in CSV_COLUMNS if k != "case"}})


__all__ = [
    "OpGrowth",
    "csv_path",
    "grown_ops",
    "load_optables",
    "op_figures",
    "op_table",
    "optable_path",
    "write_op_csv",
    "write_optables",
]
