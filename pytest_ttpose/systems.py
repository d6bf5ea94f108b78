"""The Tenstorrent systems the project knows by name: a vocabulary shared by the option parser, the backends, the
dry run's cluster descriptors and the doctor. Pure data, so that every layer may read it.
"""

from __future__ import annotations

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


__all__ = ["ARCHS", "SYSTEMS"]
