"""Resolve the ttpose options and ini keys into ``Settings`` and a backend (CLI, then ini, then default).

Every bad value becomes a ``pytest.UsageError`` that names the option and what it accepts. Asking for hardware
that is absent is an error, never a silent fallback.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_ttpose.harness import settings as s
from pytest_ttpose.harness.backends import (
    Backend,
    BackendFactory,
    BackendOptionError,
    BackendRequest,
    BackendUnavailable,
    resolve_backend_name,
)
from pytest_ttpose.harness.options import OPTIONS, OptionSpec, spec_for
from pytest_ttpose.harness.ttnn_import import TTNN_IMPORTS
from pytest_ttpose.pose.acceptance import DEFAULT_PCC_TOLERANCE

# Options that select what is measured and where: repeated in the regeneration command of a failure message.
_REGEN_EXCLUDED = {"--ttpose-update-baselines", "--ttpose-baselines-reset", "--ttpose-report"}


def _raw(config: pytest.Config, spec: OptionSpec) -> tuple[str | None, Path]:
    """The option's text and the folder relative paths are resolved against (CLI: cwd, ini: the ini's folder)."""
    cli = config.getoption(spec.dest)
    if cli is not None:
        return str(cli), config.invocation_params.dir
    if spec.ini:
        ini_value = str(config.getini(spec.dest)).strip()
        if ini_value:
            base = config.inipath.parent if config.inipath is not None else config.rootpath
            return ini_value, base
    return spec.default, config.invocation_params.dir


def _parsed(config: pytest.Config, flag: str, parse: Callable[[str, str], Any]) -> Any:
    text, _ = _raw(config, spec_for(flag))
    return None if text is None else parse(flag, text)


def _path(config: pytest.Config, flag: str) -> Path | None:
    text, base = _raw(config, spec_for(flag))
    return None if text is None else (base / Path(text).expanduser())


def regen_args(config: pytest.Config) -> tuple[str, ...]:
    """The ttpose options of this invocation (except update/report), to repeat in a regeneration command."""
    args = [str(arg) for arg in config.invocation_params.args]
    kept: list[str] = []
    flags = {spec.flag: spec for spec in OPTIONS}
    index = 0
    while index < len(args):
        arg = args[index]
        name = arg.split("=", 1)[0]
        spec = flags.get(name)
        if spec is not None:
            takes_value = not spec.is_flag and "=" not in arg and index + 1 < len(args)
            if name not in _REGEN_EXCLUDED:
                kept.append(f"{arg}={args[index + 1]}" if takes_value else arg)
            index += 2 if takes_value else 1
            continue
        index += 1
    return tuple(kept)


def regen_command(node_id: str, args: tuple[str, ...]) -> str:
    return shlex.join(["pytest", node_id, "--ttpose-update-baselines", *args])


def xdist_worker_index(config: pytest.Config) -> int | None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    return int(str(workerinput["workerid"]).removeprefix("gw"))


def xdist_worker_count(config: pytest.Config) -> int:
    """Workers this run distributes over (0 when not distributed); valid on the controller and on workers."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return int(workerinput.get("workercount", 1))
    if config.getoption("dist", "no") == "no":
        return 0
    return int(config.getoption("numprocesses", 0) or 0)


def _usage(message: str) -> pytest.UsageError:
    return pytest.UsageError(message)


def resolve(config: pytest.Config, backends: Mapping[str, BackendFactory]) -> tuple[s.Settings, Backend]:
    """Parse every ttpose option into ``Settings`` and build the backend; bad values raise ``pytest.UsageError``."""
    try:
        return _resolve(config, backends)
    except s.OptionError as error:
        raise _usage(str(error)) from None


def _resolve(config: pytest.Config, backends: Mapping[str, BackendFactory]) -> tuple[s.Settings, Backend]:
    requested, _ = _raw(config, spec_for("--ttpose-backend"))
    requested = (requested or "auto").strip().lower()
    accepted = ", ".join(["auto", *backends])
    if requested != "auto" and requested not in backends:
        raise s.OptionError("--ttpose-backend", requested, "unknown backend", accepted)
    name = resolve_backend_name(requested)
    arch = _parsed(config, "--ttpose-arch", s.parse_arch)
    explicit_mesh: s.MeshShape | None = _parsed(config, "--ttpose-mesh-shape", s.parse_mesh_shape)
    worker = xdist_worker_index(config)
    try:
        backend = backends[name](BackendRequest(arch=arch, mesh_shape=explicit_mesh, worker_index=worker))
        count = backend.device_count  # on hardware, ttnn counts here
        topology = backend.topology
    except BackendOptionError as error:
        raise s.OptionError(error.option, error.value, error.problem, error.accepted) from None
    except BackendUnavailable as error:
        raise s.OptionError("--ttpose-backend", requested, str(error), accepted) from None

    problem = None if explicit_mesh is None else topology.why_not(explicit_mesh)
    if problem is not None:
        raise s.OptionError(
            "--ttpose-mesh-shape",
            explicit_mesh,
            f"the {name} backend{f' ({arch})' if arch else ''} cannot open this mesh: {problem}",
            f"a mesh this system opens, such as {topology.openable_examples()}",
        )
    mesh = explicit_mesh if explicit_mesh is not None else topology.system_mesh

    workers = xdist_worker_count(config)
    device_text, _ = _raw(config, spec_for("--ttpose-device"))
    explicit_device = device_text is not None
    device_id = s.parse_device_id("--ttpose-device", device_text) if device_text is not None else 0
    if workers:
        if workers > backend.max_workers:
            raise _usage(
                f"-n {workers}: pytest-xdist worker gwK uses ttpose device K, and the {name} backend has "
                f"{backend.max_workers} device(s) a worker can own; use -n {backend.max_workers} or fewer"
                + (" (or --ttpose-mesh-shape=1xN to emulate N devices)" if name == "emulator" else "")
            )
        if explicit_device:
            raise _usage(
                f"--ttpose-device={device_text} cannot be combined with pytest-xdist (-n {workers}): worker gwK "
                "uses device K; drop one of them"
            )
        device_id = 0 if worker is None else backend.worker_device_id(worker)
    if device_id >= count:
        raise s.OptionError(
            "--ttpose-device",
            device_text,
            f"no such device on the {name} backend ({count} device(s))",
            f"0..{count - 1}",
        )

    update_baselines = bool(config.getoption("ttpose_update_baselines"))
    baselines_reset = bool(config.getoption("ttpose_baselines_reset"))
    if baselines_reset and not update_baselines:
        raise _usage(
            "--ttpose-baselines-reset only applies to an update: add --ttpose-update-baselines (or drop the reset)"
        )
    pcc_tolerance = _parsed(config, "--ttpose-pcc-tolerance", s.parse_tolerance)
    perf_tolerance = _parsed(config, "--ttpose-perf-tolerance", s.parse_tolerance)
    settings = s.Settings(
        backend=name,
        requested_backend=requested,
        arch=arch,
        device_id=device_id,
        device_id_explicit=explicit_device,
        mesh_shape=mesh,
        mesh_shape_explicit=explicit_mesh is not None,
        device_count=count,
        dtype_pairs=_parsed(config, "--ttpose-dtypes", s.parse_dtype_pairs),
        resolutions=_parsed(config, "--ttpose-resolutions", s.parse_resolutions),
        batch_sizes=_parsed(config, "--ttpose-batch-sizes", s.parse_batch_sizes),
        model_scale=_parsed(config, "--ttpose-model", s.parse_model_scale),
        weights=_weights(config),
        trust_weights=bool(config.getoption("ttpose_trust_weights")),
        baseline_dir=_path(config, "--ttpose-baseline-dir") or Path(s.DEFAULT_BASELINE_DIR),
        update_baselines=update_baselines,
        baselines_reset=baselines_reset,
        pcc_tolerance=DEFAULT_PCC_TOLERANCE if pcc_tolerance is None else pcc_tolerance,
        perf_tolerance=backend.default_perf_tolerance if perf_tolerance is None else perf_tolerance,
        report_path=_path(config, "--ttpose-report"),
        xdist_workers=workers,
        regen_args=regen_args(config),
        import_ttnn=_choice(config, "--ttpose-import-ttnn", TTNN_IMPORTS),
    )
    return settings, backend


def _choice(config: pytest.Config, flag: str, choices: tuple[str, ...]) -> str:
    text, _ = _raw(config, spec_for(flag))
    value = (text or "").strip().lower()
    if value not in choices:
        raise s.OptionError(flag, text, "unknown value", ", ".join(choices))
    return value


def _weights(config: pytest.Config) -> Path | None:
    path = _path(config, "--ttpose-weights")
    if path is not None and not path.is_file():
        raise s.OptionError("--ttpose-weights", path, "no such file", "the path of a YOLO11-pose .pt weights file")
    return path


def text_of(config: pytest.Config, flag: str) -> str | None:
    """An option's text (CLI, else ini), stripped; None when not given."""
    text, _ = _raw(config, spec_for(flag))
    return None if text is None or not text.strip() else text.strip()
