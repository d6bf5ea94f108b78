"""Prepare the real ttnn for a dry run on a mocked cluster, and switch a process onto it.

ttnn 0.81 runs its whole host stack against a cluster descriptor (``TT_METAL_MOCK_CLUSTER_DESC_PATH``) once its JIT
build finds the sfpi kernel compiler. Mock devices never execute kernels, so a stand-in compiler that links a stub
RISC-V object with binutils is enough. The stand-in lives in a runtime root of our own (``TT_METAL_RUNTIME_ROOT``)
that links to the installed wheel, so the venv is never modified, next to a kernel cache of its own (fake ELFs must
never mix with a real toolchain's cache). Everything is built once per ttnn installation under the user cache
(``$TTPOSE_CACHE_DIR``, default ``~/.cache/pytest-ttpose``), atomically and under a lock so parallel pytest-xdist
workers can all call ``prepare_runtime``.

The mocked cluster is fixed per process: the environment has to be in place before ``import ttnn``. ``activate``
does that and refuses to switch a process that already uses another cluster; run other arches in subprocesses with
``mock_environ(arch)``.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ttpose.systems import SYSTEMS

CACHE_DIR_ENV = "TTPOSE_CACHE_DIR"
BINUTILS_PACKAGE = "binutils-riscv64-unknown-elf"
INSTALL_HINT = f"apt-get install {BINUTILS_PACKAGE}"
ASSEMBLER = "riscv64-unknown-elf-as"
LINKER = "riscv64-unknown-elf-ld"

ROOT_ENV = "TT_METAL_RUNTIME_ROOT"
KERNEL_CACHE_ENV = "TT_METAL_CACHE"
CLUSTER_ENV = "TT_METAL_MOCK_CLUSTER_DESC_PATH"
LOGGER_LEVEL_ENV = "TT_METAL_LOGGER_LEVEL"
# The variables that decide which cluster and toolchain a ttnn process uses; they cannot change after import.
PROCESS_FIXED_ENV = (ROOT_ENV, KERNEL_CACHE_ENV, CLUSTER_ENV)

_PACKAGE_DIR = Path(__file__).resolve().parent
_STUB_DIR = _PACKAGE_DIR / "stub"
_CLUSTER_DIR = _PACKAGE_DIR / "clusters"
_COMPILER_SOURCE = _STUB_DIR / "riscv_tt_elf_gxx.py"
_STUB_ASSEMBLY = _STUB_DIR / "kernel_stub.S"
# Where tt-metal's JitBuildEnv looks for the sfpi compiler, relative to the runtime root.
_COMPILER_BIN = Path("runtime") / "sfpi" / "compiler" / "bin"
_COMPILER_NAME = "riscv-tt-elf-g++"
_STUB_OBJECT_NAME = "kernel_stub.o"
_STAMP_NAME = "ttpose-mock-runtime.json"
# Bump when the layout of a prepared runtime changes, so older caches are not reused.
_LAYOUT_VERSION = 2


@dataclass(frozen=True)
class MockCluster:
    """One mockable Tenstorrent system: a cluster descriptor shipped with this package."""

    name: str
    descriptor_file: str
    chip_arch: str
    num_chips: int
    mesh_shape: tuple[int, int]
    """The mesh the linked chips form when opened together ((1, 1) when none are linked)."""

    @property
    def descriptor_path(self) -> Path:
        return _CLUSTER_DIR / self.descriptor_file

    @property
    def is_mesh(self) -> bool:
        return self.mesh_shape[0] * self.mesh_shape[1] > 1


# The descriptor of each named system of pytest_ttpose.systems.SYSTEMS (which holds its arch, chips and mesh).
_DESCRIPTOR_FILES = {
    "n150": "wormhole_n150.yaml",
    "n300": "wormhole_n300.yaml",
    "t3k": "wormhole_t3k.yaml",
    "galaxy": "wormhole_galaxy.yaml",
    "p150": "blackhole_p150.yaml",
    "2xp150": "blackhole_2xp150_linked.yaml",
    "2xp150-unlinked": "blackhole_2xp150_unlinked.yaml",
    "4xp150": "blackhole_4xp150_linked.yaml",
    "8xp150": "blackhole_8xp150_linked.yaml",
}

# Systems whose descriptor ships but which ttnn 0.81.1's mock mode cannot open, and why (shown by
# ``python -m pytest_ttpose.doctor --probe-mock galaxy`` and tests/doctor/test_doctor.py).
UNOPENABLE: dict[str, str] = {
    "galaxy": (
        "ttnn 0.81.1's mock mode cannot open a 32-chip Wormhole galaxy: building its physical system descriptor "
        "fails with 'Two ASICs in the physical system descriptor share the address (..., tray 3, loc 0)', because "
        "for Wormhole it derives each chip's tray and location itself and gives two chips the same one (the "
        "descriptor's boards and asic_locations do not change that); without the 32 PCIe links of every chip, UMD "
        "fails earlier ('Closest MMIO capable chip not found for chip 31'). The emulator runs the 8x4 mesh instead: "
        "--ttpose-backend=emulator --ttpose-arch=galaxy"
    ),
}

CLUSTERS: dict[str, MockCluster] = {
    name: MockCluster(name, _DESCRIPTOR_FILES[name], arch, chips, mesh) for name, (arch, chips, mesh) in SYSTEMS.items()
}


class MockSetupError(RuntimeError):
    """The mock-cluster dry run cannot be prepared or activated."""


class MockToolchainMissing(MockSetupError):
    """The RISC-V binutils the stub kernel toolchain links with are not installed."""


class MockClusterConflict(MockSetupError):
    """This process already runs ttnn on another cluster (or on none) than the one requested."""


def cluster_for(arch: str) -> MockCluster:
    """The mock cluster named ``arch``; a clear error for an unknown name."""
    try:
        return CLUSTERS[arch]
    except KeyError:
        raise MockSetupError(
            f"unknown mock arch {arch!r}: choose one of {', '.join(CLUSTERS)} (e.g. --ttpose-arch=n150)"
        ) from None


def cache_dir() -> Path:
    """The user cache of pytest-ttpose: ``$TTPOSE_CACHE_DIR`` or ``~/.cache/pytest-ttpose``."""
    configured = os.environ.get(CACHE_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "pytest-ttpose"


def find_binutils() -> dict[str, str]:
    """Paths of the RISC-V assembler and linker, or ``MockToolchainMissing`` saying how to install them."""
    found = {tool: shutil.which(tool) for tool in (ASSEMBLER, LINKER)}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        raise MockToolchainMissing(
            f"the ttnn mock dry run needs {' and '.join(missing)} (not found on PATH) to link stub kernels; "
            f"install Debian's package with: {INSTALL_HINT}"
        )
    return {tool: str(path) for tool, path in found.items()}


def ttnn_package_dir() -> Path:
    """The installed ttnn package folder, found without importing ttnn (importing it fixes the runtime root)."""
    spec = importlib.util.find_spec("ttnn")
    if spec is None or spec.origin is None:
        raise MockSetupError("the ttnn mock dry run needs the real ttnn package: pip install 'pytest-ttpose[ttnn]'")
    return Path(spec.origin).resolve().parent


def ttnn_version() -> str:
    try:
        return importlib.metadata.version("ttnn")
    except importlib.metadata.PackageNotFoundError:
        raise MockSetupError("ttnn is importable but has no package metadata; reinstall it with pip") from None


@dataclass(frozen=True)
class MockRuntime:
    """A prepared runtime root: the stand-in toolchain, links into the wheel and a kernel cache of its own."""

    root: Path
    kernel_cache: Path
    ttnn_version: str

    @property
    def compiler(self) -> Path:
        return self.root / _COMPILER_BIN / _COMPILER_NAME

    def environ(self, arch: str) -> dict[str, str]:
        """The environment that makes a fresh process's ttnn open the mocked cluster ``arch``."""
        cluster = cluster_for(arch)
        return {
            # tt-metal concatenates relative paths onto these, so they keep their trailing slash.
            ROOT_ENV: f"{self.root}{os.sep}",
            KERNEL_CACHE_ENV: f"{self.kernel_cache}{os.sep}",
            CLUSTER_ENV: str(cluster.descriptor_path),
            LOGGER_LEVEL_ENV: os.environ.get(LOGGER_LEVEL_ENV, "error"),
        }


def _runtime_key(package_dir: Path) -> str:
    """Identify a runtime by what it is built from: the ttnn install, the interpreter and our stub sources."""
    digest = hashlib.sha256()
    for part in (str(_LAYOUT_VERSION), str(package_dir), sys.executable):
        digest.update(part.encode())
        digest.update(b"\0")
    for source in (_COMPILER_SOURCE, _STUB_ASSEMBLY):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def _is_complete(version_dir: Path) -> bool:
    stamp = version_dir / _STAMP_NAME
    if not stamp.is_file():
        return False
    root = version_dir / "root"
    links = (root / "tt_metal", root / "ttnn", root / "runtime" / "hw")
    return all(link.exists() for link in links) and os.access(root / _COMPILER_BIN / _COMPILER_NAME, os.X_OK)


def _build(target: Path, package_dir: Path, binutils: dict[str, str]) -> None:
    """Write a complete runtime into ``target`` (a fresh folder that is renamed into place afterwards)."""
    wheel_parts = [package_dir / "tt_metal", package_dir / "ttnn", package_dir / "runtime" / "hw"]
    missing = [str(part) for part in wheel_parts if not part.is_dir()]
    if missing:
        raise MockSetupError(
            f"this ttnn install is not laid out as the mock runtime expects (missing {', '.join(missing)}); the "
            "ttnn-mock backend supports the ttnn 0.81 wheels from PyPI"
        )
    root = target / "root"
    (root / "runtime").mkdir(parents=True)
    (root / "tt_metal").symlink_to(package_dir / "tt_metal", target_is_directory=True)
    (root / "ttnn").symlink_to(package_dir / "ttnn", target_is_directory=True)
    (root / "runtime" / "hw").symlink_to(package_dir / "runtime" / "hw", target_is_directory=True)
    bin_dir = root / _COMPILER_BIN
    bin_dir.mkdir(parents=True)
    subprocess.run(
        [
            binutils[ASSEMBLER],
            "-march=rv32im",
            "-mabi=ilp32",
            "-o",
            str(bin_dir / _STUB_OBJECT_NAME),
            str(_STUB_ASSEMBLY),
        ],
        check=True,
        capture_output=True,
    )
    shutil.copyfile(_COMPILER_SOURCE, bin_dir / _COMPILER_SOURCE.name)
    compiler = bin_dir / _COMPILER_NAME
    # A sh launcher rather than a "#!python" line: a shebang breaks on interpreter paths with spaces or of great
    # length. -I -S: isolated and without site-packages, so each of the many compile steps starts fast. The script
    # is found next to the launcher (ttnn runs it by its absolute path): this folder is renamed once built.
    interpreter = shlex.join([sys.executable, "-I", "-S"])
    compiler.write_text(f'#!/bin/sh\nexec {interpreter} "${{0%/*}}/{_COMPILER_SOURCE.name}" "$@"\n', encoding="utf-8")
    compiler.chmod(0o755)
    (target / "kernel-cache").mkdir()
    stamp = {
        "layout": _LAYOUT_VERSION,
        "ttnn_version": ttnn_version(),
        "ttnn": str(package_dir),
        "python": sys.executable,
    }
    (target / _STAMP_NAME).write_text(json.dumps(stamp, indent=1), encoding="utf-8")


def prepare_runtime(cache: Path | None = None) -> MockRuntime:
    """Build (once) and return the mock runtime for the installed ttnn. Safe to call from parallel processes."""
    binutils = find_binutils()
    package_dir = ttnn_package_dir()
    version = ttnn_version()
    base = (cache if cache is not None else cache_dir()) / "ttnn-mock"
    version_dir = base / f"{version}-{_runtime_key(package_dir)}"
    if any(character.isspace() for character in str(version_dir)):
        raise MockSetupError(
            f"the ttnn mock runtime cannot live in {base}: tt-metal runs the kernel compiler through a shell without "
            f"quoting, so the path must not contain whitespace; set {CACHE_DIR_ENV} to a folder without spaces"
        )
    runtime = MockRuntime(version_dir / "root", version_dir / "kernel-cache", version)
    if _is_complete(version_dir):
        return runtime
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _is_complete(version_dir):  # another process finished it while we waited
            return runtime
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=base))
        staging.chmod(0o755)  # mkdtemp makes it private; the runtime is an ordinary cache folder
        try:
            _build(staging, package_dir, binutils)
            if version_dir.exists():  # a half-built or broken leftover: move it aside, then drop it
                stale = Path(tempfile.mkdtemp(prefix=".stale-", dir=base))
                version_dir.rename(stale / "old")
                shutil.rmtree(stale, ignore_errors=True)
            staging.rename(version_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return runtime


def mock_environ(arch: str, cache: Path | None = None) -> dict[str, str]:
    """Prepare the runtime and return the environment for a (sub)process that should open the mocked ``arch``."""
    cluster_for(arch)
    return prepare_runtime(cache).environ(arch)


@dataclass
class MockSystem:
    """The mocked cluster this process runs on, with the ttnn namespace that dry-runs it."""

    cluster: MockCluster
    environ: dict[str, str]
    _api: Any = field(default=None, repr=False)

    @property
    def arch(self) -> str:
        return self.cluster.name

    @property
    def api(self) -> Any:
        """The ttnn-shaped namespace (``pytest_ttpose.mock.api.MockTtnn``) for this process."""
        if self._api is None:
            from pytest_ttpose.mock.api import MockTtnn

            self._api = MockTtnn()
        return self._api

    def open(self, **device_params: Any) -> Any:
        """Open the whole mocked system with ``device_params``: a device, or its mesh when its chips are linked.

        The device is bound to ``self.api``, so model code that asks ``api_for(device)`` dry-runs through it.
        """
        if self.cluster.is_mesh:
            ttnn = self.api
            return ttnn.open_mesh_device(ttnn.MeshShape(*self.cluster.mesh_shape), **device_params)
        return self.api.open_device(device_id=0, **device_params)

    def close(self, device: Any) -> None:
        if self.cluster.is_mesh:
            self.api.close_mesh_device(device)
        else:
            self.api.close_device(device)


_active: MockSystem | None = None


def active_system() -> MockSystem | None:
    """The mocked system ``activate`` switched this process to, if any."""
    return _active


def activate(arch: str, cache: Path | None = None) -> MockSystem:
    """Switch this process onto the mocked cluster ``arch`` (once; before ttnn is imported).

    Calling it again with the same arch returns the same system. Another arch, or a ttnn already imported with a
    different environment, raises ``MockClusterConflict``: the cluster is fixed per process.
    """
    global _active
    cluster = cluster_for(arch)
    if _active is not None:
        if _active.cluster == cluster:
            return _active
        raise MockClusterConflict(
            f"this process already runs the mocked {_active.arch} cluster; ttnn fixes the cluster per process, so "
            f"run {arch} in a subprocess with the environment from pytest_ttpose.mock.mock_environ({arch!r})"
        )
    environ = mock_environ(arch, cache)
    if "ttnn" in sys.modules:
        differing = [name for name in PROCESS_FIXED_ENV if os.environ.get(name) != environ[name]]
        if differing:
            raise MockClusterConflict(
                f"ttnn was imported before the mock {arch} environment was set ({', '.join(differing)} differ), and "
                f"ttnn reads it only once: call pytest_ttpose.mock.activate({arch!r}) before anything imports ttnn, "
                f"or run in a subprocess with the environment from pytest_ttpose.mock.mock_environ({arch!r})"
            )
    os.environ.update(environ)
    _active = MockSystem(cluster, environ)
    return _active
