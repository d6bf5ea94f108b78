"""The published figures the model is calibrated against, and the views of a recorded call that compare with them.

The anchors are tt-metal's YOLOv11n (detection) at 640x640, batch 1 per chip, bfloat8_b, trace + 2 command queues.
Like tt-metal's runner, the bundled runner converts the 3-channel NCHW float input to bfloat16 on the host and pads
it to 16 channels on the device, so a recorded call compares with the anchors as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .descriptors import DeviceOp, Event
from .pipeline import CallModel

AnchorKind = Literal["device_kernel_ms", "e2e_fps"]
TOLERANCE = 0.25  # device_perf research: about +-25 % on total device time for the fitted configuration


@dataclass(frozen=True)
class Anchor:
    name: str
    system: str
    kind: AnchorKind
    published: float
    source: str


ANCHORS: tuple[Anchor, ...] = (
    Anchor(
        "N150 device kernel time",
        "n150",
        "device_kernel_ms",
        1000 / 276,
        "models/demos/wormhole/yolov11/tests/perf/test_perf.py: 276 samples/s (3.62 ms)",
    ),
    Anchor("N150 end to end", "n150", "e2e_fps", 234, "models/demos/wormhole/yolov11/README.md (trace + 2 CQ)"),
    Anchor("P150 end to end", "p150", "e2e_fps", 361, "models/demos/blackhole/yolov11/README.md (trace + 2 CQ)"),
    Anchor("N300 2-chip data parallel", "n300", "e2e_fps", 372, "models/demos/wormhole/yolov11/README.md (DP=2)"),
)


def anchor_value(anchor: Anchor, model: CallModel) -> float:
    return model.kernel_ns / 1e6 if anchor.kind == "device_kernel_ms" else model.fps


def pose_only_ns(model: CallModel, keypoint_values: int = 51) -> float:
    """Modelled device time of the programs that only a pose head runs: the keypoint branch (its convs and the
    decode of its 17 x 3 values), recognised by the 51 keypoint values in an operand's last dimension."""
    total = 0.0
    for row in model.rows:
        tensors = (*row.cost.op.inputs, row.cost.op.output)
        if any(t.shape and t.shape[-1] == keypoint_values for t in tensors):
            total += row.cost.modelled_ns
    return total


def device_ops(events: Sequence[Event]) -> int:
    return sum(1 for event in events if isinstance(event, DeviceOp))
