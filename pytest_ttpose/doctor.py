"""``python -m pytest_ttpose.doctor``: is this machine ready to run the suites on Tenstorrent hardware?

Checks, each with a fix: device nodes, the tt-kmd driver, firmware, 1G hugepages, the sfpi kernel compiler, ttnn,
tt-smi, and which systems and meshes can open (ttnn's own count and system mesh on hardware). On a machine without
hardware it says so, and says what the emulator and the dry run do instead. Pure reads of the file system and of
package metadata, except the hardware topology (which imports ttnn, only when device nodes exist) and
``--probe-mock`` (which opens each mocked system with the real ttnn in a subprocess).
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pytest_ttpose.harness.backends import EMULATOR_MAX_DEVICES, installed_ttnn_version, tt_device_ids
from pytest_ttpose.systems import SYSTEMS

Status = Literal["ok", "missing", "warning", "info"]

# ttnn 0.81's JIT build looks for the sfpi compiler here (its error: "sfpi not found at .../ttnn/runtime/sfpi or
# /opt/tenstorrent/sfpi").
SYSTEM_SFPI_DIR = Path("/opt/tenstorrent/sfpi")
INSTALLER_HINT = (
    "Tenstorrent's tt-installer sets up driver, firmware, hugepages and tt-smi in one go: "
    "https://github.com/tenstorrent/tt-installer"
)


@dataclass(frozen=True)
class Machine:
    """Where the doctor looks; tests point these at a fake machine."""

    device_dir: Path = Path("/dev/tenstorrent")
    driver_dir: Path = Path("/sys/module/tenstorrent")
    device_class_dir: Path = Path("/sys/class/tenstorrent")
    hugepages_dir: Path = Path("/sys/kernel/mm/hugepages/hugepages-1048576kB")
    system_sfpi_dir: Path = SYSTEM_SFPI_DIR
    ttnn_dir: Path | None = None  # the installed ttnn package; found without importing ttnn when None
    which: Callable[[str], str | None] = shutil.which


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        mark = {"ok": "ok  ", "missing": "FAIL", "warning": "warn", "info": "info"}[self.status]
        lines = [f"[{mark}] {self.name}: {self.detail}"]
        if self.fix:
            lines.append(f"       fix: {self.fix}")
        return lines


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    has_hardware: bool = False

    @property
    def ready(self) -> bool:
        return self.has_hardware and all(check.status != "missing" for check in self.checks)

    def text(self) -> str:
        lines = [line for check in self.checks for line in check.lines()]
        if self.has_hardware:
            lines.append("ready for the suites on hardware" if self.ready else "NOT ready: fix the FAIL items above")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "has_hardware": self.has_hardware,
            "ready": self.ready,
            "checks": [check.__dict__ for check in self.checks],
        }


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _ttnn_dir(machine: Machine) -> Path | None:
    if machine.ttnn_dir is not None:
        return machine.ttnn_dir
    spec = importlib.util.find_spec("ttnn")
    return None if spec is None or spec.origin is None else Path(spec.origin).resolve().parent


def required_sfpi_version(ttnn_dir: Path | None) -> str | None:
    """The sfpi release the installed ttnn was built against (``sfpi_version=`` in ``tt_metal/sfpi-version``)."""
    text = None if ttnn_dir is None else _read(ttnn_dir / "tt_metal" / "sfpi-version")
    for line in (text or "").splitlines():
        if line.startswith("sfpi_version="):
            return line.split("=", 1)[1].strip().strip("'\"")
    return None


def check_device_nodes(machine: Machine) -> Check:
    ids = tt_device_ids(machine.device_dir)
    if ids:
        return Check("device nodes", "ok", f"{len(ids)} PCIe card(s) at {machine.device_dir}: {ids}")
    return Check(
        "device nodes",
        "info",
        f"no Tenstorrent device under {machine.device_dir}: this machine has no TT hardware (or no driver loaded)",
        "on a TT machine, install and load the tt-kmd driver; " + INSTALLER_HINT,
    )


def check_driver(machine: Machine, has_hardware: bool) -> Check:
    version = _read(machine.driver_dir / "version")
    if version:
        return Check("driver (tt-kmd)", "ok", f"tenstorrent module loaded, version {version}")
    return Check(
        "driver (tt-kmd)",
        "missing" if has_hardware else "info",
        f"the tenstorrent kernel module is not loaded ({machine.driver_dir} is absent)",
        "install tt-kmd (https://github.com/tenstorrent/tt-kmd) and load it: sudo modprobe tenstorrent",
    )


def check_firmware(machine: Machine, has_hardware: bool) -> Check:
    versions = sorted(
        {
            text
            for path in glob.glob(str(machine.device_class_dir / "*" / "tt_fw_bundle_ver"))
            if (text := _read(Path(path)))
        }
    )
    if versions:
        return Check("firmware", "ok", f"firmware bundle {', '.join(versions)} (from the driver's sysfs)")
    return Check(
        "firmware",
        "warning" if has_hardware else "info",
        "the driver reports no firmware bundle version",
        "tt-smi shows the firmware of each card; flash the bundle your ttnn release names with tt-flash "
        "(https://github.com/tenstorrent/tt-flash)",
    )


def check_hugepages(machine: Machine, cards: int) -> Check:
    count_text = _read(machine.hugepages_dir / "nr_hugepages")
    count = int(count_text) if count_text and count_text.isdigit() else 0
    needed = max(cards, 1)
    fix = (
        "reserve 1G hugepages for the host-device queues, one per card: boot with 'hugepagesz=1G hugepages=N' or "
        "run tt-system-tools' hugepages setup (part of tt-installer)"
    )
    if count >= needed:
        return Check("hugepages (1G)", "ok", f"{count} reserved, {cards} card(s)")
    return Check(
        "hugepages (1G)",
        "missing" if cards else "info",
        f"{count} 1G hugepage(s) reserved, {needed} needed" + ("" if cards else " on a TT machine"),
        fix,
    )


def check_sfpi(machine: Machine, has_hardware: bool) -> Check:
    ttnn_dir = _ttnn_dir(machine)
    wanted = required_sfpi_version(ttnn_dir)
    candidates = ([ttnn_dir / "runtime" / "sfpi"] if ttnn_dir is not None else []) + [machine.system_sfpi_dir]
    for candidate in candidates:
        compiler = candidate / "compiler" / "bin" / "riscv-tt-elf-g++"
        if compiler.exists():
            found = _read(candidate / "sfpi.version") or "unknown version"
            matches = wanted is None or wanted in found
            return Check(
                "sfpi kernel compiler",
                "ok" if matches else "warning",
                f"{compiler} ({found}; ttnn wants {wanted or 'unknown'})",
                "" if matches else f"install sfpi {wanted} from https://github.com/tenstorrent/sfpi/releases",
            )
    return Check(
        "sfpi kernel compiler",
        "missing" if has_hardware else "info",
        f"not found at {' or '.join(str(c) for c in candidates)}; ttnn's open_device fails with 'sfpi not found'",
        f"install sfpi {wanted or '(the release in ttnn/tt_metal/sfpi-version)'} into {machine.system_sfpi_dir} "
        "from https://github.com/tenstorrent/sfpi/releases (the .deb/.rpm does), or let tt-installer do it",
    )


def check_ttnn(has_hardware: bool) -> Check:
    version = installed_ttnn_version()
    if version:
        return Check("ttnn", "ok", f"ttnn {version} installed")
    return Check(
        "ttnn",
        "missing" if has_hardware else "info",
        "ttnn is not installed (the emulator does not need it; hardware and the dry run do)",
        "pip install 'pytest-ttpose[ttnn]' (CPython 3.10 or 3.12)",
    )


def check_tt_smi(machine: Machine, has_hardware: bool) -> Check:
    path = machine.which("tt-smi")
    if path:
        return Check("tt-smi", "ok", f"{path}")
    return Check(
        "tt-smi",
        "warning" if has_hardware else "info",
        "tt-smi is not on PATH (it shows cards, firmware and telemetry, and resets a hung card: tt-smi -r)",
        "pip install tt-smi, or let tt-installer do it",
    )


def hardware_topology() -> Check:
    """ttnn's own view: every chip (an N300 has two behind one node) and the mesh the linked chips form."""
    try:
        from pytest_ttpose.harness.backends import BackendRequest, TtnnBackend

        topology = TtnnBackend(BackendRequest(arch=None, mesh_shape=None)).topology
    except Exception as error:  # noqa: BLE001 - any failure here is the finding the doctor reports
        return Check(
            "systems and meshes",
            "missing",
            f"ttnn could not enumerate the chips: {str(error).splitlines()[0]}",
            "fix the items above; tt-smi -r resets a card left in a bad state",
        )
    detail = (
        f"{topology.num_devices} chip(s); the linked chips form a {topology.system_mesh} mesh; "
        f"data-parallel cases open {topology.openable_examples()}"
    )
    if not topology.linked and topology.num_devices > 1:
        detail += "; the chips are not ethernet-linked, so _dp cases skip (run single-device cases with -n)"
    return Check("systems and meshes", "ok", detail)


def no_hardware_plan(machine: Machine) -> Check:
    mock_ready = installed_ttnn_version() is not None and machine.which("riscv64-unknown-elf-ld") is not None
    systems = ", ".join(f"{name} ({arch}, mesh {rows}x{cols})" for name, (arch, _, (rows, cols)) in SYSTEMS.items())
    dry_run = (
        f"the dry run (--ttpose-backend=ttnn-mock --ttpose-arch=NAME) runs the real ttnn on a mocked {systems}"
        if mock_ready
        else "the dry run needs ttnn and binutils-riscv64-unknown-elf (apt-get install binutils-riscv64-unknown-elf)"
    )
    return Check(
        "without hardware",
        "info",
        "pytest suites runs on the CPU emulator (real numerics, modelled speed; meshes up to "
        f"{EMULATOR_MAX_DEVICES} devices via --ttpose-mesh-shape); {dry_run}",
    )


def probe_mock_systems(names: Sequence[str]) -> list[Check]:
    """Open each mocked system with the real ttnn (one subprocess per system: the cluster is fixed per process)."""
    checks = []
    for name in names:
        completed = subprocess.run(
            [sys.executable, "-m", "pytest_ttpose.doctor", "--probe-one", name],
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
        if completed.returncode != 0 or not lines:
            tail = (completed.stdout + completed.stderr).strip().splitlines()[-1:] or ["no output"]
            checks.append(Check(f"mocked {name}", "warning", f"could not open: {tail[0]}"))
            continue
        result = json.loads(lines[-1])
        checks.append(Check(f"mocked {name}", "ok" if result["opened"] else "warning", result["detail"]))
    return checks


def ttnn_reason(error: BaseException) -> str:
    """The message of a ttnn TT_FATAL: the line after ``info:``, without the location and backtrace."""
    lines = [line.strip() for line in str(error).splitlines()]
    if "info:" in lines and lines.index("info:") + 1 < len(lines):
        return lines[lines.index("info:") + 1]
    return lines[0] if lines else type(error).__name__


def _probe_one(name: str) -> dict[str, object]:
    """In a fresh process: open the mocked system ``name`` and report ttnn's count, system mesh and opened mesh."""
    from pytest_ttpose.mock import activate
    from pytest_ttpose.tt.device_params import device_params

    system = activate(name)
    ttnn = system.api.real
    chips = int(ttnn.GetNumAvailableDevices())
    try:
        system_mesh = "x".join(str(d) for d in ttnn._ttnn.multi_device.SystemMeshDescriptor().shape())
        device = system.open(**device_params(system.cluster.chip_arch, "mesh" if system.cluster.is_mesh else "device"))
    except RuntimeError as error:
        return {"opened": False, "detail": f"{chips} chip(s); ttnn refuses to open it: {ttnn_reason(error)}"}
    opened = "x".join(str(d) for d in device.shape) if system.cluster.is_mesh else "1x1 (single device)"
    system.close(device)
    return {"opened": True, "detail": f"{chips} chip(s), system mesh {system_mesh}, opened {opened}"}


def diagnose(machine: Machine | None = None, *, probe_mock: Sequence[str] = ()) -> Report:
    machine = machine or Machine()
    cards = len(tt_device_ids(machine.device_dir))
    has_hardware = cards > 0
    report = Report(has_hardware=has_hardware)
    report.checks += [
        check_device_nodes(machine),
        check_driver(machine, has_hardware),
        check_firmware(machine, has_hardware),
        check_hugepages(machine, cards),
        check_sfpi(machine, has_hardware),
        check_ttnn(has_hardware),
        check_tt_smi(machine, has_hardware),
    ]
    prerequisites_ok = all(check.status != "missing" for check in report.checks)
    if has_hardware and prerequisites_ok:
        report.checks.append(hardware_topology())
    elif not has_hardware:
        report.checks.append(no_hardware_plan(machine))
    report.checks += probe_mock_systems(probe_mock)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_ttpose.doctor", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--probe-mock",
        nargs="*",
        metavar="SYSTEM",
        help=f"also open mocked systems with the real ttnn (default all: {', '.join(SYSTEMS)})",
    )
    parser.add_argument("--probe-one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe_one:
        os.environ.setdefault("TT_METAL_LOGGER_LEVEL", "error")
        sys.stdout.write(json.dumps(_probe_one(args.probe_one)) + "\n")
        return 0
    probe = list(SYSTEMS) if args.probe_mock == [] else list(args.probe_mock or [])
    report = diagnose(probe_mock=probe)
    sys.stdout.write((json.dumps(report.as_dict(), indent=1) if args.json else report.text()) + "\n")
    return 0 if report.ready or not report.has_hardware else 1


if __name__ == "__main__":
    raise SystemExit(main())
