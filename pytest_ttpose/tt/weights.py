"""Weight preprocessing: BatchNorm folded into every conv of the reference model, cached on disk.

The TT model needs, per convolution, one float32 weight (Cout, Cin/groups, k, k) and one bias (Cout,). They are derived
once per (scale, weights content, weight dtype) and stored under the cache directory (``TTPOSE_CACHE_DIR``, default
``~/.cache/pytest-ttpose``) as a plain tensor dict that loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

CACHE_ENV = "TTPOSE_CACHE_DIR"
CACHE_FORMAT_VERSION = 1  # bump when the content of a cache file changes meaning


@dataclass(frozen=True)
class FoldedConv:
    """A convolution with its BatchNorm folded in: ``weight`` (Cout, Cin/groups, k, k) and ``bias`` (Cout,), float32."""

    weight: torch.Tensor
    bias: torch.Tensor


def default_cache_dir() -> Path:
    """``$TTPOSE_CACHE_DIR`` or ``~/.cache/pytest-ttpose``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "pytest-ttpose"


def state_dict_sha256(model: nn.Module) -> str:
    """sha256 over every state-dict tensor (name, dtype, shape and bytes, in key order)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(value.dtype).encode())
        digest.update(str(tuple(value.shape)).encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def scale_name(model: nn.Module) -> str:
    """The model's scale letter: the reference's ``scale`` attribute, or Ultralytics' ``yaml['scale']``."""
    scale = getattr(model, "scale", None)
    if scale is None:
        scale = getattr(model, "yaml", {}).get("scale")
    if not isinstance(scale, str):
        raise ValueError(
            "cannot tell the model's scale: pass a model built by pytest_ttpose.reference.build_reference "
            "(it has a 'scale' attribute)"
        )
    return scale


def _is_conv_block(module: nn.Module) -> bool:
    """An Ultralytics-style Conv block: ``conv`` (nn.Conv2d), ``bn`` (BatchNorm2d, or Identity once fused), ``act``."""
    return isinstance(getattr(module, "conv", None), nn.Conv2d) and hasattr(module, "bn") and hasattr(module, "act")


def _fold(block: nn.Module) -> FoldedConv:
    conv: nn.Conv2d = block.conv  # type: ignore[assignment]
    weight = conv.weight.detach().float()
    bias = conv.bias.detach().float() if conv.bias is not None else torch.zeros(conv.out_channels)
    bn = block.bn
    if isinstance(bn, nn.BatchNorm2d):
        assert bn.running_var is not None and bn.running_mean is not None
        scale = bn.weight.detach().float() / torch.sqrt(bn.running_var.float() + bn.eps)
        weight = weight * scale.view(-1, 1, 1, 1)
        bias = bn.bias.detach().float() + (bias - bn.running_mean.float()) * scale
    return FoldedConv(weight.clone().contiguous(), bias.clone().contiguous())


def fold_model(model: nn.Module) -> dict[str, FoldedConv]:
    """Every convolution of the model by module path (``model.2.m.0.cv1``, ``model.23.cv2.0.2``...), BN folded.

    Conv blocks are folded with their BatchNorm; bare ``nn.Conv2d`` layers (the head's last 1x1 convs) are taken as they
    are. The DFL's fixed ``arange`` conv is not a learned weight and is left out (the TT head builds it itself).
    """
    folded: dict[str, FoldedConv] = {}
    inside_blocks: set[str] = set()
    with torch.no_grad():
        for name, module in model.named_modules():
            if _is_conv_block(module):
                folded[name] = _fold(module)
                inside_blocks.add(f"{name}.conv")
            elif isinstance(module, nn.Conv2d) and name not in inside_blocks and not name.endswith("dfl.conv"):
                bias = module.bias.detach().float() if module.bias is not None else torch.zeros(module.out_channels)
                folded[name] = FoldedConv(module.weight.detach().float().clone(), bias.clone())
    if not folded:
        raise ValueError("the model has no convolutions to fold; expected a YOLO11-pose reference model")
    return folded


def _dtype_label(weight_dtype: object) -> str:
    """``bfloat8_b`` for ``DataType.BFLOAT8_B`` (real ttnn) or a ttnn-shaped dtype object with a name."""
    text = str(getattr(weight_dtype, "name", weight_dtype))
    return text.rsplit(".", 1)[-1].lower()


def cache_path(cache_dir: Path, scale: str, content_hash: str, weight_dtype: object) -> Path:
    return (
        cache_dir
        / f"yolo11{scale}-pose-folded-v{CACHE_FORMAT_VERSION}-{content_hash[:20]}-{_dtype_label(weight_dtype)}.pt"
    )


def _atomic_save(tensors: dict[str, torch.Tensor], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        torch.save(tensors, temp_name)
        os.replace(temp_name, path)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


@dataclass(frozen=True)
class PreparedWeights:
    """The folded convolutions of one model, and where they came from."""

    convs: dict[str, FoldedConv]
    scale: str
    content_hash: str
    cache_file: Path | None
    from_cache: bool


def prepare_weights(model: nn.Module, weight_dtype: object, cache_dir: Path | str | None = None) -> PreparedWeights:
    """Folded convolutions of ``model``, from the disk cache when this (scale, weights, dtype) was prepared before.

    ``cache_dir=None`` uses :func:`default_cache_dir`. A cache file that cannot be read is rebuilt and replaced.
    """
    scale = scale_name(model)
    content_hash = state_dict_sha256(model)
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = cache_path(directory, scale, content_hash, weight_dtype)
    if path.is_file():
        try:
            stored = torch.load(path, map_location="cpu", weights_only=True)
            convs = {
                key[: -len(".weight")]: FoldedConv(stored[key], stored[key[: -len(".weight")] + ".bias"])
                for key in stored
                if key.endswith(".weight")
            }
            return PreparedWeights(convs, scale, content_hash, path, from_cache=True)
        except (OSError, RuntimeError, KeyError, EOFError, pickle.UnpicklingError):
            pass  # unreadable or partial: rebuild below and overwrite it
    convs = fold_model(model)
    flat: dict[str, torch.Tensor] = {}
    for name, conv in convs.items():
        flat[f"{name}.weight"] = conv.weight
        flat[f"{name}.bias"] = conv.bias
    _atomic_save(flat, path)
    return PreparedWeights(convs, scale, content_hash, path, from_cache=False)


__all__ = [
    "CACHE_ENV",
    "FoldedConv",
    "PreparedWeights",
    "cache_path",
    "default_cache_dir",
    "fold_model",
    "prepare_weights",
    "scale_name",
    "state_dict_sha256",
]
