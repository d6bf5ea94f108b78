"""The runner hands the model an L1 height-sharded input; the model must not run its first conv from L1.

On a device (finding 1 of the ttnn-mock dry run, n150 640x640 batch 2) the first conv's static circular buffers reach
the L1 tensors alive next to that input, and tt-metal refuses the program. The emulator models those buffers, so the
configuration before the fix fails here too, with tt-metal's message, and the fixed model runs.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from pytest_ttpose.runner.inputs import l1_input_config
from pytest_ttpose.tt import INPUT_CHANNELS, build_pose_model
from pytest_ttpose.tt.common import Feature
from pytest_ttpose.tt.model import input_to_host_tensor

BATCH, SIZE = 2, 640
CLASH = r"Statically allocated circular buffers in program \d+ clash with L1 buffers on core range \[0-0 - 7-7\]"


def test_the_first_conv_on_the_l1_input_clashes_and_the_model_avoids_it(
    ttnn: Any, device: Any, seeded_n: nn.Module, cache_dir: Any
) -> None:
    model = build_pose_model(
        device,
        seeded_n,
        batch_size=BATCH,
        resolution=(SIZE, SIZE),
        act_dtype=ttnn.bfloat16,
        weight_dtype=ttnn.bfloat16,
        cache_dir=cache_dir,
    )
    images = torch.rand(BATCH, 3, SIZE, SIZE)
    host = input_to_host_tensor(ttnn, images)
    image = ttnn.to_device(host, device, memory_config=l1_input_config(ttnn, device, host.shape))
    # What the model did before the fix: its first conv read the 16-channel NHWC image from an L1 height-sharded copy.
    nhwc = torch.nn.functional.pad(images.permute(0, 2, 3, 1), (0, INPUT_CHANNELS - 3)).contiguous()
    nhwc_host = ttnn.from_torch(nhwc, dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT)
    l1_nhwc = ttnn.to_device(nhwc_host, device, memory_config=l1_input_config(ttnn, device, nhwc_host.shape))
    with pytest.raises(RuntimeError, match=CLASH):
        model.layers[0](Feature(l1_nhwc, BATCH, SIZE, SIZE, INPUT_CHANNELS))
    ttnn.deallocate(l1_nhwc)
    decoded = model(image)
    anchors = sum((SIZE // stride) ** 2 for stride in (8, 16, 32))
    assert list(decoded.shape) == [BATCH, 1, anchors, 56]
