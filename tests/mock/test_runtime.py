"""The mock runtime root: built once, safely in parallel, with a working stub toolchain and clear setup errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ttpose.mock import CLUSTERS, INSTALL_HINT, MockSetupError, MockToolchainMissing, prepare_runtime
from pytest_ttpose.mock.runtime import CLUSTER_ENV, KERNEL_CACHE_ENV, ROOT_ENV, cluster_for, ttnn_package_dir

pytestmark = pytest.mark.skipif(
    shutil.which("riscv64-unknown-elf-ld") is None, reason=f"needs RISC-V binutils: {INSTALL_HINT}"
)


def test_prepare_builds_a_root_that_links_into_the_installed_ttnn(tmp_path: Path) -> None:
    runtime = prepare_runtime(tmp_path)
    package = ttnn_package_dir()
    assert (runtime.root / "tt_metal").resolve() == (package / "tt_metal").resolve()
    assert (runtime.root / "runtime" / "hw").resolve() == (package / "runtime" / "hw").resolve()
    assert runtime.kernel_cache.is_dir()
    assert runtime.root.is_relative_to(tmp_path) and not runtime.root.is_relative_to(package)
    version = subprocess.run([str(runtime.compiler), "--version"], capture_output=True, text=True, check=True)
    assert "riscv-tt-elf-g++" in version.stdout


def test_prepare_is_idempotent(tmp_path: Path) -> None:
    first = prepare_runtime(tmp_path)
    compiler_stat = first.compiler.stat()
    second = prepare_runtime(tmp_path)
    assert second == first
    assert second.compiler.stat().st_ino == compiler_stat.st_ino  # not rebuilt
    assert second.compiler.stat().st_mtime_ns == compiler_stat.st_mtime_ns
    assert len(list((tmp_path / "ttnn-mock").iterdir())) == 2  # the runtime and the lock file, nothing left over


def test_prepare_replaces_a_half_built_runtime(tmp_path: Path) -> None:
    runtime = prepare_runtime(tmp_path)
    stamp = runtime.root.parent / "ttpose-mock-runtime.json"
    stamp.unlink()  # as if a process died before finishing
    assert prepare_runtime(tmp_path) == runtime
    assert json.loads(stamp.read_text())["ttnn"] == str(ttnn_package_dir())


def test_parallel_prepares_agree_on_one_runtime(tmp_path: Path) -> None:
    code = "import sys; from pathlib import Path; from pytest_ttpose.mock import prepare_runtime; "
    code += "print(prepare_runtime(Path(sys.argv[1])).root)"
    workers = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    roots = {worker.communicate(timeout=120)[0].strip() for worker in workers}
    assert all(worker.returncode == 0 for worker in workers)
    assert len(roots) == 1
    leftovers = [path.name for path in (tmp_path / "ttnn-mock").iterdir() if path.name.startswith(".st")]
    assert leftovers == []


def test_environ_points_ttnn_at_the_runtime_and_the_cluster(tmp_path: Path) -> None:
    runtime = prepare_runtime(tmp_path)
    for arch, cluster in CLUSTERS.items():
        environ = runtime.environ(arch)
        assert environ[ROOT_ENV] == f"{runtime.root}{os.sep}"  # tt-metal appends relative paths to it
        assert environ[KERNEL_CACHE_ENV].startswith(str(runtime.kernel_cache))
        assert Path(environ[CLUSTER_ENV]) == cluster.descriptor_path
        assert cluster.descriptor_path.is_file()


def test_missing_binutils_say_how_to_install_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no riscv64-unknown-elf-* here
    with pytest.raises(MockToolchainMissing, match="apt-get install binutils-riscv64-unknown-elf"):
        prepare_runtime(tmp_path)


def test_a_cache_path_with_spaces_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(MockSetupError, match="TTPOSE_CACHE_DIR to a folder without spaces"):
        prepare_runtime(tmp_path / "my cache")


def test_unknown_arch_lists_the_choices() -> None:
    with pytest.raises(MockSetupError, match="n150, n300, t3k, galaxy, p150, 2xp150"):
        cluster_for("n151")


def test_stub_compiler_produces_an_elf_with_relocations(tmp_path: Path) -> None:
    runtime = prepare_runtime(tmp_path)
    obj, elf = tmp_path / "kernel.o", tmp_path / "kernel.elf"
    subprocess.run([str(runtime.compiler), "-c", "kernel.cpp", "-MMD", "-o", str(obj)], check=True)
    assert obj.stat().st_size > 0 and obj.with_suffix(".d").is_file()
    script = runtime.root / "runtime" / "hw" / "toolchain" / "blackhole" / "kernel_brisc.ld"
    firmware = next((runtime.root / "tt_metal" / "pre-compiled").glob("*/brisc/brisc_weakened.elf"), None)
    if firmware is None:
        pytest.skip("this ttnn wheel ships no pre-compiled Blackhole brisc firmware to link against")
    link = [str(runtime.compiler), f"-Wl,--just-symbols={firmware}", f"-T{script}", "-Wl,--emit-relocs"]
    subprocess.run([*link, "-Wl,-z,max-page-size=16", str(obj), "-o", str(elf)], check=True)
    sections = subprocess.run(["riscv64-unknown-elf-readelf", "-S", str(elf)], capture_output=True, text=True)
    assert (
        "ELF32"
        in subprocess.run(["riscv64-unknown-elf-readelf", "-h", str(elf)], capture_output=True, text=True).stdout
    )
    assert ".rela" in sections.stdout  # ttnn's loader refuses an ELF without a relocation section
