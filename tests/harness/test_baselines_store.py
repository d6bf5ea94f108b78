"""The pure baseline store: schema validation with positions, per-field merge, sorted atomic writes."""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pytest_ttpose.harness.baselines import (
    SCHEMA,
    BaselineEntry,
    BaselineFile,
    BaselineFileError,
    Fingerprint,
    baseline_path,
)

FINGERPRINT = Fingerprint(backend="emulator", arch="wormhole_b0", mesh_shape="1x2", ttnn="emulator")


def write(path: Path, document: object) -> None:
    path.write_text(json.dumps(document))


def test_file_name_is_the_fingerprint(tmp_path: Path) -> None:
    assert baseline_path(tmp_path, FINGERPRINT) == tmp_path / "emulator_wormhole_b0_mesh1x2_ttnn-emulator.json"
    odd = Fingerprint("ttnn", "wormhole_b0", "2x4", "0.81.1+dev/x")
    assert odd.file_name == "ttnn_wormhole_b0_mesh2x4_ttnn-0.81.1-dev-x.json"


def test_missing_file_is_an_empty_store(tmp_path: Path) -> None:
    store = BaselineFile.load(tmp_path / "none.json", FINGERPRINT)
    assert (store.exists, dict(store.entries)) == (False, {})


def test_round_trip_is_sorted_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    store = BaselineFile(path, FINGERPRINT).updated(
        [
            ("z::t", BaselineEntry(fps=2.0, latency_ms={"min": 1.0, "median": 2.0})),
            ("a::t", BaselineEntry(pcc={"box": 0.9, "all": 0.8})),
        ]
    )
    store.write_atomic()
    text = path.read_text()
    assert text == store.dumps() and text.endswith("\n")
    assert text.index('"a::t"') < text.index('"z::t"') and text.index('"all"') < text.index('"box"')
    loaded = BaselineFile.load(path, FINGERPRINT)
    assert loaded.get("z::t") == BaselineEntry(fps=2.0, latency_ms={"median": 2.0, "min": 1.0})
    assert loaded.dumps() == text
    assert json.loads(text)["schema"] == SCHEMA


def test_update_merges_per_field_and_skips_empty(tmp_path: Path) -> None:
    store = BaselineFile(tmp_path / "b.json", FINGERPRINT, {"x": BaselineEntry(pcc={"all": 0.5}, fps=3.0)})
    updated = store.updated([("x", BaselineEntry(pcc={"all": 0.9})), ("y", BaselineEntry())])
    assert dict(updated.entries) == {"x": BaselineEntry(pcc={"all": 0.9}, fps=3.0)}
    assert store.get("x") == BaselineEntry(pcc={"all": 0.5}, fps=3.0), "updated() must not change the original"


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "b.json"
    path.write_text("old")

    def broken_replace(source: str, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        BaselineFile(path, FINGERPRINT, {"x": BaselineEntry(fps=1.0)}).write_atomic()
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]


@pytest.mark.parametrize(
    ("document", "position", "problem"),
    [
        ([], "$", "expected an object"),
        ({"schema": SCHEMA, "fingerprint": FINGERPRINT.as_dict(), "entries": {}, "extra": 1}, "$", "unknown keys"),
        ({"schema": "v0", "fingerprint": FINGERPRINT.as_dict(), "entries": {}}, "$.schema", "expected"),
        ({"schema": SCHEMA, "fingerprint": {"backend": "ttnn"}, "entries": {}}, "$.fingerprint", "file is for"),
        ({"schema": SCHEMA, "fingerprint": FINGERPRINT.as_dict(), "entries": []}, "$.entries", "expected an object"),
    ],
)
def test_schema_errors_name_file_and_position(tmp_path: Path, document: object, position: str, problem: str) -> None:
    path = tmp_path / "b.json"
    write(path, document)
    with pytest.raises(BaselineFileError) as raised:
        BaselineFile.load(path, FINGERPRINT)
    assert (raised.value.path, raised.value.position) == (path, position)
    assert problem in raised.value.problem
    assert str(raised.value).startswith(f"{path}: {position}: ")


@pytest.mark.parametrize(
    ("document", "position", "problem"),
    [
        (
            {"schema": SCHEMA, "fingerprint": FINGERPRINT.as_dict(), "entries": {"t": {"speed": 1}}},
            '$.entries["t"]',
            "unknown keys",
        ),
        (
            {"schema": SCHEMA, "fingerprint": FINGERPRINT.as_dict(), "entries": {"t": {"fps": True}}},
            '$.entries["t"].fps',
            "finite number",
        ),
        (
            {"schema": SCHEMA, "fingerprint": FINGERPRINT.as_dict(), "entries": {"t": {"latency_ms": {"p99": 1}}}},
            '$.entries["t"].latency_ms.p99',
            "unknown key",
        ),
    ],
)
def test_invalid_entries_are_listed_and_the_valid_ones_kept(
    tmp_path: Path, document: dict[str, Any], position: str, problem: str
) -> None:
    path = tmp_path / "b.json"
    document["entries"]["kept"] = {"fps": 2.0}
    write(path, document)
    loaded = BaselineFile.load(path, FINGERPRINT)
    assert loaded.entries == {"kept": BaselineEntry(fps=2.0)}
    error = loaded.invalid["t"]
    assert (error.path, error.position) == (path, position)
    assert problem in error.problem


def test_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{\n  "schema": 1,\n  oops\n}')
    with pytest.raises(BaselineFileError, match=r"line 3, column 3: not valid JSON"):
        BaselineFile.load(path, FINGERPRINT)


def test_nan_in_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(
        json.dumps({"schema": SCHEMA, "fingerprint": FINGERPRINT.as_dict(), "entries": {"t": {"fps": math.nan}}})
    )
    assert "finite number" in BaselineFile.load(path, FINGERPRINT).invalid["t"].problem


def test_stored_values_are_rounded_down_for_readable_diffs(tmp_path: Path) -> None:
    measured = BaselineEntry(pcc={"all": 0.99999987654}, fps=4.7396805, latency_ms={"median": 421.96936, "min": 420.0})
    ((node, stored),) = BaselineFile(tmp_path / "b.json", FINGERPRINT).updated([("t", measured)]).entries.items()
    assert stored == BaselineEntry(pcc={"all": 0.999999}, fps=4.739, latency_ms={"median": 421.969, "min": 420.0})
    assert stored.pcc["all"] <= measured.pcc["all"] and stored.fps <= measured.fps


def test_each_weights_has_its_own_file_name() -> None:
    names = {
        replace(FINGERPRINT, weights=weights).file_name
        for weights in (
            "bundled yolo11n-pose",
            "sha256:" + "ab" * 32,
            "seeded yolo11s-pose (seed 0)",
            "seeded yolo11m-pose (seed 0)",
        )
    }
    assert len(names) == 4
    assert FINGERPRINT.file_name == "emulator_wormhole_b0_mesh1x2_ttnn-emulator.json"
    assert replace(FINGERPRINT, weights="seeded yolo11s-pose (seed 0)").file_name.endswith(
        "_weights-seeded-yolo11s-pose-seed-0-.json"
    )
