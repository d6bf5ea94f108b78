"""Fixtures for the TT model tests: an emulated Wormhole device, reference models, images and dtype configs."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from pytest_ttpose.tt import SINGLE_DEVICE_PARAMS


def _emulator() -> Any:
    module = importlib.import_module("pytest_ttpose.emulator")
    missing = [name for name in ("open_device", "conv2d", "max_pool2d", "matmul") if not hasattr(module, name)]
    if missing:
        pytest.skip(f"the emulator does not provide {', '.join(missing)} yet")
    return module


@pytest.fixture(scope="session")
def ttnn() -> Any:
    """The emulator's ttnn namespace (what ``api_for`` returns for its devices)."""
    return _emulator()


@pytest.fixture(scope="module")
def device(ttnn: Any) -> Iterator[Any]:
    """One emulated Wormhole device opened with the model's single-device params (module scoped: models are big)."""
    machine = importlib.import_module("pytest_ttpose.emulator.machine")
    machine.set_machine(arch="wormhole_b0", num_devices=1)
    opened = ttnn.open_device(device_id=0, **SINGLE_DEVICE_PARAMS)
    yield opened
    ttnn.close_device(opened)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weight cache of this session's own, so tests never read a user's cache."""
    return tmp_path_factory.mktemp("ttpose-cache")


@pytest.fixture(scope="session")
def seeded_n() -> torch.nn.Module:
    """The n model with seeded, BN-calibrated random weights (per-block tests)."""
    from pytest_ttpose.reference import build_reference

    return build_reference("n", weights="seeded", seed=0)


@pytest.fixture(scope="session")
def real_n() -> torch.nn.Module:
    """The n model with Ultralytics' released yolo11n-pose weights."""
    from pytest_ttpose.reference import build_reference

    return build_reference("n")
