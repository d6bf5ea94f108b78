"""Throughput of the YOLO11-pose runners: basic path vs traced two-queue runner, next to the fp32 torch reference.

Prints images/s of the torch reference, of the basic path (no trace, one command queue) and of the performant runner
(trace + 2 CQs + DRAM-sharded staging), and the performant/basic ratio, for every resolution x batch in one run.
Timing covers ``run(x)`` including the host-side input conversion and the device synchronize, as tt-metal's e2e
test does, after warm-up calls; the output is not read back. Nothing is asserted: this prints figures.

    python benchmarks/bench_runner.py                      # emulator, 640x640 and 320x320, batch 1 and 2
    python benchmarks/bench_runner.py --backend ttnn       # a real TT device
    python benchmarks/bench_runner.py --resolutions 320x320 --batches 1 --iterations 3
    python benchmarks/bench_runner.py --clock cpu          # process CPU time: steadier on a busy machine
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import torch

from pytest_ttpose.reference import build_reference
from pytest_ttpose.runner import YOLOv11PoseBasicRunner, YOLOv11PosePerformantRunner
from pytest_ttpose.tt.device_params import device_params


@dataclass(frozen=True)
class Row:
    resolution: tuple[int, int]
    batch: int
    torch_fps: float
    basic_fps: float
    performant_fps: float

    @property
    def ratio(self) -> float:
        return self.performant_fps / self.basic_fps


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def seconds_per_call(call: Callable[[], Any], warmup: int, iterations: int, clock: Callable[[], float]) -> float:
    """Median time of ``call`` on ``clock`` over ``iterations`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(iterations):
        start = clock()
        call()
        times.append(clock() - start)
    return statistics.median(times)


def backend_module(name: str, arch: str) -> ModuleType:
    if name == "emulator":
        from pytest_ttpose.emulator import machine

        machine.set_machine(arch, num_devices=1)
        return importlib.import_module("pytest_ttpose.emulator")
    return importlib.import_module("ttnn")


def measure(api: ModuleType, args: argparse.Namespace, resolution: tuple[int, int], batch: int) -> Row:
    reference = build_reference(scale=args.scale, weights=args.weights, seed=0)
    images = torch.rand((batch, 3, *resolution), generator=torch.Generator().manual_seed(0))
    clock = CLOCKS[args.clock]
    with torch.no_grad():
        torch_seconds = seconds_per_call(lambda: reference(images), args.warmup, args.iterations, clock)

    kwargs: dict[str, Any] = {
        "device_batch_size": batch,
        "act_dtype": getattr(api, args.act_dtype),
        "weight_dtype": getattr(api, args.weight_dtype),
        "resolution": resolution,
        "reference_model": reference,
        "torch_input_tensor": images,
    }
    device = api.open_device(device_id=args.device_id, **device_params(api.get_arch_name(), "device"))
    try:
        # The basic runner goes first and is released before the trace exists: buffers allocated while a trace
        # is alive may sit where the trace keeps its intermediates.
        with YOLOv11PoseBasicRunner(device, **kwargs) as basic:
            basic_seconds = seconds_per_call(lambda: basic.run(images), args.warmup, args.iterations, clock)
        with YOLOv11PosePerformantRunner(device, validate_on_capture=False, **kwargs) as performant:
            performant_seconds = seconds_per_call(lambda: performant.run(images), args.warmup, args.iterations, clock)
    finally:
        api.close_device(device)
    return Row(resolution, batch, batch / torch_seconds, batch / basic_seconds, batch / performant_seconds)


def resolution_arg(text: str) -> tuple[int, int]:
    height, _, width = text.lower().partition("x")
    return int(height), int(width or height)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["emulator", "ttnn"], default="emulator")
    parser.add_argument("--arch", choices=["wormhole_b0", "blackhole"], default="wormhole_b0", help="emulated arch")
    parser.add_argument("--device-id", type=int, default=0)
    parser.add_argument("--resolutions", type=resolution_arg, nargs="+", default=[(640, 640), (320, 320)])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scale", default="n")
    parser.add_argument("--weights", default=None, help="a .pt/.pth file; default: the seeded reference init")
    parser.add_argument("--act-dtype", default="bfloat8_b", choices=["bfloat8_b", "bfloat16"])
    parser.add_argument("--weight-dtype", default="bfloat8_b", choices=["bfloat8_b", "bfloat16"])
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (reference and emulator)")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time (a real device); cpu = this process's CPU time, steadier for the emulator on a busy machine",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[Row]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    api = backend_module(args.backend, args.arch)
    where = f"emulator ({args.arch})" if args.backend == "emulator" else f"ttnn device {args.device_id}"
    print(
        f"YOLO11{args.scale}-pose on {where}, act {args.act_dtype}, weights {args.weight_dtype}, "
        f"median {args.clock} time of {args.iterations} calls after {args.warmup} warm-up, torch threads {args.threads}"
    )
    header = f"{'resolution':>10} {'batch':>5} {'torch fp32':>11} {'basic':>9} {'trace+2CQ':>10} {'speedup':>8}"
    print(header + "\n" + "-" * len(header))
    rows = []
    for resolution in args.resolutions:
        for batch in args.batches:
            row = measure(api, args, resolution, batch)
            rows.append(row)
            print(
                f"{row.resolution[0]:>5}x{row.resolution[1]:<4} {row.batch:>5} {row.torch_fps:>11.2f} "
                f"{row.basic_fps:>9.2f} {row.performant_fps:>10.2f} {row.ratio:>7.2f}x",
                flush=True,
            )
    print("images/s; speedup = trace+2CQ / basic on the same device")
    return rows


if __name__ == "__main__":
    main()
