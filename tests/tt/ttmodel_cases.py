"""Shared cases of the TT model tests: dtype configurations with their per-block bar, and the letterboxed images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import torch


@dataclass(frozen=True)
class DtypeConfig:
    """Activation and weight dtype names, and the per-block PCC bar that goes with them."""

    act: str
    weight: str
    block_pcc: float

    @property
    def id(self) -> str:
        return f"{self.act}-{self.weight}"


BF16 = DtypeConfig("bfloat16", "bfloat16", 0.999)
BF8 = DtypeConfig("bfloat8_b", "bfloat8_b", 0.998)
DTYPE_CONFIGS = [pytest.param(BF16, id=BF16.id), pytest.param(BF8, id=BF8.id)]


def letterboxed_images(size: tuple[int, int]) -> tuple[torch.Tensor, list[Any]]:
    """bus.jpg and zidane.jpg letterboxed to ``size`` as a float (2, 3, H, W) batch, with their letterbox infos."""
    from pytest_ttpose.pose.assets import bus_path, load_image, zidane_path
    from pytest_ttpose.pose.processing import preprocess

    images = [load_image(bus_path()), load_image(zidane_path())]
    return preprocess(images, new_shape=size)
