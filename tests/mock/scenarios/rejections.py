"""Two configurations a real device rejects; the dry run must fail on each with ttnn's own message.

Usage: python rejections.py <arch>
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from _scenario import DEVICE_PARAMS, report

from pytest_ttpose.mock import activate
from pytest_ttpose.seam import api_for

OVERSIZED_SHARD_ROWS = 65536  # 65536 x 64 bfloat16 = 8 MiB on ONE core, several times any core's L1


def error_of(action: Callable[[], Any]) -> str:
    try:
        action()
    except RuntimeError as error:  # ttnn raises its TT_FATAL / TT_THROW as RuntimeError
        return str(error)
    return ""


def main(arch: str) -> None:
    system = activate(arch)
    device = system.open(**DEVICE_PARAMS)
    ttnn = api_for(device)
    import torch

    one_core_shard = ttnn.create_sharded_memory_config(
        (1, 1, OVERSIZED_SHARD_ROWS, 64), ttnn.CoreGrid(y=1, x=1), ttnn.ShardStrategy.HEIGHT
    )
    oversized = error_of(
        lambda: ttnn.from_torch(
            torch.zeros(1, 1, OVERSIZED_SHARD_ROWS, 64),
            dtype=ttnn.bfloat16,
            layout=ttnn.TILE_LAYOUT,
            device=device,
            memory_config=one_core_shard,
        )
    )

    image = ttnn.from_torch(torch.randn(1, 16, 16, 16), dtype=ttnn.bfloat16, device=device)
    weight = ttnn.from_torch(torch.randn(32, 16, 3, 3), dtype=ttnn.bfloat16)
    wrong_in_channels = error_of(
        lambda: ttnn.conv2d(
            input_tensor=image,
            weight_tensor=weight,
            device=device,
            in_channels=17,  # the weights and the input have 16
            out_channels=32,
            batch_size=1,
            input_height=16,
            input_width=16,
            kernel_size=(3, 3),
            stride=(1, 1),
            padding=(1, 1),
        )
    )
    report({"oversized_l1_shard": oversized, "conv2d_wrong_in_channels": wrong_in_channels})
    system.close(device)


if __name__ == "__main__":
    main(sys.argv[1])
