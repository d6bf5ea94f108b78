"""The baseline store: one JSON file per device fingerprint, one entry per test node id. Standard library only.

File layout (keys sorted, two-space indent, trailing newline, so diffs stay readable)::

    {
      "entries": {
        "suites/test_pcc_pose.py::test_pcc_pose[n-640x640-b1-bfloat8_b-bfloat8_b]": {
          "fps": 4.21,
          "latency_ms": {"median": 237.5, "min": 231.0},
          "pcc": {"all": 0.997, "box": 0.999, "kpt_vis": 0.985, "kpt_xy": 0.998, "score": 0.991}
        }
      },
      "fingerprint": {"arch": "wormhole_b0", "backend": "emulator", "mesh_shape": "1x2", "ttnn": "emulator",
                      "weights": "bundled yolo11n-pose"},
      "schema": "pytest-ttpose/baselines/1"
    }

Every field of an entry is optional: a PCC-only case stores ``pcc``, a perf case also ``fps`` and ``latency_ms``.
Updates merge per field, so a run that measured PCC but not speed keeps the stored speed.

Values are range-checked on load: PCC in [-1, 1], FPS and latencies > 0, all finite. A file that cannot be read as a
whole (not JSON, another schema or fingerprint) is *unusable*; a readable file may still hold *invalid entries*: every
valid entry is kept and the invalid ones are listed in ``BaselineFile.invalid``. Neither is ever overwritten without
``--ttpose-baselines-reset`` (see ``TtposeSession.load_store``), which keeps the old file as ``<name>.bak``.

The weights are part of the fingerprint (``weights``): a run with other weights reads and writes another file, whose
name carries a weights tag, so it can neither compare with nor overwrite the entries of the bundled weights. A
fingerprint without ``weights`` (files written before it was recorded) is read as the bundled weights', the only ones
a file name without a weights tag stands for; the next update records the key.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_ttpose.harness.atomic_files import write_text_atomic
from pytest_ttpose.harness.settings import BUNDLED_MODEL
from pytest_ttpose.harness.weights import BUNDLED_WEIGHTS
from pytest_ttpose.pose.acceptance import COMPONENTS

SCHEMA = "pytest-ttpose/baselines/1"
LATENCY_KEYS = ("median", "min")
FINGERPRINT_KEYS = ("backend", "arch", "mesh_shape", "ttnn", "weights")


class BaselineFileError(Exception):
    """A baseline file that cannot be used: the message names the file, the position and the problem."""

    def __init__(self, path: Path, position: str, problem: str) -> None:
        self.path = path
        self.position = position
        self.problem = problem
        super().__init__(f"{path}: {position}: {problem}")


@dataclass(frozen=True)
class Fingerprint:
    """What makes numbers comparable: the backend, the arch, the mesh shape, the ttnn version, the weights and the
    model.

    ``model`` is the implementation measured: the bundled model, or a user's (``MODULE:CLASS``). A user model's
    numbers go to a file of their own, whose fingerprint records it, so two implementations never share entries.
    """

    backend: str
    arch: str
    mesh_shape: str
    ttnn: str
    weights: str = BUNDLED_WEIGHTS
    model: str = BUNDLED_MODEL

    def as_dict(self) -> dict[str, str]:
        keys = FINGERPRINT_KEYS if self.model == BUNDLED_MODEL else (*FINGERPRINT_KEYS, "model")
        return {key: getattr(self, key) for key in keys}

    @property
    def file_name(self) -> str:
        """``<backend>_<arch>_mesh<RxC>_ttnn-<version>[_weights-<tag>].json``: the bundled weights carry no tag (the
        name files had before the weights were recorded), a weights file the first 12 hex digits of its sha256, the
        seeded init of another scale its description."""
        raw = f"{self.backend}_{self.arch}_mesh{self.mesh_shape}_ttnn-{self.ttnn}"
        if self.weights.startswith("sha256:"):
            raw += "_weights-" + self.weights.removeprefix("sha256:")[:12]
        elif self.weights != BUNDLED_WEIGHTS:
            raw += "_weights-" + self.weights
        if self.model != BUNDLED_MODEL:
            raw += f"_model-{self.model}"
        return re.sub(r"[^A-Za-z0-9._-]+", "-", raw) + ".json"


@dataclass(frozen=True)
class BaselineEntry:
    pcc: Mapping[str, float] | None = None
    fps: float | None = None
    latency_ms: Mapping[str, float] | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.pcc is not None:
            data["pcc"] = dict(self.pcc)
        if self.fps is not None:
            data["fps"] = self.fps
        if self.latency_ms is not None:
            data["latency_ms"] = dict(self.latency_ms)
        return data

    def merged_with(self, update: BaselineEntry) -> BaselineEntry:
        """Fields the update carries replace the stored ones; the others stay as they were."""
        return BaselineEntry(
            pcc=update.pcc if update.pcc is not None else self.pcc,
            fps=update.fps if update.fps is not None else self.fps,
            latency_ms=update.latency_ms if update.latency_ms is not None else self.latency_ms,
        )

    def rounded(self) -> BaselineEntry:
        """Values as stored: PCC to 6 decimals and FPS to 3, rounded down (the checks are "measured >= stored",
        so a stored value never exceeds what was measured); latencies, for information, to 3 decimals."""
        return BaselineEntry(
            pcc=None if self.pcc is None else {name: _floor(value, 6) for name, value in self.pcc.items()},
            fps=None if self.fps is None else _floor(self.fps, 3),
            latency_ms=None if self.latency_ms is None else {k: round(v, 3) for k, v in self.latency_ms.items()},
        )

    @property
    def is_empty(self) -> bool:
        return self.pcc is None and self.fps is None and self.latency_ms is None


def _floor(value: float, decimals: int) -> float:
    scale = 10**decimals
    return math.floor(value * scale) / scale


@dataclass(frozen=True)
class _Range:
    """The values a stored number may take (a PCC is a correlation; speeds and times are positive)."""

    low: float
    high: float
    low_inclusive: bool
    text: str

    def holds(self, value: float) -> bool:
        above = value >= self.low if self.low_inclusive else value > self.low
        return above and value <= self.high


PCC_RANGE = _Range(-1.0, 1.0, True, "a PCC in [-1, 1]")
POSITIVE_RANGE = _Range(0.0, math.inf, False, "a finite number > 0")


def _number(value: Any, where: str, path: Path, allowed: _Range) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BaselineFileError(path, where, f"expected a finite number, found {value!r}")
    if not allowed.holds(float(value)):
        raise BaselineFileError(path, where, f"expected {allowed.text}, found {value!r}")
    return float(value)


def _number_map(value: Any, allowed: tuple[str, ...], where: str, path: Path, values: _Range) -> dict[str, float]:
    if not isinstance(value, dict):
        raise BaselineFileError(path, where, f"expected an object, found {type(value).__name__}")
    result: dict[str, float] = {}
    for key, item in value.items():
        if key not in allowed:
            raise BaselineFileError(path, f"{where}.{key}", f"unknown key; allowed: {', '.join(allowed)}")
        result[key] = _number(item, f"{where}.{key}", path, values)
    return result


def _entry_from_json(value: Any, where: str, path: Path) -> BaselineEntry:
    if not isinstance(value, dict):
        raise BaselineFileError(path, where, f"expected an object, found {type(value).__name__}")
    unknown = set(value) - {"pcc", "fps", "latency_ms"}
    if unknown:
        raise BaselineFileError(path, where, f"unknown keys {sorted(unknown)}; allowed: fps, latency_ms, pcc")
    return BaselineEntry(
        pcc=_number_map(value["pcc"], COMPONENTS, f"{where}.pcc", path, PCC_RANGE) if "pcc" in value else None,
        fps=_number(value["fps"], f"{where}.fps", path, POSITIVE_RANGE) if "fps" in value else None,
        latency_ms=(
            _number_map(value["latency_ms"], LATENCY_KEYS, f"{where}.latency_ms", path, POSITIVE_RANGE)
            if "latency_ms" in value
            else None
        ),
    )


@dataclass(frozen=True)
class BaselineFile:
    path: Path
    fingerprint: Fingerprint
    entries: Mapping[str, BaselineEntry] = field(default_factory=dict)
    exists: bool = False
    # Entries that failed validation: node id -> the BaselineFileError naming its position and problem. Not in
    # ``entries``; a write without --ttpose-baselines-reset refuses while there are any.
    invalid: Mapping[str, BaselineFileError] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, fingerprint: Fingerprint) -> BaselineFile:
        """Read and validate ``path``: a missing file is an empty store, an unusable one raises BaselineFileError,
        a usable one keeps its valid entries and lists its invalid ones."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path, fingerprint, {}, exists=False)
        except UnicodeDecodeError as error:
            raise BaselineFileError(path, f"byte {error.start}", "not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            position = f"line {error.lineno}, column {error.colno}"
            raise BaselineFileError(path, position, f"not valid JSON ({error.msg})") from None
        entries = cls._validate(data, path, fingerprint)
        valid = {node_id: entry for node_id, entry in entries.items() if isinstance(entry, BaselineEntry)}
        invalid = {node_id: entry for node_id, entry in entries.items() if isinstance(entry, BaselineFileError)}
        return cls(path, fingerprint, valid, exists=True, invalid=invalid)

    @staticmethod
    def _validate(data: Any, path: Path, fingerprint: Fingerprint) -> dict[str, BaselineEntry | BaselineFileError]:
        if not isinstance(data, dict):
            raise BaselineFileError(path, "$", f"expected an object, found {type(data).__name__}")
        unknown = set(data) - {"schema", "fingerprint", "entries"}
        if unknown:
            raise BaselineFileError(path, "$", f"unknown keys {sorted(unknown)}; allowed: entries, fingerprint, schema")
        if data.get("schema") != SCHEMA:
            raise BaselineFileError(path, "$.schema", f"expected {SCHEMA!r}, found {data.get('schema')!r}")
        stored = data.get("fingerprint")
        if isinstance(stored, dict) and "weights" not in stored:
            stored = {**stored, "weights": BUNDLED_WEIGHTS}  # written before the weights were recorded (module doc)
        if stored != fingerprint.as_dict():
            raise BaselineFileError(
                path, "$.fingerprint", f"file is for {stored!r}, this session is {fingerprint.as_dict()!r}"
            )
        entries = data.get("entries")
        if not isinstance(entries, dict):
            raise BaselineFileError(path, "$.entries", f"expected an object, found {type(entries).__name__}")
        result: dict[str, BaselineEntry | BaselineFileError] = {}
        for node_id, value in entries.items():
            try:
                result[node_id] = _entry_from_json(value, f"$.entries[{json.dumps(node_id)}]", path)
            except BaselineFileError as error:
                result[node_id] = error
        return result

    def get(self, node_id: str) -> BaselineEntry | None:
        return self.entries.get(node_id)

    def updated(self, updates: Iterable[tuple[str, BaselineEntry]]) -> BaselineFile:
        """A copy where each updated node id has its produced fields replaced (``rounded``); others are untouched."""
        entries = dict(self.entries)
        for node_id, update in updates:
            if update.is_empty:
                continue
            entries[node_id] = entries.get(node_id, BaselineEntry()).merged_with(update.rounded())
        return replace(self, entries=entries, invalid={})

    def dumps(self) -> str:
        document = {
            "schema": SCHEMA,
            "fingerprint": self.fingerprint.as_dict(),
            "entries": {node_id: entry.as_json() for node_id, entry in self.entries.items()},
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    def write_atomic(self) -> None:
        write_text_atomic(self.path, self.dumps())


def backup_path(path: Path) -> Path:
    """Where ``--ttpose-baselines-reset`` keeps the file it replaces: ``<name>.bak`` next to it."""
    return path.with_name(path.name + ".bak")


def baseline_path(directory: Path, fingerprint: Fingerprint) -> Path:
    return directory / fingerprint.file_name
