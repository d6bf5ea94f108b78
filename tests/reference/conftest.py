"""Fixtures of the reference tests: the real-weight reference and Ultralytics' own model as the golden model."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

# Ultralytics must not reach the network nor write settings into the user's home during tests.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "ttpose-yolo-config"))


def _ultralytics_pose_model(scale: str, state_dict: dict[str, torch.Tensor]) -> Any:
    """Ultralytics' PoseModel('yolo11<scale>-pose.yaml', nc=1) holding ``state_dict``, eval mode."""
    from ultralytics.nn.tasks import PoseModel

    model = PoseModel(f"yolo11{scale}-pose.yaml", nc=1, verbose=False)
    model.load_state_dict(state_dict, strict=True)
    return model.eval().requires_grad_(False)


@pytest.fixture(scope="session")
def ultralytics_pose_model() -> Callable[[str, dict[str, torch.Tensor]], Any]:
    """Factory: (scale, state dict) -> Ultralytics' PoseModel holding those weights."""
    return _ultralytics_pose_model


@pytest.fixture(scope="session")
def reference_n() -> torch.nn.Module:
    from pytest_ttpose.reference import build_reference

    return build_reference("n")


@pytest.fixture(scope="session")
def ultralytics_n(reference_n: torch.nn.Module) -> Any:
    return _ultralytics_pose_model("n", reference_n.state_dict())


@pytest.fixture(scope="session")
def images() -> dict[str, np.ndarray]:
    from pytest_ttpose.pose.assets import load_image

    return {name: load_image(name) for name in ("bus.jpg", "zidane.jpg")}
