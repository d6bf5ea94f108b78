"""pytest-ttpose: validate YOLO11-pose on Tenstorrent devices (or their CPU emulator) against PyTorch.

Importing this package is cheap on purpose: torch, ttnn and ultralytics load only when a ttpose fixture is used.
"""

__version__ = "0.1.0"
