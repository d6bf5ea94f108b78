"""Backends: where the TT model runs. Resolve ``auto``/``ttnn``/``emulator``/``ttnn-mock``, count devices cheaply,
open and close devices and meshes, and give the device fingerprint that keys the baselines.

Nothing heavy is imported here at module level: ttnn, the emulator (torch) and the mock runtime load when a device
is first opened. Whether TT hardware is there at all is read from ``/dev/tenstorrent`` (the kernel driver's nodes,
one per PCIe card), never from ttnn, which raises instead of returning 0 when no chip is present. Once nodes exist,
ttnn itself counts the chips and says which form a mesh: an N300 is one node with two chips.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pytest_ttpose.harness.baselines import Fingerprint
from pytest_ttpose.harness.settings import ARCHS, SYSTEMS, MeshShape
from pytest_ttpose.harness.topology import Topology
from pytest_ttpose.harness.ttnn_import import EmulatorTtnnAlias, NamespaceTtnnAlias, TtnnAlias
from pytest_ttpose.pose.acceptance import EMULATOR_PERF_TOLERANCE, HARDWARE_PERF_TOLERANCE

TT_DEVICE_DIR = Path("/dev/tenstorrent")
# The emulator opens this many devices unless told otherwise, so that data-parallel cases run on a 1x2 mesh.
EMULATOR_DEFAULT_DEVICES = 2
# The largest machine pytest_ttpose.emulator.machine.set_machine accepts (kept here so counting needs no torch).
EMULATOR_MAX_DEVICES = 32
# UMD (under ttnn) opens only the PCIe device nodes listed here; each pytest-xdist worker sets it to its own card.
VISIBLE_DEVICES_ENV = "TT_VISIBLE_DEVICES"


class BackendUnavailable(Exception):
    """The requested backend (or hardware) is not there; the message says what is missing and what to do."""


class BackendOptionError(BackendUnavailable):
    """The backend exists but cannot do what another option asks (a mesh larger than its devices, say): the usage
    error names that option, not --ttpose-backend."""

    def __init__(self, option: str, value: object, problem: str, accepted: str) -> None:
        self.option = option
        self.value = value
        self.problem = problem
        self.accepted = accepted
        super().__init__(f"{option}={value}: {problem}")


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
    # The pytest-xdist worker index (gwK) of this process, None outside xdist workers.
    worker_index: int | None = None


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
    def chip_arch(self) -> str:
        """The chips' arch (``wormhole_b0`` / ``blackhole``), which chooses the device parameters."""
        return self.arch

    @property
    def topology(self) -> Topology:
        """The devices and the mesh their linked chips form; by default every device in one row."""
        return Topology(self.device_count, MeshShape(1, self.device_count))

    @property
    def max_workers(self) -> int:
        """How many pytest-xdist workers can each own a device."""
        return self.device_count

    def worker_device_id(self, worker_index: int) -> int:
        """The device id pytest-xdist worker ``gwK`` opens, as seen from inside that worker."""
        return worker_index

    @property
    def ttnn_version(self) -> str:
        """The ttnn version recorded in the fingerprint."""
        return installed_ttnn_version() or "none"

    @property
    def default_mesh_shape(self) -> MeshShape:
        """The mesh a session gets without --ttpose-mesh-shape: one row of every device."""
        return MeshShape(1, self.device_count)

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
        """Open parameters of a ``"device"`` or ``"mesh"`` of this arch, from ``pytest_ttpose.tt.device_params``."""
        params = importlib.import_module("pytest_ttpose.tt.device_params")
        return dict(params.device_params(self.chip_arch, "mesh" if kind == "mesh" else "device"))

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

    def perf_recording(self) -> AbstractContextManager[Any]:
        """A context recording the device work run inside it for ``pytest_ttpose.devperf`` (it yields the event log),
        or yielding None where speed is measured, not modelled (real hardware, the dry run)."""
        return nullcontext(None)

    def perf_hardware(self, chips: int) -> Any:
        """The ``devperf.model.Hardware`` that prices what ``perf_recording`` recorded on ``chips`` chips."""
        raise NotImplementedError(f"the {self.name} backend measures speed; it has no performance model")

    def capture_device_ops(self, device: Any, work: Callable[[], Any]) -> list[Any]:
        """The device programs of ``work()`` as ``devperf`` op descriptors, where ops run but nothing can be timed
        (the dry run)."""
        raise NotImplementedError(f"the {self.name} backend does not capture device programs")

    def clear_program_cache(self, device: Any) -> None:
        """Drop the device's compiled programs, and with them the config tensors they keep in L1_SMALL."""
        clear = getattr(device, "clear_program_cache", None)
        if clear is not None:
            clear()


BackendFactory = Callable[[BackendRequest], Backend]


class EmulatorBackend(Backend):
    """The package's CPU emulator of ttnn. Its device count is whatever the session asks for (2 by default)."""

    name = "emulator"
    # The emulator's FPS is modelled (pytest_ttpose.devperf), not timed: it is the same to the last digit on any
    # machine, so a tight bar catches a real regression (a higher fidelity, an extra DRAM round trip, fewer cores).
    default_perf_tolerance = EMULATOR_PERF_TOLERANCE

    def __init__(self, request: BackendRequest) -> None:
        super().__init__(request)
        system = SYSTEMS.get(request.arch or "")
        self._system_mesh: MeshShape | None = None
        if request.arch is None:
            self._arch, chips = ARCHS[0], None
        elif system is not None:
            self._arch, chips, (rows, cols) = system
            self._system_mesh = MeshShape(rows, cols)
        else:
            self._arch, chips = request.arch, None
        self._default_count = chips if chips is not None else EMULATOR_DEFAULT_DEVICES
        if request.mesh_shape is not None:
            if chips is not None and request.mesh_shape.size > chips:
                raise BackendOptionError(
                    "--ttpose-mesh-shape",
                    request.mesh_shape,
                    f"needs {request.mesh_shape.size} devices but --ttpose-arch={request.arch} has {chips}",
                    f"a mesh of at most {chips} devices, or drop --ttpose-arch",
                )
            if request.mesh_shape.size > EMULATOR_MAX_DEVICES:
                raise BackendOptionError(
                    "--ttpose-mesh-shape",
                    request.mesh_shape,
                    f"needs {request.mesh_shape.size} devices; the emulator emulates at most {EMULATOR_MAX_DEVICES}",
                    f"a mesh of at most {EMULATOR_MAX_DEVICES} devices",
                )
            self._count = request.mesh_shape.size
        else:
            self._count = self._default_count
        self._machine_set = False

    @property
    def device_count(self) -> int:
        return self._count

    @property
    def default_mesh_shape(self) -> MeshShape:
        # The emulator emulates as many devices as the mesh asks for; without one, its default count.
        return MeshShape(1, self._default_count)

    @property
    def arch(self) -> str:
        return self._arch

    @property
    def topology(self) -> Topology:
        # A named system keeps its links (two unlinked P150s form no mesh); otherwise the emulated chips form
        # whatever mesh was asked for, or one row.
        if self._system_mesh is not None:
            return Topology(self._count, self._system_mesh)
        return Topology(self._count, self.request.mesh_shape or MeshShape(1, self._count))

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

    def perf_recording(self) -> AbstractContextManager[Any]:
        recording: AbstractContextManager[Any] = importlib.import_module("pytest_ttpose.emulator.perf_log").recording()
        return recording

    def perf_hardware(self, chips: int) -> Any:
        from pytest_ttpose.devperf.model import Hardware

        return Hardware.for_arch(self._arch, chips)

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
            raise BackendOptionError(
                "--ttpose-arch",
                request.arch,
                "applies to the emulator and ttnn-mock backends; on hardware the devices decide the arch",
                "no --ttpose-arch with the ttnn backend",
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
        self._topology: Topology | None = None
        if request.worker_index is not None:
            self._restrict_to_card(request.worker_index)

    def _restrict_to_card(self, worker_index: int) -> None:
        """Make ttnn in this xdist worker see only card ``worker_index`` (before ttnn enumerates the chips)."""
        if worker_index >= len(self._ids):
            return  # the configuration reports "-n N" larger than the cards with a usage error
        card = str(self._ids[worker_index])
        current = os.environ.get(VISIBLE_DEVICES_ENV)
        if "ttnn" in sys.modules and current != card:
            raise BackendUnavailable(
                f"pytest-xdist worker gw{worker_index} must restrict ttnn to card {card} ({VISIBLE_DEVICES_ENV}) "
                "before ttnn is imported, and something imported it first; import ttnn inside tests or fixtures"
            )
        os.environ[VISIBLE_DEVICES_ENV] = card

    @property
    def topology(self) -> Topology:
        """Counted by ttnn: every chip (an N300's second chip has no device node of its own) and the system mesh."""
        if self._topology is None:
            import ttnn

            try:
                num_devices = int(ttnn.GetNumAvailableDevices())
                dims = [int(dim) for dim in ttnn._ttnn.multi_device.SystemMeshDescriptor().shape()]
            except RuntimeError as error:  # ttnn's TT_FATAL: a driver, firmware or hugepage problem
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise BackendUnavailable(
                    f"Tenstorrent device nodes exist under {TT_DEVICE_DIR} but ttnn could not enumerate the chips "
                    f"({reason}); check the machine with: python -m pytest_ttpose.doctor"
                ) from None
            rows, cols = (dims[0], dims[1]) if len(dims) == 2 else (1, math.prod(dims))
            self._topology = Topology(num_devices, MeshShape(rows, cols))
        return self._topology

    @property
    def device_count(self) -> int:
        return self.topology.num_devices

    @property
    def max_workers(self) -> int:
        # TT_VISIBLE_DEVICES selects PCIe cards (device nodes), so each worker owns one card and all its chips.
        return len(self._ids)

    def worker_device_id(self, worker_index: int) -> int:
        return 0  # the worker sees only its own card, whose first chip is device 0

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
            raise BackendOptionError("--ttpose-arch", system, "not a mockable system", ", ".join(SYSTEMS))
        if installed_ttnn_version() is None:
            raise BackendUnavailable("the ttnn-mock backend runs the real ttnn: pip install 'pytest-ttpose[ttnn]'")
        unopenable = importlib.import_module("pytest_ttpose.mock.runtime").UNOPENABLE.get(system)
        if unopenable is not None:
            raise BackendUnavailable(f"--ttpose-arch={system} cannot be dry-run: {unopenable}")
        self._system_name = system
        self._chip_arch, self._count, (rows, cols) = SYSTEMS[system]
        self._system_mesh = MeshShape(rows, cols)
        self._system: Any = None

    @property
    def device_count(self) -> int:
        return self._count

    @property
    def arch(self) -> str:
        return self._system_name

    @property
    def chip_arch(self) -> str:
        return self._chip_arch

    @property
    def topology(self) -> Topology:
        return Topology(self._count, self._system_mesh)

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

    def perf_hardware(self, chips: int) -> Any:
        from pytest_ttpose.devperf.model import Hardware

        return Hardware.of(self._system_name)  # type: ignore[arg-type]

    def capture_device_ops(self, device: Any, work: Callable[[], Any]) -> list[Any]:
        """The device programs real ttnn ran for ``work()``, as ``devperf`` op descriptors (graph capture)."""
        from pytest_ttpose.mock.perf_capture import capture_device_ops

        return capture_device_ops(device, work)[1]


def builtin_backends() -> dict[str, BackendFactory]:
    return {backend.name: backend for backend in (TtnnBackend, EmulatorBackend, TtnnMockBackend)}


def resolve_backend_name(requested: str) -> str:
    """``auto`` means real ttnn when a TT device is present, else the emulator."""
    if requested != "auto":
        return requested
    return TtnnBackend.name if tt_device_ids() else EmulatorBackend.name
