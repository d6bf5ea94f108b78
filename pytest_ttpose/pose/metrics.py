"""Accuracy metrics: PCC with tt-metal's semantics, per output component, and COCO OKS matching of two pose sets.

:func:`comp_pcc` follows ``comp_pcc`` of tt-metal (``models/common/utility_functions.py``): one all-NaN -> 0.0, one
all-zero and the other not -> 0.0, NaN and +-inf replaced by 0 in each tensor, equal -> 1.0, otherwise the Pearson
correlation of the flattened tensors in float64.
Two deliberate differences, both so that a broken output never passes:

- tt-metal returns 1.0 when *both* tensors are all NaN; this returns 0.0. Two all-NaN outputs are two broken outputs
  (all-NaN weights give exactly that), not a match.
- where tt-metal returns 1.0 because the correlation is undefined (a constant tensor), this returns 1.0 only when the
  two tensors are close (``np.allclose``), else 0.0, so a constant wrong output fails.

Because tt-metal's rule replaces NaN and inf by 0 before correlating, a few non-finite values barely move the PCC;
:func:`nonfinite_counts` counts them per component so that the harness can fail them on their own
(``pytest_ttpose.pose.acceptance.nonfinite_findings``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pytest_ttpose.pose.acceptance import Component
from pytest_ttpose.pose.processing import PoseDetections

if TYPE_CHECKING:
    import torch

# COCO keypoint sigmas (Ultralytics OKS_SIGMA): nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles.
OKS_SIGMAS = (
    np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89])
    / 10.0
)
# Ultralytics' validator turns a ground-truth box into an object area as w * h * 0.53 (COCO uses the segment area).
BOX_AREA_FACTOR = 0.53
_EPS = 1e-7

__all__ = [
    "OKS_SIGMAS",
    "OUTPUT_COMPONENTS",
    "PoseMatch",
    "PoseMatching",
    "RAW_COMPONENTS",
    "comp_pcc",
    "component_pcc",
    "match_poses",
    "nonfinite_counts",
    "oks_matrix",
    "raw_component_pcc",
]

NUM_KEYPOINTS = 17
OUTPUT_CHANNELS = 5 + 3 * NUM_KEYPOINTS  # 56
_KPT_X = [5 + 3 * k for k in range(NUM_KEYPOINTS)]
_KPT_Y = [6 + 3 * k for k in range(NUM_KEYPOINTS)]
# Channel lists of the (B, 56, A) output per checked component (channel layout: docs/ARCHITECTURE.md).
OUTPUT_COMPONENTS: dict[Component, list[int]] = {
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
        calculated = calculated.to(golden.dtype)  # tt-metal rounds to the golden dtype
    g = _to_float64(golden)
    c = _to_float64(calculated)
    if g.shape != c.shape:
        raise ValueError(f"PCC needs equal shapes: golden {g.shape}, calculated {c.shape}")
    if np.isnan(g).all() or np.isnan(c).all():  # tt-metal: 1.0 when both are; see the module doc
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


def nonfinite_counts(output: torch.Tensor | np.ndarray) -> dict[Component, int]:
    """How many NaN or +-inf values each component of a (B, 56, A) output holds; any other shape counts as ``all``."""
    values = _to_float64(output)
    bad = ~np.isfinite(values)
    if values.ndim != 3 or values.shape[1] != OUTPUT_CHANNELS:
        return {"all": int(bad.sum())}
    return {name: int(bad[:, channels].sum()) for name, channels in OUTPUT_COMPONENTS.items()}


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


# --------------------------------------------------------------------------------------------------------------- OKS
def oks_matrix(reference: PoseDetections, candidate: PoseDetections, min_visibility: float = 0.0) -> np.ndarray:
    """(N_ref, N_cand) COCO OKS, with the reference playing the ground truth.

    ``OKS = sum_i exp(-d_i^2 / (2 * s^2 * (2 sigma_i)^2)) / n`` over the reference keypoints whose visibility is above
    ``min_visibility`` (COCO counts labelled points, v > 0; the default counts every predicted point since a sigmoid is
    > 0). The object area ``s^2`` is the reference box's w * h * 0.53, the rule of Ultralytics' pose validator (no
    segment masks exist here). A reference person with no keypoint above ``min_visibility`` is scored on all 17.
    """
    n_ref, n_cand = len(reference), len(candidate)
    if n_ref == 0 or n_cand == 0:
        return np.zeros((n_ref, n_cand), np.float64)
    ref_xy = reference.keypoints[:, None, :, :2].astype(np.float64)
    cand_xy = candidate.keypoints[None, :, :, :2].astype(np.float64)
    d2 = ((ref_xy - cand_xy) ** 2).sum(-1)  # (N_ref, N_cand, 17)
    wh = (reference.boxes[:, 2:4] - reference.boxes[:, 0:2]).astype(np.float64)
    area = wh[:, 0] * wh[:, 1] * BOX_AREA_FACTOR
    e = d2 / ((2 * OKS_SIGMAS) ** 2 * (area[:, None, None] + _EPS) * 2)
    counted = reference.keypoints[:, :, 2] > min_visibility  # (N_ref, 17)
    counted[~counted.any(1)] = True
    mask = counted[:, None, :].astype(np.float64)
    return (np.exp(-e) * mask).sum(-1) / (mask.sum(-1) + _EPS)


@dataclass
class PoseMatch:
    reference_index: int
    candidate_index: int
    oks: float


@dataclass
class PoseMatching:
    """Greedy one-to-one matching of candidate persons to reference persons by OKS.

    ``mean_oks`` averages the matched pairs; it is 1.0 when both sets are empty and 0.0 when nothing matched but
    some person exists. Unmatched persons on either side show up in the counts, not in the mean.
    """

    pairs: list[PoseMatch]
    unmatched_reference: list[int]
    unmatched_candidate: list[int]

    @property
    def mean_oks(self) -> float:
        if self.pairs:
            return float(np.mean([p.oks for p in self.pairs]))
        return 1.0 if not self.unmatched_reference and not self.unmatched_candidate else 0.0

    @property
    def min_oks(self) -> float:
        return min((p.oks for p in self.pairs), default=self.mean_oks)

    @property
    def unmatched_reference_count(self) -> int:
        return len(self.unmatched_reference)

    @property
    def unmatched_candidate_count(self) -> int:
        return len(self.unmatched_candidate)

    def oks_of_reference(self, index: int) -> float | None:
        return next((p.oks for p in self.pairs if p.reference_index == index), None)

    def oks_of_candidate(self, index: int) -> float | None:
        return next((p.oks for p in self.pairs if p.candidate_index == index), None)


def match_poses(
    reference: PoseDetections, candidate: PoseDetections, min_oks: float = 0.1, min_visibility: float = 0.0
) -> PoseMatching:
    """Greedy matching: reference persons in descending score order each take the free candidate of highest OKS.

    A pair needs OKS >= ``min_oks`` (a weak floor so that unrelated persons stay unmatched rather than paired).
    """
    oks = oks_matrix(reference, candidate, min_visibility)
    taken: set[int] = set()
    pairs: list[PoseMatch] = []
    unmatched_reference: list[int] = []
    for r in np.argsort(-reference.scores, kind="stable"):
        best, best_oks = -1, -1.0
        for c in range(len(candidate)):
            if c not in taken and oks[r, c] > best_oks:
                best, best_oks = c, float(oks[r, c])
        if best >= 0 and best_oks >= min_oks:
            taken.add(best)
            pairs.append(PoseMatch(int(r), best, best_oks))
        else:
            unmatched_reference.append(int(r))
    unmatched_candidate = [c for c in range(len(candidate)) if c not in taken]
    return PoseMatching(pairs, sorted(unmatched_reference), unmatched_candidate)
