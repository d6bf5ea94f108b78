"""Try to open each mesh shape on a mocked system; report which ttnn opens and its words for the others.

Usage: python mesh_shapes.py <arch> <RxC> [<RxC> ...]
"""

from __future__ import annotations

import sys

from _scenario import DEVICE_PARAMS, report

from pytest_ttpose.doctor import ttnn_reason
from pytest_ttpose.mock import activate


def main(arch: str, shapes: list[str]) -> None:
    system = activate(arch)
    ttnn = system.api
    outcomes: dict[str, str] = {}
    for text in shapes:
        rows, cols = (int(part) for part in text.split("x"))
        try:
            mesh = ttnn.open_mesh_device(ttnn.MeshShape(rows, cols), **DEVICE_PARAMS)
        except RuntimeError as error:
            outcomes[text] = f"refused: {ttnn_reason(error)}"
            continue
        outcomes[text] = "opened " + "x".join(str(dim) for dim in mesh.shape)
        ttnn.close_mesh_device(mesh)
    system_mesh = "x".join(str(dim) for dim in ttnn.real._ttnn.multi_device.SystemMeshDescriptor().shape())
    report({"outcomes": outcomes, "system_mesh": system_mesh, "available": ttnn.GetNumAvailableDevices()})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
