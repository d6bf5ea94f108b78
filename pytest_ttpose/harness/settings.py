"""Parsing of ttpose option values into typed settings, and the test matrix. Pure: no pytest, no torch.

Every parser raises ``OptionError`` naming the option, the bad value and the accepted values, so that the
plugin can turn it into a usage error without re-wording it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pytest_ttpose.systems import ARCHS, SYSTEMS

# The implementation the session validates when no user model is given (baselines.Fingerprint.model).
BUNDLED_MODEL = "bundled"
# Option defaults and vocabularies: constants, so that the plugin's import and ``--help`` stay cheap.

# The dtypes the TT model accepts (pytest_ttpose.tt.model.SUPPORTED_DTYPES; tests/harness/test_option_dtypes.py keeps
# the two equal: importing the model here would load torch at plugin start).
DTYPES = ("bfloat16", "bfloat8_b")
MODEL_SCALES = ("n", "s", "m", "l", "x")

DEFAULT_DTYPES = "bfloat8_b/bfloat8_b,bfloat16/bfloat16"
DEFAULT_RESOLUTIONS = "640x640,320x320"
DEFAULT_BATCH_SIZES = "1,2"
DEFAULT_MODEL_SCALE = "n"
DEFAULT_BASELINE_DIR = "baselines"
# The YOLO11 head has stride 32: any other input size leaves a partial cell.
RESOLUTION_MULTIPLE = 32


class OptionError(ValueError):
    """A bad option value; the message names the option, the value and what is accepted."""

    def __init__(self, option: str, value: object, problem: str, accepted: str) -> None:
        self.option = option
        self.value = value
        self.problem = problem
        self.accepted = accepted
        super().__init__(f"{option}={value!s}: {problem}. Accepted: {accepted}.")


@dataclass(frozen=True, order=True)
class MeshShape:
    rows: int
    cols: int

    @property
    def size(self) -> int:
        return self.rows * self.cols

    def __str__(self) -> str:
        return f"{self.rows}x{self.cols}"


@dataclass(frozen=True, order=True)
class DtypePair:
    act: str
    weight: str

    def __str__(self) -> str:
        return f"{self.act}/{self.weight}"


@dataclass(frozen=True, order=True)
class MatrixPoint:
    """One configuration of the model under test; its ``id`` is the pytest parameter id."""

    scale: str
    height: int
    width: int
    batch_size: int
    act_dtype: str
    weight_dtype: str

    @property
    def resolution(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def id(self) -> str:
        return f"{self.scale}-{self.height}x{self.width}-b{self.batch_size}-{self.act_dtype}-{self.weight_dtype}"

    def as_dict(self) -> dict[str, object]:
        return {
            "scale": self.scale,
            "resolution": [self.height, self.width],
            "batch_size": self.batch_size,
            "act_dtype": self.act_dtype,
            "weight_dtype": self.weight_dtype,
        }


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def parse_mesh_shape(option: str, text: str) -> MeshShape:
    """``RxC`` (rows x columns) or ``N`` (a 1xN row)."""
    accepted = "ROWSxCOLS such as 1x2 or 2x4, or a device count N meaning 1xN"
    parts = text.strip().lower().split("x")
    if len(parts) == 1:
        parts = ["1", parts[0]]
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise OptionError(option, text, "malformed mesh shape", accepted)
    rows, cols = (int(part) for part in parts)
    if rows < 1 or cols < 1:
        raise OptionError(option, text, "mesh dimensions must be at least 1", accepted)
    return MeshShape(rows, cols)


def parse_dtype(option: str, text: str) -> str:
    name = text.strip().lower()
    if name.startswith("ttnn."):
        name = name[len("ttnn.") :]
    if name not in DTYPES:
        raise OptionError(option, text, "not a dtype the YOLO11-pose TT model supports", ", ".join(DTYPES))
    return name


def parse_dtype_pairs(option: str, text: str) -> tuple[DtypePair, ...]:
    """Comma-separated ``ACT/WEIGHT`` pairs; a single dtype means the same for both."""
    pairs: list[DtypePair] = []
    for item in _items(text):
        halves = item.split("/")
        if len(halves) > 2:
            raise OptionError(option, text, f"{item!r} is not ACT/WEIGHT", "ACT/WEIGHT pairs of " + ", ".join(DTYPES))
        act = parse_dtype(option, halves[0])
        weight = parse_dtype(option, halves[-1])
        pairs.append(DtypePair(act, weight))
    if not pairs:
        raise OptionError(option, text, "no dtype pair given", "ACT/WEIGHT pairs such as bfloat8_b/bfloat8_b")
    return tuple(dict.fromkeys(pairs))


def parse_resolutions(option: str, text: str) -> tuple[tuple[int, int], ...]:
    """Comma-separated ``HxW`` (or ``S`` for a square), each a positive multiple of 32."""
    accepted = f"HEIGHTxWIDTH or SIZE, positive multiples of {RESOLUTION_MULTIPLE}, such as 640x640,320x320"
    resolutions: list[tuple[int, int]] = []
    for item in _items(text):
        parts = item.lower().split("x")
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2 or not all(part.isdigit() for part in parts):
            raise OptionError(option, text, f"malformed resolution {item!r}", accepted)
        height, width = (int(part) for part in parts)
        if height <= 0 or width <= 0 or height % RESOLUTION_MULTIPLE or width % RESOLUTION_MULTIPLE:
            raise OptionError(option, text, f"resolution {item!r} is not a positive multiple of 32", accepted)
        resolutions.append((height, width))
    if not resolutions:
        raise OptionError(option, text, "no resolution given", accepted)
    return tuple(dict.fromkeys(resolutions))


def parse_batch_sizes(option: str, text: str) -> tuple[int, ...]:
    accepted = "comma-separated positive integers such as 1,2"
    sizes: list[int] = []
    for item in _items(text):
        if not item.isdigit() or int(item) < 1:
            raise OptionError(option, text, f"bad batch size {item!r}", accepted)
        sizes.append(int(item))
    if not sizes:
        raise OptionError(option, text, "no batch size given", accepted)
    return tuple(dict.fromkeys(sizes))


def parse_model_scale(option: str, text: str) -> str:
    scale = text.strip().lower()
    if scale.startswith("yolo11") and scale.endswith("-pose"):
        scale = scale[len("yolo11") : -len("-pose")]
    if scale not in MODEL_SCALES:
        raise OptionError(option, text, "unknown model scale", ", ".join(MODEL_SCALES) + " (or yolo11n-pose etc.)")
    return scale


def parse_tolerance(option: str, text: str) -> float:
    accepted = "a fraction in [0, 1), such as 0.002"
    try:
        value = float(text)
    except ValueError:
        raise OptionError(option, text, "not a number", accepted) from None
    if not 0.0 <= value < 1.0:
        raise OptionError(option, text, "out of range", accepted)
    return value


def parse_device_id(option: str, text: str) -> int:
    if not text.strip().isdigit():
        raise OptionError(option, text, "not a device id", "a non-negative integer such as 0")
    return int(text)


def parse_arch(option: str, text: str) -> str:
    name = text.strip().lower()
    if name not in SYSTEMS and name not in ARCHS:
        raise OptionError(option, text, "unknown system or arch", ", ".join([*SYSTEMS, *ARCHS]))
    return name


def build_matrix(
    scale: str,
    dtype_pairs: Iterable[DtypePair],
    resolutions: Iterable[tuple[int, int]],
    batch_sizes: Iterable[int],
) -> tuple[MatrixPoint, ...]:
    """Dtype pairs x resolutions x batch sizes for one scale, in that nesting order (dtype pairs outermost)."""
    return tuple(
        MatrixPoint(scale, height, width, batch, pair.act, pair.weight)
        for pair, (height, width), batch in itertools.product(dtype_pairs, resolutions, batch_sizes)
    )


@dataclass(frozen=True)
class Settings:
    """Everything the ttpose options and ini keys decide, resolved for this process."""

    backend: str
    requested_backend: str
    arch: str | None
    device_id: int
    device_id_explicit: bool
    mesh_shape: MeshShape
    mesh_shape_explicit: bool
    device_count: int
    dtype_pairs: tuple[DtypePair, ...]
    resolutions: tuple[tuple[int, int], ...]
    batch_sizes: tuple[int, ...]
    model_scale: str
    weights: Path | None
    trust_weights: bool
    baseline_dir: Path
    update_baselines: bool
    pcc_tolerance: float
    perf_tolerance: float
    report_path: Path | None
    xdist_workers: int = 0
    regen_args: tuple[str, ...] = field(default=())
    # --ttpose-baselines-reset: an update may drop an unusable file or invalid entries (the old file kept as .bak).
    baselines_reset: bool = False
    # The implementation validated: "bundled", or the MODULE:NAME (hook:PLUGIN) of the user's model.
    model: str = BUNDLED_MODEL
    # What `import ttnn` gives user code (pytest_ttpose.harness.ttnn_import).
    import_ttnn: str = "backend"

    @property
    def matrix(self) -> tuple[MatrixPoint, ...]:
        return build_matrix(self.model_scale, self.dtype_pairs, self.resolutions, self.batch_sizes)

    def describe_matrix(self) -> str:
        dtypes = ",".join(str(pair) for pair in self.dtype_pairs)
        resolutions = ",".join(f"{h}x{w}" for h, w in self.resolutions)
        batches = ",".join(str(b) for b in self.batch_sizes)
        return (
            f"model {self.model_scale} x dtypes {dtypes} x resolutions {resolutions} x batch {batches} "
            f"= {len(self.matrix)} points"
        )


__all__ = [
    "ARCHS",
    "DEFAULT_BASELINE_DIR",
    "DEFAULT_BATCH_SIZES",
    "DEFAULT_DTYPES",
    "DEFAULT_MODEL_SCALE",
    "DEFAULT_RESOLUTIONS",
    "DTYPES",
    "DtypePair",
    "MODEL_SCALES",
    "MatrixPoint",
    "MeshShape",
    "OptionError",
    "RESOLUTION_MULTIPLE",
    "SYSTEMS",
    "Settings",
    "build_matrix",
    "parse_arch",
    "parse_batch_sizes",
    "parse_device_id",
    "parse_dtype",
    "parse_dtype_pairs",
    "parse_mesh_shape",
    "parse_model_scale",
    "parse_resolutions",
    "parse_tolerance",
]
