"""Stand-in for sfpi's ``riscv-tt-elf-g++`` in a ttnn mock-cluster dry run (installed by pytest_ttpose.mock.runtime).

ttnn's JIT build refuses to start without the sfpi compiler and then compiles every kernel. Mock devices never run
kernels, so this stand-in only produces files ttnn's host side accepts: a version line, an object per compile, and
a real RISC-V ELF per link, linked by binutils from one prebuilt stub object with ttnn's own linker script. It must
stay standard-library only: it runs as ``python -I -S`` once per compile or link step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

STUB_OBJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_stub.o")
LINKER = "riscv64-unknown-elf-ld"
INSTALL_HINT = "apt-get install binutils-riscv64-unknown-elf"
# Page-size options tune the layout of a real program; the stub links without them.
_DROPPED_LINKER_OPTIONS = ("max-page-size=", "common-page-size=")


def _value_after(args: list[str], flag: str) -> str | None:
    for index, arg in enumerate(args[:-1]):
        if arg == flag:
            return args[index + 1]
    return None


def _linker_script(args: list[str]) -> str | None:
    for index, arg in enumerate(args):
        if arg == "-T" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("-T") and len(arg) > 2:
            return arg[2:]
    return None


def _linker_options(args: list[str]) -> list[str]:
    options: list[str] = []
    for arg in args:
        if not arg.startswith("-Wl,"):
            continue
        parts = arg[4:].split(",")
        index = 0
        while index < len(parts):
            part = parts[index]
            if part == "-z" and index + 1 < len(parts) and parts[index + 1].startswith(_DROPPED_LINKER_OPTIONS):
                index += 2
                continue
            options.append(part)
            index += 1
    return options


def _write_empty(path: str | None) -> None:
    if path is not None:
        with open(path, "wb"):
            pass


def _compile(args: list[str], output: str | None) -> int:
    if output is None:
        sys.stderr.write("riscv-tt-elf-g++ stub: a compile step needs -o <file>\n")
        return 1
    shutil.copyfile(STUB_OBJECT, output)
    if "-MMD" in args or "-MD" in args:
        dep_file = _value_after(args, "-MF") or os.path.splitext(output)[0] + ".d"
        with open(dep_file, "w", encoding="utf-8") as handle:
            handle.write(f"{output}:\n")
    return 0


def _link(args: list[str], output: str | None) -> int:
    linker = shutil.which(LINKER)
    if linker is None:
        sys.stderr.write(f"riscv-tt-elf-g++ stub: {LINKER} not found on PATH; install it with: {INSTALL_HINT}\n")
        return 1
    command = [linker, "-m", "elf32lriscv"]
    # Linker scripts INCLUDE their memory maps from the -L folders, which must be known before the script is read.
    command += [arg for arg in args if arg.startswith("-L") and len(arg) > 2]
    script = _linker_script(args)
    if script is not None:
        command.append(f"-T{script}")
    command += _linker_options(args)
    command += [STUB_OBJECT, "-o", output or "a.out"]
    return subprocess.call(command)


def main(args: list[str]) -> int:
    if "--version" in args or "-v" in args:
        sys.stdout.write("riscv-tt-elf-g++ (pytest-ttpose mock stub) 0\n")
        return 0
    output = _value_after(args, "-o")
    if "-c" in args:
        return _compile(args, output)
    if "-E" in args or "-S" in args or "-x" in args:
        _write_empty(output)
        return 0
    return _link(args, output)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
