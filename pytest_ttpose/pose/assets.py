"""The sample images shipped inside the installed ``ultralytics`` package (``ultralytics/assets``).

Found through the import system without importing ultralytics itself (that import is slow and has side effects).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ASSET_NAMES: tuple[str, ...] = ("bus.jpg", "zidane.jpg")


class AssetError(FileNotFoundError):
    """A sample image is missing or unreadable."""


def assets_dir() -> Path:
    """``<site-packages>/ultralytics/assets`` of the installed ultralytics."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise AssetError("the ultralytics package is not installed; install it (pip install ultralytics)")
    return Path(next(iter(spec.submodule_search_locations))) / "assets"


def asset_path(name: str) -> Path:
    """Path of one shipped image, e.g. ``asset_path("bus.jpg")``."""
    if name not in ASSET_NAMES:
        raise AssetError(f"unknown asset {name!r}; available: {', '.join(ASSET_NAMES)}")
    path = assets_dir() / name
    if not path.is_file():
        raise AssetError(f"{path} is missing from the installed ultralytics package; reinstall ultralytics")
    return path


def bus_path() -> Path:
    return asset_path("bus.jpg")


def zidane_path() -> Path:
    return asset_path("zidane.jpg")


def load_image(name_or_path: str | Path, rgb: bool = False) -> np.ndarray:
    """An image as (H, W, 3) uint8, BGR like ``cv2.imread`` (RGB with ``rgb=True``).

    ``name_or_path`` is an asset name ("bus.jpg", "zidane.jpg") or a path to any image file.
    """
    import cv2

    path = asset_path(str(name_or_path)) if str(name_or_path) in ASSET_NAMES else Path(name_or_path)
    if not path.is_file():
        raise AssetError(f"image file {path} does not exist")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise AssetError(f"{path} could not be decoded as an image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if rgb else image
