"""Speed of the emulator against plain fp32 torch on the same inputs: prints a table, asserts nothing.

Run: ``python tests/emulator/bench_emulator.py [--threads N] [--repeat N] [--clock wall|cpu] [--no-model]``. Rows: one
conv2d, one matmul, a YOLO11n-sized conv stack (every conv of yolo11n's backbone/neck at 640x640, bfloat8_b, LoFi),
and, when the TT model package is present, the whole TT YOLO11n-pose model (bfloat8_b) against the fp32 torch
reference. The figure that matters is ``ratio`` = emulator time / fp32 torch time (target: <= 2 for the whole model).
Each repeat times the emulator and then torch, so both sides of a ratio see the same machine load; ``--clock cpu``
measures this process's CPU time instead of wall time, which a busy machine disturbs less. Both sides allocate
large tensors, so glibc's malloc state (which the emulator's own allocations shift) moves the torch figures too: for
figures that compare runs, fix it, e.g. ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator import machine

# (in_channels, out_channels, kernel, stride, input size) of yolo11n's convs at 640x640 (one entry per distinct conv)
YOLO11N_CONVS = [
    (3, 16, 3, 2, 640),
    (16, 32, 3, 2, 320),
    (32, 32, 1, 1, 160),
    (16, 8, 3, 1, 160),
    (8, 16, 3, 1, 160),
    (48, 64, 1, 1, 160),
    (64, 64, 3, 2, 160),
    (64, 64, 1, 1, 80),
    (32, 16, 3, 1, 80),
    (16, 32, 3, 1, 80),
    (96, 128, 1, 1, 80),
    (128, 128, 3, 2, 80),
    (128, 128, 1, 1, 40),
    (64, 32, 1, 1, 40),
    (32, 32, 3, 1, 40),
    (64, 64, 1, 1, 40),
    (192, 128, 1, 1, 40),
    (128, 256, 3, 2, 40),
    (256, 256, 1, 1, 20),
    (128, 64, 1, 1, 20),
    (64, 64, 3, 1, 20),
    (128, 128, 1, 1, 20),
    (384, 256, 1, 1, 20),
    (256, 128, 1, 1, 20),
    (512, 256, 1, 1, 20),
]


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def _time_pair(
    emulated: Callable[[], object], reference: Callable[[], object], repeat: int, clock: Callable[[], float]
) -> tuple[float, float]:
    """Median seconds of ``emulated`` and of ``reference``, timed alternately so both see the same load."""
    emulated()  # warm-up: first-call costs (allocation, weight preparation) are not steady state
    reference()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, times in ((emulated, samples[0]), (reference, samples[1])):
            start = clock()
            fn()
            times.append(clock() - start)
    return statistics.median(samples[0]), statistics.median(samples[1])


def _conv_case(device: ttnn.MeshDevice, cin: int, cout: int, k: int, s: int, size: int) -> tuple[Callable, Callable]:
    x = torch.randn(1, cin, size, size)
    w = torch.randn(cout, cin, k, k) * 0.1
    b = torch.randn(cout)
    flat = ttnn.from_torch(
        x.permute(0, 2, 3, 1).reshape(1, 1, -1, cin), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device
    )
    config = ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat8_b, activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU))
    compute = ttnn.init_device_compute_kernel_config(device.arch(), math_fidelity=ttnn.MathFidelity.LoFi)
    prepared: dict[str, object] = {"w": ttnn.from_torch(w), "b": ttnn.from_torch(b.reshape(1, 1, 1, -1))}

    def emulated() -> None:
        out, (weight, bias) = ttnn.conv2d(
            input_tensor=flat,
            weight_tensor=prepared["w"],
            bias_tensor=prepared["b"],
            device=device,
            in_channels=cin,
            out_channels=cout,
            batch_size=1,
            input_height=size,
            input_width=size,
            kernel_size=(k, k),
            stride=(s, s),
            padding=(k // 2, k // 2),
            dtype=ttnn.bfloat8_b,
            conv_config=config,
            compute_config=compute,
            return_weights_and_bias=True,
        )
        prepared["w"], prepared["b"] = weight, bias
        ttnn.deallocate(out)

    def reference() -> None:
        F.silu(F.conv2d(x, w, b, s, k // 2))

    return emulated, reference


def _matmul_case(device: ttnn.MeshDevice) -> tuple[Callable, Callable]:
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    ta = ttnn.from_torch(a, dtype=ttnn.bfloat8_b, device=device)
    tb = ttnn.from_torch(b, dtype=ttnn.bfloat8_b, device=device)
    compute = ttnn.init_device_compute_kernel_config(device.arch(), math_fidelity=ttnn.MathFidelity.LoFi)
    return (lambda: ttnn.deallocate(ttnn.matmul(ta, tb, compute_kernel_config=compute))), (lambda: a @ b)


def _model_case(device: ttnn.MeshDevice, resolution: int) -> tuple[Callable, Callable] | None:
    try:
        from pytest_ttpose.reference import build_reference
        from pytest_ttpose.tt import build_pose_model, input_to_host_tensor
    except ImportError:
        return None
    reference = build_reference("n", weights="seeded", seed=0).eval()
    model = build_pose_model(
        device,
        reference,
        batch_size=1,
        resolution=(resolution, resolution),
        act_dtype=ttnn.bfloat8_b,
        weight_dtype=ttnn.bfloat8_b,
    )
    images = torch.rand(1, 3, resolution, resolution)
    host = input_to_host_tensor(ttnn, images)

    def emulated() -> None:
        x = ttnn.to_device(host, device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
        model.output_to_torch(model(x))

    def fp32() -> None:
        with torch.no_grad():
            reference(images)

    return emulated, fp32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=640)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="wall time, or this process's CPU time")
    parser.add_argument("--no-model", action="store_true", help="skip the whole-model row")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    clock = CLOCKS[args.clock]
    machine.set_machine("wormhole_b0", 1)
    device = ttnn.open_device(device_id=0, l1_small_size=24576, trace_region_size=6434816, num_command_queues=2)
    rows: list[tuple[str, float, float]] = []
    load_before = os.getloadavg()[0]
    try:
        emulated, reference = _conv_case(device, 64, 64, 3, 1, 160)
        rows.append(("conv2d 64->64 3x3 @160x160", *_time_pair(emulated, reference, args.repeat, clock)))
        emulated, reference = _matmul_case(device)
        rows.append(("matmul 1024x1024x1024", *_time_pair(emulated, reference, args.repeat, clock)))
        cases = [_conv_case(device, *conv) for conv in YOLO11N_CONVS]
        stack = _time_pair(lambda: [c[0]() for c in cases], lambda: [c[1]() for c in cases], args.repeat, clock)
        rows.append((f"yolo11n conv stack ({len(cases)} convs)", *stack))
        if not args.no_model:
            model_case = _model_case(device, args.resolution)
            if model_case is not None:
                model = _time_pair(model_case[0], model_case[1], args.repeat, clock)
                rows.append((f"TT yolo11n-pose model @{args.resolution}", *model))
    finally:
        ttnn.close_device(device)
    print(
        f"threads={args.threads} repeat={args.repeat} clock={args.clock} (median seconds); "
        f"1-min load average {load_before:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    )
    print(f"{'case':40s} {'emulator':>10s} {'fp32 torch':>11s} {'ratio':>7s}")
    for name, emulated_s, torch_s in rows:
        print(f"{name:40s} {emulated_s:10.4f} {torch_s:11.4f} {emulated_s / torch_s:7.2f}")
    if rows[-1][0].startswith("TT yolo11n-pose model"):
        print(f"whole model: emulator / fp32 torch = {rows[-1][1] / rows[-1][2]:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
