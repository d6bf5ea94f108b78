"""Every figure the performance model uses: one table, each entry with its value, unit, source and date.

Sources are public tt-metal files (paths in the tenstorrent/tt-metal repository), Tenstorrent's documentation, and
published model figures, as read in November 2026. Entries marked "calibrated" were fitted once to the published
YOLOv11n anchors (see ``calibration.ANCHORS``); entries marked "estimate" have no public figure and are parameters.
Change a figure here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Arch = Literal["wormhole_b0", "blackhole"]
OpClass = Literal[
    "conv2d",
    "matmul",
    "eltwise",
    "sfpu",
    "halo",
    "pool",
    "upsample",
    "concat",
    "reshard",
    "layout",
    "data_movement",
]
OP_CLASSES: tuple[OpClass, ...] = get_args(OpClass)


@dataclass(frozen=True)
class Constant:
    value: float
    unit: str
    source: str
    date: str = "2026-11"


_OP_MODEL = "ttnn/core/operation.cpp OpPerformanceModelGeneral"
_GEMM = "tech_reports/GEMM_FLOPS/GEMM_FLOPS.md"
_DM = "tests/tt_metal/tt_metal/data_movement README (ideal bytes/cycle per primitive)"
_TM_BW = "ttnn/cpp/ttnn/operations/data_movement/common/common.cpp common_tm_bw_model"
_FIT = "calibrated: YOLOv11n 640x640 b1 bfloat8_b N150, 276 samples/s device kernel (models/demos/wormhole/yolov11)"

CONSTANTS: dict[str, Constant] = {
    # clocks and grids
    "clock_ghz.wormhole_b0": Constant(1.0, "GHz", "docs.tenstorrent.com Wormhole specifications (AICLK 1 GHz)"),
    "clock_ghz.blackhole": Constant(1.35, "GHz", "docs.tenstorrent.com Blackhole P150 specifications (up to 1.35)"),
    "grid_x.n150": Constant(8, "cores", "ttnn compute_with_storage_grid_size on N150: 8x8"),
    "grid_y.n150": Constant(8, "cores", "ttnn compute_with_storage_grid_size on N150: 8x8"),
    "grid_x.p150": Constant(11, "cores", "P150 firmware 19.5 enables 120 Tensix: compute grid 11x10 (13x10 before)"),
    "grid_y.p150": Constant(10, "cores", "P150 firmware 19.5 enables 120 Tensix: compute grid 11x10 (13x10 before)"),
    # compute: a Tensix core's matrix engine does 2*8*16*16 = 4096 flops (2048 MACs) per cycle at LoFi
    "macs_per_cycle_per_core": Constant(2048, "MAC/cycle", f"{_OP_MODEL}: 2*MACs/(cores*4096); {_GEMM}"),
    "fidelity_multiplier.LoFi": Constant(1, "x", f"{_OP_MODEL} fidelity_multiplier; {_GEMM} 16 cycles/tile"),
    "fidelity_multiplier.HiFi2": Constant(2, "x", f"{_OP_MODEL} fidelity_multiplier; {_GEMM} 32 cycles/tile"),
    "fidelity_multiplier.HiFi3": Constant(3, "x", f"{_OP_MODEL} fidelity_multiplier; {_GEMM} 48 cycles/tile"),
    "fidelity_multiplier.HiFi4": Constant(4, "x", f"{_OP_MODEL} fidelity_multiplier; {_GEMM} 64 cycles/tile"),
    "tile_width": Constant(32, "elements", "tt-metal tiles are 32x32"),
    # the FPU does an eltwise binary tile in 16 cycles (as a LoFi matmul tile); an SFPU transcendental needs ~8
    # passes of 4 rows per face over 4 faces
    "cycles_per_tile.eltwise": Constant(16, "cycles/tile", f"estimate, same FPU rate as {_GEMM} LoFi"),
    "cycles_per_tile.sfpu": Constant(128, "cycles/tile", "estimate: SFPU 32 lanes x 4 faces, ~8 instructions/value"),
    # DRAM
    "dram_peak_gbps.wormhole_b0": Constant(258, "GB/s", f"{_OP_MODEL}: 6*2*21.5 (12 GDDR6 banks; 288 spec)"),
    "dram_peak_gbps.blackhole": Constant(512, "GB/s", f"{_OP_MODEL}; P150 spec 512 GB/s"),
    # NoC bytes/cycle per core at a 2 KB transaction, and the transaction size where it halves
    "noc_dram_read_bpc.wormhole_b0": Constant(28.4, "B/cycle", f"{_TM_BW}: DRAM 2 KB transactions"),
    "noc_dram_read_bpc.blackhole": Constant(49.2, "B/cycle", f"{_TM_BW}: DRAM 2 KB transactions"),
    "noc_l1_bpc.wormhole_b0": Constant(29, "B/cycle", f"{_DM}: one to one, Wormhole B0"),
    "noc_l1_bpc.blackhole": Constant(60, "B/cycle", f"{_DM}: one to one, Blackhole"),
    "noc_half_rate_bytes": Constant(
        256, "B", f"estimate: shape of {_TM_BW}'s bytes/cycle vs transaction size (saturates near 2 KB)"
    ),
    "dram_latency_cycles.wormhole_b0": Constant(358, "cycles", f"{_TM_BW}"),
    "dram_latency_cycles.blackhole": Constant(529, "cycles", f"{_TM_BW}"),
    "l1_latency_cycles.wormhole_b0": Constant(259, "cycles", f"{_TM_BW}: L1 read"),
    "l1_latency_cycles.blackhole": Constant(403, "cycles", f"{_TM_BW}: L1 read"),
    # fixed device cost of every program: kernel launch, circular-buffer setup, teardown on every core
    "op_fixed_cycles": Constant(4000, "cycles", _FIT),
    # per-op-class efficiency: the fraction of the roofline an op of the class reaches (GEMM_FLOPS: best ~93 % on
    # N150, 19 % for an untuned DRAM matmul; YOLO's convs are small and DRAM-bound)
    "efficiency.conv2d": Constant(0.40, "fraction", _FIT),
    "efficiency.matmul": Constant(0.40, "fraction", f"{_FIT}; {_GEMM} 19-93 %"),
    "efficiency.eltwise": Constant(0.60, "fraction", _FIT),
    "efficiency.sfpu": Constant(0.60, "fraction", _FIT),
    "efficiency.halo": Constant(0.35, "fraction", _FIT),
    "efficiency.pool": Constant(0.35, "fraction", _FIT),
    "efficiency.upsample": Constant(0.35, "fraction", _FIT),
    "efficiency.concat": Constant(0.30, "fraction", f"{_FIT}; concat takes interleaved inputs only"),
    "efficiency.reshard": Constant(0.50, "fraction", _FIT),
    "efficiency.layout": Constant(0.30, "fraction", _FIT),
    "efficiency.data_movement": Constant(0.30, "fraction", _FIT),
    # host and dispatch
    "dispatch_untraced_ns": Constant(9300, "ns", "tests/tt_metal/tt_metal/perf_microbenchmark test_pgm_dispatch"),
    "host_op_ns": Constant(
        40000,
        "ns",
        "estimate from tt-metal's ~1.1 ms to launch one LLM decoder layer (~25-30 ops) from Python: ttnn Python + "
        "C++ host cost per untraced op (no per-op public figure; a parameter)",
    ),
    "trace_gap_ns": Constant(1000, "ns", "tt-metal traced op-to-op gap ~1 us (program dispatch docs)"),
    "trace_launch_ns": Constant(5000, "ns", "estimate: host enqueue of execute_trace"),
    "host_command_ns": Constant(2000, "ns", "estimate: host enqueue of an event record/wait or a write command"),
    "pcie_gbps.wormhole_b0": Constant(25, "GB/s", "PCIe 4.0 x16, effective (device_perf research, a parameter)"),
    "pcie_gbps.blackhole": Constant(50, "GB/s", "PCIe 5.0 x16, effective (about twice Gen4, a parameter)"),
    "pcie_latency_ns": Constant(5000, "ns", "estimate: one host<->device transfer's fixed cost"),
    "host_convert_ns_per_element": Constant(
        0.93, "ns/element", "P150 study (tt-metal branch yolo_bh_glx_tt_deploy): fp32->bf16 of 1x3x640x640 1.14 ms"
    ),
    "host_to_torch_ns_per_element": Constant(0.5, "ns/element", "estimate: device format -> torch on the host"),
}


def value(name: str) -> float:
    return CONSTANTS[name].value


def table_markdown() -> list[str]:
    """The table as Markdown rows, for the README and reports."""
    lines = ["| constant | value | unit | source | date |", "|---|---|---|---|---|"]
    for name, constant in CONSTANTS.items():
        lines.append(f"| {name} | {constant.value:g} | {constant.unit} | {constant.source} | {constant.date} |")
    return lines
