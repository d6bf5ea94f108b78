"""A small conv2d -> relu -> matmul chain on a mocked system, with its L1 fit report.

Usage: python conv_relu_matmul.py <arch>
"""

from __future__ import annotations

import sys

from _scenario import DEVICE_PARAMS, report

from pytest_ttpose.mock import activate, measure_fit
from pytest_ttpose.seam import api_for

BATCH, HEIGHT, WIDTH, IN_CHANNELS, OUT_CHANNELS, PROJECTED = 1, 32, 32, 16, 32, 64


def main(arch: str) -> None:
    system = activate(arch)
    device = system.open(**DEVICE_PARAMS)
    ttnn = api_for(device)
    import torch

    mapper = ttnn.ReplicateTensorToMesh(device) if system.cluster.is_mesh else None
    image = ttnn.from_torch(
        torch.randn(BATCH, HEIGHT, WIDTH, IN_CHANNELS), dtype=ttnn.bfloat16, device=device, mesh_mapper=mapper
    )
    weight = ttnn.from_torch(torch.randn(OUT_CHANNELS, IN_CHANNELS, 3, 3), dtype=ttnn.bfloat16, mesh_mapper=mapper)
    bias = ttnn.from_torch(torch.randn(1, 1, 1, OUT_CHANNELS), dtype=ttnn.bfloat16, mesh_mapper=mapper)
    projection = ttnn.from_torch(
        torch.randn(OUT_CHANNELS, PROJECTED),
        dtype=ttnn.bfloat16,
        layout=ttnn.TILE_LAYOUT,
        device=device,
        mesh_mapper=mapper,
    )

    def chain() -> tuple[object, int, int]:
        features, [out_height, out_width] = ttnn.conv2d(
            input_tensor=image,
            weight_tensor=weight,
            bias_tensor=bias,
            device=device,
            in_channels=IN_CHANNELS,
            out_channels=OUT_CHANNELS,
            batch_size=BATCH,
            input_height=HEIGHT,
            input_width=WIDTH,
            kernel_size=(3, 3),
            stride=(1, 1),
            padding=(1, 1),
            conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16),
            return_output_dim=True,
        )
        activated = ttnn.relu(ttnn.to_layout(features, ttnn.TILE_LAYOUT))
        return ttnn.matmul(activated, projection), out_height, out_width

    (projected, out_height, out_width), fit = measure_fit(device, chain)
    report(
        {
            "output_shape": list(projected.shape),
            "conv_output_hw": [out_height, out_width],
            "fit": fit.as_dict(),
            "fit_text": str(fit),
            "fit_json": fit.to_json(),
        }
    )
    system.close(device)


if __name__ == "__main__":
    main(sys.argv[1])
