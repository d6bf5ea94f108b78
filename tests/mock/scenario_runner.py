"""Run mock-cluster scenarios in subprocesses: ttnn fixes its (mocked) cluster per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCENARIO_DIR = Path(__file__).parent / "scenarios"
RESULT_PREFIX = "TTPOSE-MOCK-RESULT "


@dataclass(frozen=True)
class ScenarioRun:
    result: dict[str, Any]
    seconds: float


def run_scenario(name: str, *args: str, timeout: float = 600) -> ScenarioRun:
    """Run ``scenarios/<name>.py args...`` with the venv's Python and return the JSON it reports."""
    env = {**os.environ, "TT_METAL_LOGGER_LEVEL": os.environ.get("TT_METAL_LOGGER_LEVEL", "error")}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(SCENARIO_DIR / f"{name}.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.perf_counter() - started
    lines = [line[len(RESULT_PREFIX) :] for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        pytest.fail(f"scenario {name} {' '.join(args)} exited with {proc.returncode}:\n{tail}")
    print(f"[ttnn-mock] scenario {name} {' '.join(args)}: {seconds:.1f} s")  # shown with -s / in reports
    return ScenarioRun(json.loads(lines[-1]), seconds)


# The emulated machine that answers for each mocked cluster the scenarios run on.
EMULATED_ARCH = {"n150": "wormhole_b0", "p150": "blackhole"}


@contextmanager
def open_emulated_device(cluster: str) -> Iterator[Any]:
    """An emulated device of ``cluster``'s arch, opened as the scenarios open theirs; the default machine after."""
    import pytest_ttpose.emulator as emulator
    from pytest_ttpose.emulator import machine

    machine.set_machine(EMULATED_ARCH[cluster], 1)
    device = emulator.open_device(device_id=0, l1_small_size=24576, trace_region_size=6434816, num_command_queues=2)
    try:
        yield device
    finally:
        emulator.close_device(device)
        machine.set_machine("wormhole_b0", 1)
