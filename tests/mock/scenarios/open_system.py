"""Open a whole mocked system with the model's device params and run one op on every chip.

Usage: python open_system.py <arch>
"""

from __future__ import annotations

import sys

from _scenario import DEVICE_PARAMS, report

from pytest_ttpose.mock import activate
from pytest_ttpose.seam import api_for


def main(arch: str) -> None:
    system = activate(arch)
    device = system.open(**DEVICE_PARAMS)
    ttnn = api_for(device)
    import torch

    mapper = ttnn.ReplicateTensorToMesh(device) if system.cluster.is_mesh else None
    composer = ttnn.ConcatMeshToTensor(device, dim=0) if system.cluster.is_mesh else None
    ones = ttnn.from_torch(
        torch.ones(1, 1, 64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, mesh_mapper=mapper
    )
    product = ttnn.to_torch(ttnn.matmul(ones, ones), mesh_composer=composer)
    grid = device.compute_with_storage_grid_size()
    shape = device.shape
    report(
        {
            "arch": str(device.arch()),
            "grid": [grid.x, grid.y],
            "num_devices": device.get_num_devices(),
            "available_devices": ttnn.GetNumAvailableDevices(),
            "mesh_shape": list(shape),
            "bound_to_mock_api": api_for(device) is system.api,
            "matmul_shape": list(product.shape),
            "l1_bank_size": ttnn.get_memory_view(device, ttnn.BufferType.L1).total_bytes_per_bank,
        }
    )
    system.close(device)


if __name__ == "__main__":
    main(sys.argv[1])
