"""Option defaults and vocabularies: constants only, so the plugin's import and ``--help`` stay cheap."""

from __future__ import annotations

DTYPES = ("bfloat16", "bfloat8_b", "bfloat4_b", "float32")
MODEL_SCALES = ("n", "s", "m", "l", "x")
ARCHS = ("wormhole_b0", "blackhole")
# Named Tenstorrent systems: arch, number of chips, and the mesh (rows, cols) their ethernet-linked chips form (ttnn's
# system mesh; (1, 1) when no chips are linked). The ttnn-mock backend needs one of these (each has a cluster
# descriptor in pytest_ttpose/mock/clusters); the emulator also accepts a bare arch.
SYSTEMS: dict[str, tuple[str, int, tuple[int, int]]] = {
    "n150": ("wormhole_b0", 1, (1, 1)),
    "n300": ("wormhole_b0", 2, (1, 2)),
    # Four N300 cards linked by ethernet: T3000 / LoudBox.
    "t3k": ("wormhole_b0", 8, (2, 4)),
    # 32 Wormhole chips in one 8x4 ethernet grid.
    "galaxy": ("wormhole_b0", 32, (8, 4)),
    "p150": ("blackhole", 1, (1, 1)),
    "2xp150": ("blackhole", 2, (1, 2)),
    # Two P150 cards without an ethernet cable between them: two devices, no 1x2 mesh.
    "2xp150-unlinked": ("blackhole", 2, (1, 1)),
    "4xp150": ("blackhole", 4, (1, 4)),
    "8xp150": ("blackhole", 8, (1, 8)),
}

DEFAULT_DTYPES = "bfloat8_b/bfloat8_b,bfloat16/bfloat16"
DEFAULT_RESOLUTIONS = "640x640,320x320"
DEFAULT_BATCH_SIZES = "1,2"
DEFAULT_MODEL_SCALE = "n"
DEFAULT_BASELINE_DIR = "baselines"
DEFAULT_PCC_TOLERANCE = 0.002
# The YOLO11 head has stride 32: any other input size leaves a partial cell.
RESOLUTION_MULTIPLE = 32


# The absolute PCC floor of a case, per dtype: the looser of its activation and weight dtype applies. These catch a
# broken model; the baseline (minus --ttpose-pcc-tolerance) catches a regression of a working one.
ABSOLUTE_PCC_THRESHOLDS: dict[str, float] = {"float32": 0.999, "bfloat16": 0.99, "bfloat8_b": 0.97, "bfloat4_b": 0.93}
