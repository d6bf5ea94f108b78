"""``python -m pytest_ttpose.doctor`` on fake machines (a file tree standing in for /dev, /sys and /opt) and on the
mocked systems of the dry run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ttpose.doctor import Machine, diagnose, required_sfpi_version

SFPI_VERSION_FILE = "# sfpi release 7.89.0\nsfpi_version='7.89.0'\nsfpi_build='1050'\n"


def fake_machine(root: Path, *, cards: int, driver: bool, hugepages: int, sfpi: bool, tt_smi: bool) -> Machine:
    """A machine tree under ``root``: device nodes, the driver's sysfs, 1G hugepages, ttnn's sfpi-version file."""
    (root / "dev").mkdir(parents=True)
    for card in range(cards):
        (root / "dev" / str(card)).touch()
    if driver:
        (root / "module").mkdir()
        (root / "module" / "version").write_text("2.4.1\n")
        for card in range(cards):
            (root / "class" / f"tenstorrent!{card}").mkdir(parents=True)
            (root / "class" / f"tenstorrent!{card}" / "tt_fw_bundle_ver").write_text("18.7.0\n")
    (root / "hugepages").mkdir()
    (root / "hugepages" / "nr_hugepages").write_text(f"{hugepages}\n")
    ttnn_dir = root / "ttnn"
    (ttnn_dir / "tt_metal").mkdir(parents=True)
    (ttnn_dir / "tt_metal" / "sfpi-version").write_text(SFPI_VERSION_FILE)
    if sfpi:
        (root / "opt-sfpi" / "compiler" / "bin").mkdir(parents=True)
        (root / "opt-sfpi" / "compiler" / "bin" / "riscv-tt-elf-g++").touch()
        (root / "opt-sfpi" / "sfpi.version").write_text("7.89.0\n")
    return Machine(
        device_dir=root / "dev",
        driver_dir=root / "module",
        device_class_dir=root / "class",
        hugepages_dir=root / "hugepages",
        system_sfpi_dir=root / "opt-sfpi",
        ttnn_dir=ttnn_dir,
        which=lambda tool: f"/usr/bin/{tool}" if tool == "tt-smi" and tt_smi else None,
    )


def by_name(report: object) -> dict[str, object]:
    return {check.name: check for check in report.checks}  # type: ignore[attr-defined]


def test_a_machine_without_hardware_says_so_and_what_runs_instead(tmp_path: Path) -> None:
    report = diagnose(fake_machine(tmp_path, cards=0, driver=False, hugepages=0, sfpi=False, tt_smi=False))
    checks = by_name(report)
    assert not report.has_hardware
    assert all(check.status in ("info", "ok") for check in report.checks)  # nothing is a failure without hardware
    assert "no TT hardware" in checks["device nodes"].detail  # type: ignore[attr-defined]
    plan = checks["without hardware"].detail  # type: ignore[attr-defined]
    assert "CPU emulator" in plan and "--ttpose-mesh-shape" in plan
    assert "t3k (wormhole_b0, mesh 2x4)" in plan or "binutils-riscv64-unknown-elf" in plan


def test_a_ready_machine_passes_every_prerequisite(tmp_path: Path) -> None:
    machine = fake_machine(tmp_path, cards=2, driver=True, hugepages=2, sfpi=True, tt_smi=True)
    checks = by_name(diagnose(machine))
    for name in ("device nodes", "driver (tt-kmd)", "firmware", "hugepages (1G)", "sfpi kernel compiler", "tt-smi"):
        assert checks[name].status == "ok", checks[name]  # type: ignore[attr-defined]
    assert "18.7.0" in checks["firmware"].detail  # type: ignore[attr-defined]
    assert "7.89.0" in checks["sfpi kernel compiler"].detail  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("broken", "name", "fix_mentions"),
    [
        ({"driver": False}, "driver (tt-kmd)", "modprobe tenstorrent"),
        ({"hugepages": 1}, "hugepages (1G)", "hugepagesz=1G"),
        ({"sfpi": False}, "sfpi kernel compiler", "install sfpi 7.89.0"),
    ],
)
def test_each_missing_prerequisite_fails_with_its_fix(
    tmp_path: Path, broken: dict[str, object], name: str, fix_mentions: str
) -> None:
    settings: dict[str, object] = {"cards": 2, "driver": True, "hugepages": 2, "sfpi": True, "tt_smi": True}
    settings.update(broken)
    report = diagnose(fake_machine(tmp_path, **settings))  # type: ignore[arg-type]
    check = by_name(report)[name]
    assert check.status == "missing"  # type: ignore[attr-defined]
    assert fix_mentions in check.fix  # type: ignore[attr-defined]
    assert not report.ready
    assert "NOT ready" in report.text()


@pytest.mark.requires_ttnn
def test_the_required_sfpi_version_is_read_from_the_installed_ttnn() -> None:
    import importlib.util

    spec = importlib.util.find_spec("ttnn")
    assert spec is not None and spec.origin is not None
    version = required_sfpi_version(Path(spec.origin).parent)
    assert version is not None and version.count(".") == 2


@pytest.mark.requires_ttnn
def test_the_doctor_opens_mocked_systems_and_explains_the_galaxy() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest_ttpose.doctor", "--json", "--probe-mock", "t3k", "2xp150-unlinked", "galaxy"],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    checks = {check["name"]: check for check in json.loads(completed.stdout)["checks"]}
    assert checks["mocked t3k"]["detail"] == "8 chip(s), system mesh 2x4, opened 2x4"
    assert checks["mocked 2xp150-unlinked"]["detail"] == "2 chip(s), system mesh 1x1, opened 1x1 (single device)"
    assert checks["mocked galaxy"]["status"] == "warning"
    assert "Two ASICs in the physical system descriptor share the address" in checks["mocked galaxy"]["detail"]
