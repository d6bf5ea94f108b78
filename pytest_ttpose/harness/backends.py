"""Backends: where the TT model runs. Resolve ``auto``/``ttnn``/``emulator``/``ttnn-mock``, count devices cheaply,
open and close devices and meshes, and give the device fingerprint that keys the baselines.

Nothing heavy is imported here at module level: ttnn, the emulator (torch) and the mock runtime load when a device
is first opened. Counting TT devices reads ``/dev/tenstorrent`` (the kernel driver's nodes) and never touches ttnn,
which raises instead of returning 0 when no chip is present.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pytest_ttpose.harness.baselines import Fingerprint
from pytest_ttpose.harness.settings import ARCHS, SYSTEMS, MeshShape
from pytest_ttpose.harness.ttnn_import import EmulatorTtnnAlias, NamespaceTtnnAlias, TtnnAlias
from pytest_ttpose.pose.acceptance import EMULATOR_PERF_TOLERANCE, HARDWARE_PERF_TOLERANCE

TT_DEVICE_DIR = Path("/dev/tenstorrent")
# The emulator opens this many devices unless told otherwise, so that data-parallel cases run on a 1x2 mesh.
EMULATOR_DEFAULT_DEVICES = 2
# The largest machine pytest_ttpose.emulator.machine.set_machine accepts (kept here so counting needs no torch).
EMULATOR_MAX_DEVICES = 8


class BackendUnavailable(Exception):
    """The requested backend (or hardware) is not there; the message says what is missing and what to do."""


def tt_device_ids(device_dir: Path | None = None) -> list[int]:
    """The ids of the Tenstorrent devices the kernel driver exposes (``/dev/tenstorrent/<N>``)."""
    directory = TT_DEVICE_DIR if device_dir is None else device_dir
    try:
        return sorted(int(entry.name) for entry in directory.iterdir() if entry.name.isdigit())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def installed_ttnn_version() -> str | None:
    import importlib.metadata  # not at module level: it is slow to import and only the header and fingerprint need it

    try:
        return importlib.metadata.version("ttnn")
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class BackendRequest:
    """What the options ask of a backend: a system/arch name and an explicit mesh shape, when given."""

    arch: str | None
    mesh_shape: MeshShape | None


class Backend(ABC):
    """One way of running the model. Subclasses must count devices without opening them."""

    name: ClassVar[str]
    # The ttnn-mock dry run produces zeros: it checks that ops and allocations are accepted, not numbers or speed.
    dry_run: ClassVar[bool] = False
    # Allowed fraction of FPS below baseline when --ttpose-perf-tolerance is not given.
    default_perf_tolerance: ClassVar[float] = HARDWARE_PERF_TOLERANCE

    def __init__(self, request: BackendRequest) -> None:
        self.request = request

    @property
    @abstractmethod
    def device_count(self) -> int: ...

    @property
    @abstractmethod
    def arch(self) -> str: ...

    @property
    def arch_if_known(self) -> str | None:
        """The arch when it is known without importing ttnn (for the session header), else None."""
        return self.arch

    @property
    def ttnn_version(self) -> str:
        """The ttnn version recorded in the fingerprint."""
        return installed_ttnn_version() or "none"

    def fingerprint(self, mesh_shape: MeshShape) -> Fingerprint:
        return Fingerprint(backend=self.name, arch=self.arch, mesh_shape=str(mesh_shape), ttnn=self.ttnn_version)

    def prepare(self) -> None:  # noqa: B027 - optional hook, most backends need nothing before the session
        """Session-start work that must precede any ttnn import (the mock cluster's environment)."""

    def ttnn_import_alias(self) -> TtnnAlias | None:
        """What ``import ttnn`` in user code should give on this backend, if not the installed package as is."""
        return None

    @abstractmethod
    def open_device(self, device_id: int, params: Mapping[str, Any]) -> Any: ...

    @abstractmethod
    def close_device(self, device: Any) -> None: ...

    @abstractmethod
    def open_mesh_device(self, shape: MeshShape, params: Mapping[str, Any]) -> Any: ...

    @abstractmethod
    def close_mesh_device(self, mesh: Any) -> None: ...

    def device_params(self, kind: str) -> dict[str, Any]:
        """Open parameters of a ``"device"`` or ``"mesh"``, from ``pytest_ttpose.tt.device_params`` (the one source)."""
        params = importlib.import_module("pytest_ttpose.tt.device_params")
        return dict(params.MESH_DEVICE_PARAMS if kind == "mesh" else params.SINGLE_DEVICE_PARAMS)

    def memory_snapshot(self, device: Any) -> dict[str, Any]:
        """A comparable view of every allocator of ``device``: the allocated (address, size) blocks of L1, L1_SMALL,
        DRAM and the trace region, from ttnn's ``get_memory_view``. Equal snapshots mean the same allocations."""
        from pytest_ttpose.seam import api_for

        ttnn = api_for(device)
        snapshot: dict[str, Any] = {}
        for name in ("L1", "L1_SMALL", "DRAM", "TRACE"):
            view = ttnn.get_memory_view(device, getattr(ttnn.BufferType, name))
            snapshot[name] = sorted(
                (int(block["address"]), int(block["size"])) for block in view.block_table if block["allocated"] == "yes"
            )
        return snapshot

    def synchronize(self, device: Any) -> None:
        from pytest_ttpose.seam import api_for

        api_for(device).synchronize_device(device)

    def clear_program_cache(self, device: Any) -> None:
        """Drop the device's compiled programs, and with them the config tensors they keep in L1_SMALL."""
        clear = getattr(device, "clear_program_cache", None)
        if clear is not None:
            clear()


BackendFactory = Callable[[BackendRequest], Backend]


class EmulatorBackend(Backend):
    """The package's CPU emulator of ttnn. Its device count is whatever the session asks for (2 by default)."""

    name = "emulator"
    # The emulator's speed is the speed of a shared CPU: a run on a busy machine can take several times longer
    # than the one that wrote the baseline. Its FPS check only catches gross slowdowns (below a fifth of baseline);
    # pass --ttpose-perf-tolerance for a tighter bar on a quiet machine.
    default_perf_tolerance = EMULATOR_PERF_TOLERANCE

    def __init__(self, request: BackendRequest) -> None:
        super().__init__(request)
        system = SYSTEMS.get(request.arch or "")
        if request.arch is None:
            self._arch, chips = ARCHS[0], None
        elif system is not None:
            self._arch, chips = system
        else:
            self._arch, chips = request.arch, None
        if request.mesh_shape is not None:
            if chips is not None and request.mesh_shape.size > chips:
                raise BackendUnavailable(
                    f"--ttpose-mesh-shape={request.mesh_shape} needs {request.mesh_shape.size} devices but "
                    f"--ttpose-arch={request.arch} has {chips}; drop --ttpose-arch or choose a smaller mesh"
                )
            if request.mesh_shape.size > EMULATOR_MAX_DEVICES:
                raise BackendUnavailable(
                    f"--ttpose-mesh-shape={request.mesh_shape} needs {request.mesh_shape.size} devices; the emulator "
                    f"emulates at most {EMULATOR_MAX_DEVICES}"
                )
            self._count = request.mesh_shape.size
        else:
            self._count = chips if chips is not None else EMULATOR_DEFAULT_DEVICES
        self._machine_set = False

    @property
    def device_count(self) -> int:
        return self._count

    @property
    def arch(self) -> str:
        return self._arch

    @property
    def ttnn_version(self) -> str:
        # The emulator does not run the installed ttnn: its numbers and speed do not depend on it, and a machine
        # without the ttnn extra must still find the committed emulator baselines.
        return "emulator"

    def _api(self) -> Any:
        emulator = importlib.import_module("pytest_ttpose.emulator")
        if not self._machine_set:
            machine = importlib.import_module("pytest_ttpose.emulator.machine")
            machine.set_machine(arch=self._arch, num_devices=self._count)
            self._machine_set = True
        return emulator

    def ttnn_import_alias(self) -> TtnnAlias | None:
        return EmulatorTtnnAlias()

    def open_device(self, device_id: int, params: Mapping[str, Any]) -> Any:
        return self._api().open_device(device_id=device_id, **params)

    def close_device(self, device: Any) -> None:
        self._api().close_device(device)

    def memory_snapshot(self, device: Any) -> dict[str, Any]:
        return importlib.import_module("pytest_ttpose.emulator.machine").memory_snapshot(device)

    def open_mesh_device(self, shape: MeshShape, params: Mapping[str, Any]) -> Any:
        api = self._api()
        return api.open_mesh_device(mesh_shape=api.MeshShape(shape.rows, shape.cols), **params)

    def close_mesh_device(self, mesh: Any) -> None:
        self._api().close_mesh_device(mesh)


class TtnnBackend(Backend):
    """Real ttnn on real Tenstorrent hardware."""

    name = "ttnn"

    def __init__(self, request: BackendRequest) -> None:
        super().__init__(request)
        if request.arch is not None:
            raise BackendUnavailable(
                f"--ttpose-arch={request.arch} applies to the emulator and ttnn-mock backends; on hardware the "
                "devices decide the arch: drop --ttpose-arch"
            )
        self._ids = tt_device_ids()
        if not self._ids:
            raise BackendUnavailable(
                f"no Tenstorrent device found (nothing under {TT_DEVICE_DIR}); install the tt-kmd driver on a "
                "machine with a TT card, or use --ttpose-backend=emulator (CPU) or --ttpose-backend=ttnn-mock (dry run)"
            )
        if installed_ttnn_version() is None:
            raise BackendUnavailable(
                "Tenstorrent devices are present but ttnn is not installed: pip install 'pytest-ttpose[ttnn]'"
            )
        self._arch: str | None = None

    @property
    def device_count(self) -> int:
        return len(self._ids)

    @property
    def arch_if_known(self) -> str | None:
        return self._arch

    @property
    def arch(self) -> str:
        if self._arch is None:
            import ttnn

            self._arch = str(ttnn.get_arch_name())
        return self._arch

    def open_device(self, device_id: int, params: Mapping[str, Any]) -> Any:
        import ttnn

        return ttnn.open_device(device_id=device_id, **params)

    def close_device(self, device: Any) -> None:
        import ttnn

        ttnn.close_device(device)

    def open_mesh_device(self, shape: MeshShape, params: Mapping[str, Any]) -> Any:
        import ttnn

        return ttnn.open_mesh_device(mesh_shape=ttnn.MeshShape(shape.rows, shape.cols), **params)

    def close_mesh_device(self, mesh: Any) -> None:
        import ttnn

        ttnn.close_mesh_device(mesh)


class TtnnMockBackend(Backend):
    """Real ttnn's host stack on a mocked cluster: a dry run of ops, allocations and meshes, with zeros for values."""

    name = "ttnn-mock"
    dry_run = True
    DEFAULT_SYSTEM = "n150"

    def __init__(self, request: BackendRequest) -> None:
        super().__init__(request)
        system = request.arch or self.DEFAULT_SYSTEM
        if system not in SYSTEMS:
            raise BackendUnavailable(
                f"--ttpose-arch={system} is not a mockable system; the ttnn-mock backend accepts {', '.join(SYSTEMS)}"
            )
        if installed_ttnn_version() is None:
            raise BackendUnavailable("the ttnn-mock backend runs the real ttnn: pip install 'pytest-ttpose[ttnn]'")
        self._system_name = system
        self._count = SYSTEMS[system][1]
        if request.mesh_shape is not None and request.mesh_shape.size > self._count:
            raise BackendUnavailable(
                f"--ttpose-mesh-shape={request.mesh_shape} needs {request.mesh_shape.size} devices but the mocked "
                f"{system} has {self._count}; choose --ttpose-arch=n300 or 2xp150 for a 1x2 mesh"
            )
        self._system: Any = None

    @property
    def device_count(self) -> int:
        return self._count

    @property
    def arch(self) -> str:
        return self._system_name

    def prepare(self) -> None:
        # ttnn reads the mock cluster's environment once, at import: switch the process before anything imports it.
        mock = importlib.import_module("pytest_ttpose.mock")
        try:
            self._system = mock.activate(self._system_name)
        except mock.MockSetupError as error:
            raise BackendUnavailable(str(error)) from None

    def _api(self) -> Any:
        if self._system is None:
            self.prepare()
        return self._system.api

    def ttnn_import_alias(self) -> TtnnAlias | None:
        # User code must not reach the calls mock mode crashes on (trace, events): it gets the dry run's namespace.
        api = self._api()
        return NamespaceTtnnAlias(api, api.real, "the dry run's ttnn (pytest_ttpose.mock.api.MockTtnn)")

    def open_device(self, device_id: int, params: Mapping[str, Any]) -> Any:
        return self._api().open_device(device_id=device_id, **params)

    def close_device(self, device: Any) -> None:
        self._api().close_device(device)

    def open_mesh_device(self, shape: MeshShape, params: Mapping[str, Any]) -> Any:
        api = self._api()
        return api.open_mesh_device(api.MeshShape(shape.rows, shape.cols), **params)

    def close_mesh_device(self, mesh: Any) -> None:
        self._api().close_mesh_device(mesh)


def builtin_backends() -> dict[str, BackendFactory]:
    return {backend.name: backend for backend in (TtnnBackend, EmulatorBackend, TtnnMockBackend)}


def resolve_backend_name(requested: str) -> str:
    """``auto`` means real ttnn when a TT device is present, else the emulator."""
    if requested != "auto":
        return requested
    return TtnnBackend.name if tt_device_ids() else EmulatorBackend.name
