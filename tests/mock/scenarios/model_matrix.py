"""Dry-run the TT YOLO11-pose model and the traced runner over matrix points on one mocked system.

Usage: python model_matrix.py <arch> <point> [<point> ...] [--weights real|seeded] [--no-runner] [--inject NAME]

A point is ``<act dtype>/<weight dtype>:<H>x<W>:b<per-device batch>``, e.g. ``bfloat8_b/bfloat8_b:640x640:b2``.
All points run in this one process, so they share ttnn's start-up and the kernel cache. For each point:

1. the TT model is built on the device (the reference weights, BN folded) and one forward runs on an L1
   height-sharded input (the runner's input config) under ``measure_fit``: every op goes through real ttnn's
   validation and allocator, and the graph capture gives the L1 fit;
2. the traced runner is built on the same model: compile run, cached run and trace capture (trace and events go
   through the validated stand-in), two replays, release;
3. what the device holds afterwards is compared with what it held before the point (DRAM and L1, per bank).

A rejection (ttnn raises) is recorded with its message and the run goes on with the next point. ``--inject``
deliberately breaks the model run, to prove the dry run fails with ttnn's own message:

* ``oversized-l1-shard``: the model input is height-sharded on ONE core instead of the whole grid;
* ``wrong-in-channels``: model layer 1's conv2d is called with one input channel more than its weights have.

The result (one JSON line) lists every point with its fit report, timings and the error, if any.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any

from _scenario import report

from pytest_ttpose.mock import activate, measure_fit

INJECTIONS = ("oversized-l1-shard", "wrong-in-channels")
INJECTED_CONV_LAYER = 1  # model.1: the first stride-2 Conv after the stem (16 -> 32 channels at scale n)


@dataclass(frozen=True)
class Point:
    act_dtype: str
    weight_dtype: str
    height: int
    width: int
    batch: int  # per device

    @classmethod
    def parse(cls, text: str) -> Point:
        try:
            dtypes, size, batch = text.split(":")
            act, weight = dtypes.split("/")
            height, width = (int(v) for v in size.split("x"))
            if not batch.startswith("b"):
                raise ValueError(batch)
            return cls(act, weight, height, width, int(batch[1:]))
        except ValueError:
            raise SystemExit(f"bad point {text!r}: expected e.g. bfloat8_b/bfloat8_b:640x640:b2") from None

    @property
    def label(self) -> str:
        return f"{self.act_dtype}/{self.weight_dtype}:{self.height}x{self.width}:b{self.batch}"


class _ConvArgumentOverride:
    """A ttnn namespace that forwards everything, but changes given ``conv2d`` keyword arguments (for injection)."""

    def __init__(self, ttnn: Any, **overrides: Any) -> None:
        self._ttnn = ttnn
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ttnn, name)

    def conv2d(self, **kwargs: Any) -> Any:
        return self._ttnn.conv2d(**{**kwargs, **self._overrides})


def _memory(ttnn: Any, device: Any) -> dict[str, int]:
    l1 = ttnn.get_memory_view(device, ttnn.BufferType.L1)
    dram = ttnn.get_memory_view(device, ttnn.BufferType.DRAM)
    return {
        "l1_per_bank": int(l1.total_bytes_allocated_per_bank),
        "dram_per_bank": int(dram.total_bytes_allocated_per_bank),
    }


def _first_line(message: str) -> str:
    """ttnn's message without its C++ backtrace (the ``info:`` line of a TT_THROW / TT_FATAL, and its location)."""
    lines = [line for line in message.split("\nbacktrace:")[0].splitlines() if line.strip() and line != "info:"]
    return " | ".join(line.strip() for line in lines if line.strip() != "tt::exception")


def _describe_failure(error: BaseException) -> dict[str, Any]:
    """Which model layer and which op call the error came from, read from the traceback's frames."""
    where: dict[str, Any] = {}
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        filename = frame.f_code.co_filename
        if "pytest_ttpose" in filename:
            where["call"] = (
                f"{filename.rsplit('pytest_ttpose', 1)[-1].lstrip('/')}:{tb.tb_lineno} {frame.f_code.co_name}"
            )
            local = frame.f_locals
            if frame.f_code.co_name == "run" and "index" in local:
                where["layer"] = f"model.{local['index']}"
            owner = local.get("self")
            if type(owner).__name__ in ("Conv", "DWConv") and "x" in local:
                x = local["x"]
                where["conv"] = (
                    f"{owner.in_channels}->{owner.out_channels} k{owner.kernel_size} s{owner.stride} "
                    f"g{owner.groups} on {x.batch}x{x.height}x{x.width}"
                )
                memory_config = getattr(x.tensor, "memory_config", None)
                if callable(memory_config):
                    where["conv_input"] = str(memory_config())
        tb = tb.tb_next
    return where


def run_point(device: Any, ttnn: Any, reference: Any, point: Point, *, with_runner: bool, inject: str | None) -> dict:
    import torch

    from pytest_ttpose.runner import YOLOv11PosePerformantRunner
    from pytest_ttpose.runner.infra import deallocate_if_allocated, tensors_held_by
    from pytest_ttpose.runner.inputs import height_sharded_config, l1_input_config
    from pytest_ttpose.tt import build_pose_model, input_to_host_tensor

    result: dict[str, Any] = {"point": point.label, "stage": "build", "seconds": {}}
    before = _memory(ttnn, device)
    act, weight = getattr(ttnn, point.act_dtype), getattr(ttnn, point.weight_dtype)
    model: Any = None
    device_input: Any = None
    started = time.perf_counter()
    try:
        model = build_pose_model(
            device,
            reference,
            batch_size=point.batch,
            resolution=(point.height, point.width),
            act_dtype=act,
            weight_dtype=weight,
        )
        result["seconds"]["build"] = round(time.perf_counter() - started, 2)
        chips = int(device.get_num_devices())
        images = torch.rand(
            (point.batch * chips, 3, point.height, point.width), generator=torch.Generator().manual_seed(0)
        )
        host = input_to_host_tensor(ttnn, images, mesh_mapper=model.input_mesh_mapper())
        shape = (point.batch, 3, point.height, point.width)  # one chip's NCHW share
        if inject == "oversized-l1-shard":
            one_core = type("OneCore", (), {"x": 1, "y": 1})()
            input_config = height_sharded_config(ttnn, shape, one_core, ttnn.BufferType.L1)
        else:
            input_config = l1_input_config(ttnn, device, shape)
        if inject == "wrong-in-channels":
            conv = model.layers[INJECTED_CONV_LAYER]
            conv.ctx = type(conv.ctx)(
                **{**vars(conv.ctx), "ttnn": _ConvArgumentOverride(ttnn, in_channels=conv.in_channels + 1)}
            )

        result["stage"] = "forward"
        started = time.perf_counter()

        def forward() -> Any:
            nonlocal device_input
            device_input = ttnn.to_device(host, device, memory_config=input_config)
            return model(device_input)

        output, fit = measure_fit(device, forward)
        result["seconds"]["forward"] = round(time.perf_counter() - started, 2)
        result["output_shape"] = [int(d) for d in output.shape]
        result["fit"] = fit.as_dict()
        result["fit_text"] = str(fit)
        deallocate_if_allocated(ttnn, output)
        deallocate_if_allocated(ttnn, device_input)

        if with_runner:
            result["stage"] = "runner"
            started = time.perf_counter()
            activity_before = dict(ttnn.trace_activity())
            runner = YOLOv11PosePerformantRunner(
                device,
                point.batch,
                act,
                weight,
                (point.height, point.width),
                reference_model=reference,
                model_builder=lambda *args, **kwargs: model,
                validate_on_capture=False,
            )
            model = None  # the runner owns it now and frees it on release
            try:
                for _ in range(2):
                    replayed = runner.run()
                result["runner_output_shape"] = [int(d) for d in replayed.shape]
            finally:
                runner.release()
            activity = ttnn.trace_activity()
            result["trace_activity"] = {key: activity[key] - activity_before.get(key, 0) for key in activity}
            result["seconds"]["runner"] = round(time.perf_counter() - started, 2)
        result["stage"] = "done"
    except Exception as error:  # a rejection by ttnn (RuntimeError) or by the project's own checks
        result["error"] = {"type": type(error).__name__, "message": _first_line(str(error)), **_describe_failure(error)}
    finally:
        if model is not None:
            for tensor in tensors_held_by(ttnn, model, skip=(device,)):
                deallocate_if_allocated(ttnn, tensor)
        if device_input is not None:
            deallocate_if_allocated(ttnn, device_input)
    result["memory_before"] = before
    result["memory_after"] = _memory(ttnn, device)
    # What is still held with the program cache emptied too (programs keep their config tensors alive).
    device.clear_program_cache()
    result["memory_after_program_cache_cleared"] = _memory(ttnn, device)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("arch")
    parser.add_argument("points", nargs="+")
    parser.add_argument("--weights", choices=("real", "seeded"), default="real")
    parser.add_argument("--no-runner", action="store_true")
    parser.add_argument("--inject", choices=INJECTIONS)
    args = parser.parse_args()
    points = [Point.parse(text) for text in args.points]

    started = time.perf_counter()
    system = activate(args.arch)
    import torch

    torch.set_num_threads(1)
    from pytest_ttpose.reference import build_reference
    from pytest_ttpose.tt.device_params import device_params

    reference = build_reference("n", weights=None if args.weights == "real" else "seeded")
    device = system.open(**device_params(system.cluster.chip_arch, "mesh" if system.cluster.is_mesh else "device"))
    ttnn = system.api
    startup = time.perf_counter() - started
    results = []
    for point in points:
        point_started = time.perf_counter()
        outcome = run_point(device, ttnn, reference, point, with_runner=not args.no_runner, inject=args.inject)
        outcome["seconds"]["total"] = round(time.perf_counter() - point_started, 2)
        print(
            f"[{args.arch}] {point.label}: {outcome.get('fit_text', outcome.get('error'))}", file=sys.stderr, flush=True
        )
        results.append(outcome)
    system.close(device)
    report(
        {
            "arch": args.arch,
            "weights": reference.weights_source,
            "startup_seconds": round(startup, 2),
            "total_seconds": round(time.perf_counter() - started, 2),
            "points": results,
        }
    )


if __name__ == "__main__":
    main()
