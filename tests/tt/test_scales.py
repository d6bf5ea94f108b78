"""Every layer of the model as a block on its own (fed the reference's inputs for that layer), for scales n, s and m.

n uses the real weights on bus.jpg; s and m use seeded weights (no released s/m pose weights are bundled). Each row of
the isolated per-layer table must meet the per-block bar, and the full model must run with the right output shape.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn
from ttmodel_cases import DTYPE_CONFIGS, DtypeConfig, letterboxed_images

from pytest_ttpose.tt import build_pose_model, input_to_host_tensor
from pytest_ttpose.tt.diagnostics import format_table, isolated_layer_pcc_table

RESOLUTION = (320, 320)


@pytest.fixture(scope="module", params=["n", "s", "m"])
def scale_model(request: pytest.FixtureRequest) -> nn.Module:
    from pytest_ttpose.reference import build_reference

    scale = request.param
    return build_reference(scale) if scale == "n" else build_reference(scale, weights="seeded", seed=0)


@pytest.mark.parametrize("config", DTYPE_CONFIGS)
def test_every_block_meets_the_bar(
    ttnn: Any, device: Any, scale_model: nn.Module, cache_dir: Any, config: DtypeConfig
) -> None:
    model = build_pose_model(
        device,
        scale_model,
        batch_size=1,
        resolution=RESOLUTION,
        act_dtype=getattr(ttnn, config.act),
        weight_dtype=getattr(ttnn, config.weight),
        cache_dir=cache_dir,
    )
    images, _ = letterboxed_images(RESOLUTION)
    image = images[:1]
    x = ttnn.to_device(input_to_host_tensor(ttnn, image), device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    output = model.output_to_torch(model(x))
    assert output.shape == (1, 56, model.num_anchors) and torch.isfinite(output).all()
    rows = isolated_layer_pcc_table(scale_model, model, image)
    assert len(rows) == 23 + 9 + 3 + 1
    below = [row for row in rows if row.pcc < config.block_pcc]
    assert not below, f"scale {scale_model.scale}, {config.id}:\n{format_table(rows, config.block_pcc)}"
