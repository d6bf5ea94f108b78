"""Which meshes a Tenstorrent system can open: its chips, and the mesh its ethernet-linked chips form.

Pure (no ttnn, no torch). The rule, checked against ttnn 0.81.1 on mocked clusters (tests/mock/test_systems.py):
ttnn opens a mesh of R x C devices when the system mesh (``SystemMeshDescriptor().shape()``) holds it in either
orientation (a 2x4 T3K opens 2x4, 4x2, 2x2, 1x2), or when it is a line of at most as many devices as the system mesh
has (a 2x4 T3K opens 1x8; four chained P150s open 1x4, not 2x2). Chips without a link form no mesh: two unlinked
P150s open each device alone, and ``open_mesh_device(MeshShape(1, 2))`` fails ("requires 2 devices, but only 1
devices are available in the system mesh MeshShape([1, 1])").
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_ttpose.harness.settings import MeshShape


@dataclass(frozen=True)
class Topology:
    """A system's devices and the mesh their linked chips form."""

    num_devices: int
    system_mesh: MeshShape

    @property
    def linked(self) -> bool:
        return self.system_mesh.size > 1

    def why_not(self, shape: MeshShape) -> str | None:
        """None when ``shape`` opens on this system, else why it does not."""
        if shape.size > self.num_devices:
            return f"it needs {shape.size} devices and the system has {self.num_devices}"
        if shape.size == 1:
            return None
        if not self.linked:
            return (
                f"the system's {self.num_devices} devices are not ethernet-linked (ttnn's system mesh is "
                f"{self.system_mesh}), so they form no mesh"
            )
        rows, cols = self.system_mesh.rows, self.system_mesh.cols
        fits = (shape.rows <= rows and shape.cols <= cols) or (shape.rows <= cols and shape.cols <= rows)
        is_line = min(shape.rows, shape.cols) == 1 and shape.size <= self.system_mesh.size
        if fits or is_line:
            return None
        return f"the linked chips form a {self.system_mesh} mesh, which holds neither {shape} nor a line of its size"

    def openable_examples(self) -> str:
        """A few shapes this system opens, for error messages."""
        rows, cols = self.system_mesh.rows, self.system_mesh.cols
        shapes = dict.fromkeys([MeshShape(rows, cols), MeshShape(cols, rows), MeshShape(1, rows * cols)])
        return ", ".join(str(shape) for shape in shapes if shape.size > 1) or "1x1 (single devices only)"


__all__ = ["Topology"]
