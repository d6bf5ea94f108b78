"""Accuracy metrics: PCC with tt-metal's semantics, per output component, and (re-exported) pose OKS matching.

:func:`comp_pcc` follows ``comp_pcc`` of tt-metal (``models/common/utility_functions.py``): both all-NaN -> 1.0, one
all-NaN -> 0.0, one all-zero and the other not -> 0.0, NaN and +-inf replaced by 0 in each tensor, equal -> 1.0,
otherwise the Pearson correlation of the flattened tensors in float64.
One deliberate difference: where tt-metal returns 1.0 because the correlation is undefined (a constant tensor), this
returns 1.0 only when the two tensors are close (``np.allclose``), else 0.0, so a constant wrong output fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from pytest_ttpose.postprocess import OKS_SIGMAS, PoseMatch, PoseMatching, match_poses, oks_matrix

if TYPE_CHECKING:
    import torch

__all__ = [
    "OKS_SIGMAS",
    "OUTPUT_COMPONENTS",
    "PoseMatch",
    "PoseMatching",
    "RAW_COMPONENTS",
    "comp_pcc",
    "component_pcc",
    "match_poses",
    "oks_matrix",
    "raw_component_pcc",
]

NUM_KEYPOINTS = 17
OUTPUT_CHANNELS = 5 + 3 * NUM_KEYPOINTS  # 56
_KPT_X = [5 + 3 * k for k in range(NUM_KEYPOINTS)]
_KPT_Y = [6 + 3 * k for k in range(NUM_KEYPOINTS)]
# Channel lists of the (B, 56, A) output, in the order of DESIGN.md.
OUTPUT_COMPONENTS: dict[str, list[int]] = {
    "all": list(range(OUTPUT_CHANNELS)),
    "box": [0, 1, 2, 3],
    "score": [4],
    "kpt_xy": sorted(_KPT_X + _KPT_Y),
    "kpt_vis": [7 + 3 * k for k in range(NUM_KEYPOINTS)],
}
# Components of the raw head dict: boxes (B, 64, A), scores (B, 1, A), kpts (B, 51, A) split into xy and visibility.
RAW_COMPONENTS: tuple[str, ...] = ("boxes", "scores", "kpts", "kpt_xy", "kpt_vis")


def _to_float64(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # torch.Tensor, including bfloat16 which numpy cannot hold
        value = value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


def comp_pcc(golden: torch.Tensor | np.ndarray, calculated: torch.Tensor | np.ndarray) -> float:
    """Pearson correlation of two same-shaped tensors with tt-metal's edge-case rules (see the module doc)."""
    if hasattr(golden, "dtype") and hasattr(calculated, "to") and hasattr(golden, "detach"):
        calculated = calculated.to(golden.dtype)  # type: ignore[union-attr]  # tt-metal rounds to the golden dtype
    g = _to_float64(golden)
    c = _to_float64(calculated)
    if g.shape != c.shape:
        raise ValueError(f"PCC needs equal shapes: golden {g.shape}, calculated {c.shape}")
    g_nan, c_nan = np.isnan(g), np.isnan(c)
    if g_nan.all() and c_nan.all():
        return 1.0
    if g_nan.all() or c_nan.all():
        return 0.0
    if bool(np.any(g != 0)) != bool(np.any(c != 0)):  # NaN != 0, as torch.any(x.bool()) counts it
        return 0.0
    # tt-metal replaces NaN and +-inf by 0 in each tensor (not pairwise) and correlates the rest.
    g = np.where(np.isfinite(g), g, 0.0).ravel()
    c = np.where(np.isfinite(c), c, 0.0).ravel()
    if np.array_equal(g, c):
        return 1.0
    gd, cd = g - g.mean(), c - c.mean()
    denominator = np.sqrt(np.dot(gd, gd) * np.dot(cd, cd))
    if g.size < 2 or denominator == 0 or not np.isfinite(denominator):
        return 1.0 if np.allclose(g, c) else 0.0
    return float(np.clip(np.dot(gd, cd) / denominator, -1.0, 1.0))


def component_pcc(golden: torch.Tensor | np.ndarray, calculated: torch.Tensor | np.ndarray) -> dict[str, float]:
    """PCC of a (B, 56, A) output per component: ``all``, ``box``, ``score``, ``kpt_xy``, ``kpt_vis``."""
    g = _to_float64(golden)
    c = _to_float64(calculated)
    if g.shape != c.shape:
        raise ValueError(f"PCC needs equal shapes: golden {g.shape}, calculated {c.shape}")
    if g.ndim != 3 or g.shape[1] != OUTPUT_CHANNELS:
        raise ValueError(f"expected a (B, {OUTPUT_CHANNELS}, A) pose output, got {g.shape}")
    return {name: comp_pcc(g[:, channels], c[:, channels]) for name, channels in OUTPUT_COMPONENTS.items()}


def raw_component_pcc(
    golden: Mapping[str, torch.Tensor | np.ndarray], calculated: Mapping[str, torch.Tensor | np.ndarray]
) -> dict[str, float]:
    """PCC of the raw head tensors ``boxes``, ``scores``, ``kpts``, and of the kpts split into xy and visibility."""
    result: dict[str, float] = {}
    for key in ("boxes", "scores", "kpts"):
        if key not in golden or key not in calculated:
            raise ValueError(
                f"raw outputs need the key {key!r}: golden has {sorted(golden)}, calculated {sorted(calculated)}"
            )
        g = _to_float64(golden[key])
        c = _to_float64(calculated[key])
        if g.shape != c.shape:
            raise ValueError(f"PCC of raw {key!r} needs equal shapes: golden {g.shape}, calculated {c.shape}")
        result[key] = comp_pcc(g, c)
        if key == "kpts":
            xy = [ch for k in range(NUM_KEYPOINTS) for ch in (3 * k, 3 * k + 1)]
            vis = [3 * k + 2 for k in range(NUM_KEYPOINTS)]
            result["kpt_xy"] = comp_pcc(g[:, xy], c[:, xy])
            result["kpt_vis"] = comp_pcc(g[:, vis], c[:, vis])
    return result
