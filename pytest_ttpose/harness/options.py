"""The ttpose command-line options and their ini mirrors: the table ``--help`` shows, and nothing heavier.

Resolving the values into ``Settings`` (and usage errors for bad ones) lives in ``pytest_ttpose.harness.configuration``.
"""

from __future__ import annotations

import pytest

from pytest_ttpose.harness import settings as d
from pytest_ttpose.pose.acceptance import DEFAULT_PCC_TOLERANCE


class OptionSpec:
    """One ``--ttpose-*`` option; ``ini`` means an ini key named like ``dest`` mirrors it (project-wide settings)."""

    __slots__ = ("default", "flag", "help", "ini", "is_flag", "metavar")

    def __init__(
        self,
        flag: str,
        help: str,
        *,
        ini: bool,
        default: str | None = None,
        is_flag: bool = False,
        metavar: str | None = None,
    ) -> None:
        self.flag = flag
        self.help = help
        self.ini = ini
        self.default = default
        self.is_flag = is_flag
        self.metavar = metavar

    @property
    def dest(self) -> str:
        return "ttpose_" + self.flag.removeprefix("--ttpose-").replace("-", "_")


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "--ttpose-device",
        "TT device id for single-device cases (default 0; under pytest-xdist worker gwK uses device K).",
        ini=False,
        metavar="ID",
    ),
    OptionSpec(
        "--ttpose-backend",
        "where the model runs: auto (ttnn when a Tenstorrent device is present, else the "
        "CPU emulator), ttnn, emulator, or ttnn-mock (dry run of the real ttnn on a mocked cluster).",
        ini=True,
        default="auto",
        metavar="NAME",
    ),
    OptionSpec(
        "--ttpose-arch",
        "system or arch for emulator and ttnn-mock: n150 (the mock's default), n300, t3k, galaxy, p150, 2xp150, "
        "2xp150-unlinked, 4xp150, 8xp150 (mock and emulator; galaxy emulator only), wormhole_b0, blackhole "
        "(emulator). Real hardware decides its own arch.",
        ini=False,
        metavar="SYSTEM",
    ),
    OptionSpec(
        "--ttpose-mesh-shape",
        "mesh for data-parallel (_dp) cases: ROWSxCOLS or N (=1xN), any shape the system's linked chips can "
        "open. Default: the system's mesh (t3k 2x4; the emulator has 2 devices).",
        ini=False,
        metavar="RxC",
    ),
    OptionSpec(
        "--ttpose-dtypes",
        f"activation/weight dtype pairs of the matrix, comma-separated ACT/WEIGHT (dtypes: {', '.join(d.DTYPES)}).",
        ini=True,
        default=d.DEFAULT_DTYPES,
        metavar="PAIRS",
    ),
    OptionSpec(
        "--ttpose-resolutions",
        "input resolutions of the matrix, comma-separated HxW (multiples of 32).",
        ini=True,
        default=d.DEFAULT_RESOLUTIONS,
        metavar="LIST",
    ),
    OptionSpec(
        "--ttpose-batch-sizes",
        "batch sizes (per device) of the matrix, comma-separated.",
        ini=True,
        default=d.DEFAULT_BATCH_SIZES,
        metavar="LIST",
    ),
    OptionSpec(
        "--ttpose-model",
        f"YOLO11-pose scale: {', '.join(d.MODEL_SCALES)}.",
        ini=True,
        default=d.DEFAULT_MODEL_SCALE,
        metavar="SCALE",
    ),
    OptionSpec(
        "--ttpose-weights",
        "weights file for the reference model (default: the bundled yolo11n-pose "
        "weights for scale n, else a seeded init).",
        ini=True,
        metavar="PATH",
    ),
    OptionSpec(
        "--ttpose-trust-weights",
        "allow a full pickle load of --ttpose-weights (only for files you trust; "
        "without it weights load with torch.load(weights_only=True)).",
        ini=False,
        is_flag=True,
    ),
    OptionSpec(
        "--ttpose-baseline-dir",
        "folder of the baseline JSON files, one per device fingerprint.",
        ini=True,
        default=d.DEFAULT_BASELINE_DIR,
        metavar="DIR",
    ),
    OptionSpec(
        "--ttpose-update-baselines",
        "measure, then rewrite the baseline entries of the tests that ran "
        "(others stay untouched); without it baselines are never written.",
        ini=False,
        is_flag=True,
    ),
    OptionSpec(
        "--ttpose-baselines-reset",
        "with --ttpose-update-baselines: go on even when the baseline file is unusable or has invalid entries, "
        "keeping its valid entries and the old file as <name>.bak (without it such an update refuses).",
        ini=False,
        is_flag=True,
    ),
    OptionSpec(
        "--ttpose-pcc-tolerance",
        f"allowed PCC drop below the baseline (default {DEFAULT_PCC_TOLERANCE}).",
        ini=True,
        metavar="FRACTION",
    ),
    OptionSpec(
        "--ttpose-perf-tolerance",
        "allowed FPS drop below the baseline, as a fraction (default 0.10 on "
        "hardware, 0.01 on the emulator, whose FPS is modelled and deterministic).",
        ini=True,
        metavar="FRACTION",
    ),
    OptionSpec("--ttpose-report", "write the summary table as JSON to PATH.", ini=True, metavar="PATH"),
    OptionSpec(
        "--ttpose-runner",
        "validate your own runner instead of the bundled model: MODULE:CLASS of a class with the performant "
        "runner's API (constructor (device, device_batch_size, act_dtype, weight_dtype, resolution, ...), "
        "run(torch_input_tensor), release()).",
        ini=True,
        metavar="MODULE:CLASS",
    ),
    OptionSpec(
        "--ttpose-tt-model",
        "validate your own TT model, driven by the harness's infra and traced 2-CQ runner: MODULE:FACTORY, "
        "FACTORY(device, reference_model, act_dtype, weight_dtype, resolution, batch_size) -> model.",
        ini=True,
        metavar="MODULE:FACTORY",
    ),
    OptionSpec(
        "--ttpose-output",
        "read your model's output with MODULE:FUNC, FUNC(output, ttnn, mesh_composer) -> torch (B, 56, A), "
        "when the default adapter cannot ((B, 56, A), (B, A, 56), (B, 1, ...) of those, tile-padded).",
        ini=True,
        metavar="MODULE:FUNC",
    ),
    OptionSpec(
        "--ttpose-import-ttnn",
        "what `import ttnn` in your code gives: backend (the session's: the emulator under "
        "--ttpose-backend=emulator, the dry run's namespace under ttnn-mock, else the installed package) or "
        "installed (always the installed package as is).",
        ini=True,
        default="backend",
        metavar="WHICH",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("ttpose", "pytest-ttpose: YOLO11-pose on Tenstorrent devices")
    for spec in OPTIONS:
        text = spec.help if spec.default is None else f"{spec.help} Default: {spec.default}."
        if spec.ini:
            text += f" Ini key: {spec.dest} (the option wins)."
        if spec.is_flag:
            group.addoption(spec.flag, action="store_true", default=False, dest=spec.dest, help=text)
        else:
            group.addoption(spec.flag, action="store", default=None, dest=spec.dest, metavar=spec.metavar, help=text)
        if spec.ini:
            parser.addini(spec.dest, help=f"default for {spec.flag}: {spec.help}", type="string", default="")


def spec_for(flag: str) -> OptionSpec:
    return next(spec for spec in OPTIONS if spec.flag == flag)
