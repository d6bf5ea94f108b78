"""What counts as a pass: the output components, the PCC floors per dtype, the tolerances, and the comparison rule.

This is the one home of those rules. The harness checks cases with them, the runners validate their capture runs with
them, and the baseline store only stores numbers. Pure: no numpy, torch, pytest or ttnn, so the plugin imports it
cheaply. See docs/ARCHITECTURE.md ("One home per rule").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

# The components of the decoded (B, 56, A) pose output whose PCC is checked (channel lists in pose.metrics).
Component = Literal["all", "box", "score", "kpt_xy", "kpt_vis"]
COMPONENTS: tuple[Component, ...] = get_args(Component)

# The absolute PCC floor of a case, per dtype: the looser of its activation and weight dtype applies. These catch a
# broken model; the baseline (minus the PCC tolerance) catches a regression of a working one. bfloat16 0.99 is
# tt-metal's bar for its YOLO11 demos; bfloat8_b 0.97 leaves room for its 7-bit shared-exponent mantissas.
PCC_FLOORS: Mapping[str, float] = {"bfloat16": 0.99, "bfloat8_b": 0.97}
# Allowed PCC drop below a stored baseline (--ttpose-pcc-tolerance overrides it).
DEFAULT_PCC_TOLERANCE = 0.002
# Allowed fraction of FPS below a stored baseline, per kind of clock (--ttpose-perf-tolerance overrides it). Hardware
# FPS varies by a few percent run to run. The emulator's FPS is modelled (pytest_ttpose.devperf), not timed: the same
# to the last digit on any machine, so a tight bar catches a real regression (a higher fidelity, an extra DRAM round
# trip, fewer cores).
HARDWARE_PERF_TOLERANCE = 0.10
EMULATOR_PERF_TOLERANCE = 0.01


def pcc_floor(act_dtype: str, weight_dtype: str) -> float:
    """The absolute PCC floor of a case run with these dtypes (names as ttnn spells them, e.g. ``bfloat8_b``)."""
    for dtype in (act_dtype, weight_dtype):
        if dtype not in PCC_FLOORS:
            raise ValueError(f"no PCC floor for dtype {dtype!r}; known: {', '.join(PCC_FLOORS)}")
    return min(PCC_FLOORS[act_dtype], PCC_FLOORS[weight_dtype])


FindingReason = Literal["threshold", "baseline"]


@dataclass(frozen=True)
class PccFinding:
    """One component that failed: below its absolute floor, or below its baseline minus the tolerance."""

    component: str
    measured: float
    threshold: float
    baseline: float | None
    floor: float
    reason: FindingReason

    def describe(self) -> str:
        baseline = "none" if self.baseline is None else f"{self.baseline:.6f}"
        return (
            f"PCC[{self.component}] measured {self.measured:.6f} < {self.floor:.6f} "
            f"(threshold {self.threshold:.6f}, baseline {baseline}; failed on the {self.reason})"
        )


def compare_pcc(
    measured: Mapping[str, float],
    thresholds: Mapping[str, float],
    baseline: Mapping[str, float] | None,
    tolerance: float,
) -> list[PccFinding]:
    """Every component below its absolute threshold, or below baseline minus tolerance (when a baseline is given).

    A NaN PCC fails: it means a constant or broken output, never a pass.
    """
    findings: list[PccFinding] = []
    for component, value in measured.items():
        threshold = thresholds[component]
        stored = None if baseline is None else baseline.get(component)
        floor_from_baseline = -math.inf if stored is None else stored - tolerance
        if math.isnan(value) or value < threshold:
            findings.append(PccFinding(component, value, threshold, stored, threshold, "threshold"))
        elif value < floor_from_baseline:
            findings.append(PccFinding(component, value, threshold, stored, floor_from_baseline, "baseline"))
    return findings


def nonfinite_findings(counts: Mapping[Component, int], who: str) -> list[str]:
    """A NaN or inf anywhere in an output fails the case, however high the PCC: tt-metal's PCC replaces them by 0,
    so a few of them barely move it. One line per component that holds any, with the count (``who``: whose output)."""
    return [f"{who} output component {name!r} holds {n} NaN/inf value(s)" for name, n in counts.items() if n]


# Persons whose score lies within CONFIDENCE_BAND of the confidence threshold are *borderline*: the emulator's fp32 math
# runs on torch's CPU kernels, whose summation order depends on the CPU's instruction set (AVX2 vs AVX-512), and
# bfloat8_b moves scores further; a person at the threshold may be found on one machine and not on another. A
# borderline person is neither required nor forbidden; person counts and OKS are taken over confident persons. The
# width comes from measured score spreads (README, "Figures that differ between CPUs"): a confident person
# (conf + band) needs a partner scoring conf - band or more, so scores may differ by up to twice the band.
CONFIDENCE_BAND = 0.05
# NMS has a threshold too: a duplicate box of a person whose IoU with that person's kept box lies near the NMS IoU
# threshold survives on one side and is suppressed on the other (measured: zidane.jpg at 320x320 bfloat8_b, IoU 0.725
# in the reference and 0.697 on the device for the same anchor). A person whose box overlaps a higher-scored person of
# its own side by iou - NMS_IOU_BAND or more is borderline too.
NMS_IOU_BAND = 0.1
PersonRole = Literal["confident", "borderline", "below"]


def person_role(score: float, conf: float, overlap: float = 0.0, iou: float = 1.0) -> PersonRole:
    """Whether a person must be matched (confident), may be (borderline), or is not a detection: from its score
    against the confidence threshold ``conf``, and from its largest box IoU ``overlap`` with a higher-scored person
    of its own side against the NMS threshold ``iou``."""
    if score < conf - CONFIDENCE_BAND:
        return "below"
    if score < conf + CONFIDENCE_BAND or overlap >= iou - NMS_IOU_BAND:
        return "borderline"
    return "confident"


def fps_floor(baseline_fps: float, tolerance: float) -> float:
    """The lowest FPS that still passes against a stored baseline."""
    return baseline_fps * (1.0 - tolerance)


__all__ = [
    "COMPONENTS",
    "CONFIDENCE_BAND",
    "DEFAULT_PCC_TOLERANCE",
    "NMS_IOU_BAND",
    "EMULATOR_PERF_TOLERANCE",
    "HARDWARE_PERF_TOLERANCE",
    "PCC_FLOORS",
    "Component",
    "FindingReason",
    "PccFinding",
    "PersonRole",
    "compare_pcc",
    "fps_floor",
    "nonfinite_findings",
    "pcc_floor",
    "person_role",
]
