"""The device performance model on hand-made descriptors: what each input changes, and the two-queue pipeline."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

import pytest_ttpose.devperf as devperf
from pytest_ttpose.devperf.constants import CONSTANTS
from pytest_ttpose.devperf.descriptors import (
    ConvWork,
    DeviceOp,
    Event,
    HostConvert,
    HostWrite,
    OpDesc,
    RecordEvent,
    Synchronize,
    TensorDesc,
    TraceLaunch,
    WaitEvent,
)
from pytest_ttpose.devperf.model import Hardware, price_op
from pytest_ttpose.devperf.pipeline import model_call

N150 = Hardware.of("n150")


def tensor(shape: tuple[int, ...], buffer: str = "DRAM", cores: int = 0, dtype: str = "BFLOAT8_B") -> TensorDesc:
    layout = "HEIGHT_SHARDED" if cores else "INTERLEAVED"
    return TensorDesc(shape, dtype, "TILE", buffer, layout, cores)  # type: ignore[arg-type]


def conv(fidelity: str = "LoFi", groups: int = 1, buffer: str = "DRAM", cores: int = 0, channels: int = 128) -> OpDesc:
    work = ConvWork(1, channels, channels, (3, 3), (40, 40), groups, halo=buffer == "L1")
    return OpDesc(
        "conv2d",
        (tensor((1, 1, 1600, channels), buffer, cores), tensor((1, 1, 9 * channels // groups, channels))),
        tensor((1, 1, 1600, channels), buffer, cores),
        fidelity=fidelity,  # type: ignore[arg-type]
        work=work,
    )


def total_ns(op: OpDesc, hardware: Hardware = N150) -> float:
    return sum(cost.modelled_ns for cost in price_op(op, hardware))


def test_conv_compute_follows_tt_metal_formula_and_fidelity() -> None:
    (lofi,) = price_op(conv("LoFi"), N150)
    (hifi4,) = price_op(conv("HiFi4"), N150)
    macs = 128 * 9 * 1600 * 128
    assert lofi.compute_ns == pytest.approx(2 * macs / (64 * 4096) / 1.0)  # 1 GHz, 8x8 cores
    assert hifi4.compute_ns == pytest.approx(4 * lofi.compute_ns)
    assert hifi4.modelled_ns > lofi.modelled_ns


def test_depthwise_conv_costs_less_than_tt_metals_dense_count() -> None:
    (depthwise,) = price_op(conv(groups=128), N150)
    (dense,) = price_op(conv(groups=1), N150)
    work = conv(groups=128).work
    assert isinstance(work, ConvWork)
    assert work.macs_dense == 128 * 9 * 1600 * 128  # what tt-metal's report would count
    assert work.macs_device(32) == 32 * 9 * 1600 * 128  # one tile of input channels per output tile column
    assert depthwise.compute_ns == pytest.approx(dense.compute_ns / 4)


def test_dram_round_trip_costs_more_than_l1_sharding() -> None:
    (dram,) = price_op(conv(buffer="DRAM"), N150)
    halo, l1 = price_op(conv(buffer="L1", cores=64), N150)
    assert (halo.name, l1.name) == ("halo", "conv2d")  # a sharded 3x3 conv runs a halo program first
    assert dram.bandwidth_ns > l1.bandwidth_ns  # only the weights come from DRAM
    assert dram.modelled_ns > l1.modelled_ns


def test_fewer_cores_and_a_slower_clock_cost_more() -> None:
    assert total_ns(conv(buffer="L1", cores=16)) > total_ns(conv(buffer="L1", cores=64))
    p150 = Hardware.of("p150")
    assert p150.grid == (11, 10) and Hardware.of("p150", grid=(13, 10)).cores == 130
    assert total_ns(conv(), p150) < total_ns(conv())


def test_every_constant_has_a_source_and_a_date() -> None:
    assert all(c.source and c.date and c.unit for c in CONSTANTS.values())


def test_package_imports_neither_pytest_nor_the_emulator() -> None:
    package = Path(devperf.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            assert not any(n.split(".")[0] in ("pytest", "torch", "ttnn") for n in names), source
            assert not any("emulator" in n for n in names), source


def _frame(sync: bool) -> list[Event]:
    """One traced frame as the performant runner issues it: host conversion, CQ1 write after the previous frame's
    input copy, CQ0 input copy after the write, then the trace."""
    op = DeviceOp(conv(), cq=0, replayed=True)
    copy = DeviceOp(replace(conv(), name="interleaved_to_sharded", work=None, fidelity=None), cq=0, replayed=False)
    events: list[Event] = [
        HostConvert(2_000_000, "to_device_format"),
        WaitEvent(1, (0, 1)),
        HostWrite(4_000_000, cq=1),
        RecordEvent(1, (0, 2)),
        WaitEvent(0, (0, 2)),
        copy,
        RecordEvent(0, (0, 1)),
        TraceLaunch(0, 40),
        *[op] * 40,
    ]
    return [*events, Synchronize()] if sync else events


def test_two_queues_overlap_the_next_input_with_compute_unless_the_host_synchronizes() -> None:
    streaming = model_call(_frame(sync=False), N150, frames=1)
    synced = model_call(_frame(sync=True), N150, frames=1)
    busy = streaming.kernel_ns + streaming.dispatch_ns + streaming.transfer_ns + streaming.host_ns
    assert streaming.period_ns < busy  # the write and the conversion hide behind the trace
    assert synced.period_ns > streaming.period_ns
    assert synced.period_ns == pytest.approx(busy, rel=0.02)


def test_untraced_dispatch_costs_more_than_trace_replay() -> None:
    traced = model_call(_frame(sync=True), N150, frames=1)
    untraced = [replace(e, replayed=False) if isinstance(e, DeviceOp) else e for e in _frame(sync=True)]
    basic = model_call([e for e in untraced if not isinstance(e, TraceLaunch)], N150, frames=1)
    assert basic.kernel_ns == traced.kernel_ns
    assert basic.fps < traced.fps
    assert basic.dispatch_ns > traced.dispatch_ns and basic.host_ns > traced.host_ns
