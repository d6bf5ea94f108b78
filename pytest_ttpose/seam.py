"""The one seam between TT model code and a ttnn implementation.

TT model and runner code never imports ``ttnn`` directly: it asks ``api_for(device)`` for the namespace that
owns the device it was given. For a device of the real ttnn this is the ``ttnn`` module; an emulated device names
its own namespace through the class attribute ``__ttnn_api__``; a backend that wraps ttnn (the mock-cluster dry
run) binds its namespace to the device object with ``bind_api``. The same model file then runs everywhere
without a single ``if emulator``.
"""

from __future__ import annotations

import importlib
from typing import Any

_bound: dict[int, tuple[Any, Any]] = {}


def bind_api(device: Any, api: Any) -> None:
    """Make ``api_for(device)`` return ``api`` (a module or a ttnn-shaped namespace object)."""
    _bound[id(device)] = (device, api)


def unbind_api(device: Any) -> None:
    """Forget a binding made with ``bind_api`` (called when the device is closed)."""
    _bound.pop(id(device), None)


def api_for(device: Any) -> Any:
    """Return the ttnn namespace that operates on ``device``."""
    entry = _bound.get(id(device))
    if entry is not None and entry[0] is device:
        return entry[1]
    module_name = getattr(type(device), "__ttnn_api__", None)
    if module_name is not None:
        return importlib.import_module(module_name)
    import ttnn  # the real package: a device it created

    return ttnn


__all__ = ["api_for", "bind_api", "unbind_api"]
