"""Modelled device time of one op: tt-metal's ideal/compute/bandwidth op model, with per-op-class efficiencies.

compute ns   = MACs x fidelity / (cores x MACs per cycle) / clock       (conv2d, matmul)
             = output tiles x cycles per tile / cores / clock            (eltwise, SFPU)
bandwidth ns = DRAM bytes / min(DRAM peak, cores x NoC rate(page size))  (every op; plus DRAM latency)
             + L1 bytes / (cores x NoC L1 rate(page size))               (data-movement classes: they move L1 over NoC)
modelled ns  = max(compute, bandwidth) / efficiency(class) + fixed program cycles / clock

Unlike tt-metal's report, bandwidth sums every DRAM tensor the op reads and writes (not only the largest), so an
extra DRAM round trip costs what it moves; grouped convs count the MACs their block-diagonal weights cost (see
``ConvWork.macs_device``), not the dense count tt-metal reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from .constants import Arch, OpClass, value
from .descriptors import DTYPE_BYTES, ConvWork, MatmulWork, OpDesc, TensorDesc

System = Literal["n150", "n300", "t3k", "p150", "2xp150", "4xp150", "8xp150"]
SYSTEMS: tuple[System, ...] = ("n150", "n300", "t3k", "p150", "2xp150", "4xp150", "8xp150")

# system -> (arch, chips, PCIe links to the host): an N300's second chip is reached over ethernet from the first, so
# a T3K (four N300 cards) has four links for eight chips; every P150 card has its own link.
_SYSTEM_LAYOUT: dict[System, tuple[Arch, int, int]] = {
    "n150": ("wormhole_b0", 1, 1),
    "n300": ("wormhole_b0", 2, 1),
    "t3k": ("wormhole_b0", 8, 4),
    "p150": ("blackhole", 1, 1),
    "2xp150": ("blackhole", 2, 2),
    "4xp150": ("blackhole", 4, 4),
    "8xp150": ("blackhole", 8, 8),
}
_GRID_OF_ARCH = {"wormhole_b0": "n150", "blackhole": "p150"}

_CLASS_OF_OP: dict[str, OpClass] = {
    "conv2d": "conv2d",
    "matmul": "matmul",
    "linear": "matmul",
    "add": "eltwise",
    "subtract": "eltwise",
    "multiply": "eltwise",
    "divide": "sfpu",
    "sigmoid": "sfpu",
    "silu": "sfpu",
    "relu": "eltwise",
    "exp": "sfpu",
    "softmax": "sfpu",
    "halo": "halo",
    "max_pool2d": "pool",
    "upsample": "upsample",
    "concat": "concat",
    "to_memory_config": "reshard",
    "interleaved_to_sharded": "reshard",
    "sharded_to_interleaved": "reshard",
    "reshard": "reshard",
    "reallocate": "reshard",
    "clone": "reshard",
    "to_layout": "layout",
    "tilize": "layout",
    "untilize": "layout",
    "typecast": "layout",
}
_DATA_MOVEMENT: frozenset[OpClass] = frozenset(
    {"halo", "pool", "upsample", "concat", "reshard", "layout", "data_movement"}
)


def op_class(name: str) -> OpClass:
    """The efficiency class of a ttnn op name; unknown ops move data (reshape, permute, pad, slice, ...)."""
    return _CLASS_OF_OP.get(name, "data_movement")


@dataclass(frozen=True)
class Hardware:
    """The modelled machine: arch, chips, PCIe links and the compute grid (configurable, e.g. 13x10 on a P150)."""

    system: System
    arch: Arch
    chips: int
    pcie_links: int
    grid: tuple[int, int]

    @classmethod
    def of(cls, system: System, grid: tuple[int, int] | None = None) -> Hardware:
        if system not in _SYSTEM_LAYOUT:
            raise ValueError(f"unknown system {system!r}: choose one of {', '.join(SYSTEMS)}")
        arch, chips, links = _SYSTEM_LAYOUT[system]
        base = _GRID_OF_ARCH[arch]
        default = (int(value(f"grid_x.{base}")), int(value(f"grid_y.{base}")))
        return cls(system, arch, chips, links, grid or default)

    @classmethod
    def for_arch(cls, arch: str, chips: int) -> Hardware:
        """The system of ``chips`` chips of ``arch`` (n150/n300/t3k, p150/2xp150/4xp150/8xp150)."""
        for system, (system_arch, system_chips, _) in _SYSTEM_LAYOUT.items():
            if (system_arch, system_chips) == (arch, chips):
                return cls.of(system)
        known = ", ".join(f"{name} ({layout[1]} {layout[0]})" for name, layout in _SYSTEM_LAYOUT.items())
        raise ValueError(
            f"the performance model knows {known}; got {chips} {arch} chip(s): run perf cases on a mesh of one "
            "of those sizes"
        )

    @property
    def cores(self) -> int:
        return self.grid[0] * self.grid[1]

    @property
    def clock_ghz(self) -> float:
        return value(f"clock_ghz.{self.arch}")

    @property
    def dram_gbps(self) -> float:
        return value(f"dram_peak_gbps.{self.arch}")

    @property
    def pcie_gbps(self) -> float:
        return value(f"pcie_gbps.{self.arch}")


@dataclass(frozen=True)
class OpCost:
    """The modelled cost of one device op (one row of the per-op report)."""

    op: OpDesc
    name: str
    op_class: OpClass
    cores: int
    compute_ns: float
    bandwidth_ns: float
    modelled_ns: float
    detail: dict[str, float] = field(default_factory=dict)


def _page_bytes(tensor: TensorDesc) -> float:
    element = DTYPE_BYTES.get(tensor.dtype, 2.0)
    if tensor.layout == "TILE":
        return 1024 * element
    return max(1, tensor.shape[-1] if tensor.shape else 1) * element


def _noc_rate(peak_bpc: float, page_bytes: float) -> float:
    """Bytes per cycle per core at a transaction size: ``peak`` at 2 KB, half of it at ``noc_half_rate_bytes``."""
    half = value("noc_half_rate_bytes")
    return min(peak_bpc, peak_bpc * page_bytes / (page_bytes + half) * (2048 + half) / 2048)


def _tiles(tensor: TensorDesc) -> int:
    return max(1, math.ceil(tensor.volume / 1024))


def _cores(op: OpDesc, hw: Hardware) -> int:
    if op.cores:
        return min(op.cores, hw.cores)
    sharded = max((t.cores for t in (*op.inputs, op.output)), default=0)
    if sharded:
        return min(sharded, hw.cores)
    # interleaved: one work unit (tile or row-major page) per core at most
    units = _tiles(op.output) if op.output.layout == "TILE" else max(1, op.output.volume // max(1, op.output.shape[-1]))
    return max(1, min(hw.cores, units))


def _compute_cycles(op: OpDesc, kind: OpClass, cores: int) -> float:
    work = op.work
    if isinstance(work, (ConvWork, MatmulWork)):
        macs = work.macs_device(int(value("tile_width"))) if isinstance(work, ConvWork) else work.macs
        fidelity = value(f"fidelity_multiplier.{op.fidelity or 'LoFi'}")
        return macs * fidelity / (cores * value("macs_per_cycle_per_core"))
    if kind in ("eltwise", "sfpu"):
        return _tiles(op.output) * value(f"cycles_per_tile.{kind}") / cores
    return 0.0


def _bandwidth_ns(op: OpDesc, kind: OpClass, cores: int, hw: Hardware) -> float:
    clock = hw.clock_ghz
    tensors = (*op.inputs, op.output)
    dram = [t for t in tensors if t.buffer == "DRAM"]
    total = 0.0
    if dram:
        nbytes = sum(t.nbytes for t in dram)
        page = min(_page_bytes(t) for t in dram)
        noc_gbps = cores * _noc_rate(value(f"noc_dram_read_bpc.{hw.arch}"), page) * clock
        total += nbytes / min(hw.dram_gbps, noc_gbps) + value(f"dram_latency_cycles.{hw.arch}") / clock
    l1 = [t for t in tensors if t.buffer == "L1"]
    if l1 and kind in _DATA_MOVEMENT:
        nbytes = sum(t.nbytes for t in l1)
        page = min(_page_bytes(t) for t in l1)
        total += nbytes / (cores * _noc_rate(value(f"noc_l1_bpc.{hw.arch}"), page) * clock)
        total += value(f"l1_latency_cycles.{hw.arch}") / clock
    return total


def _cost(op: OpDesc, name: str, kind: OpClass, hw: Hardware) -> OpCost:
    cores = _cores(op, hw)
    compute = _compute_cycles(op, kind, cores) / hw.clock_ghz
    bandwidth = _bandwidth_ns(op, kind, cores, hw)
    modelled = max(compute, bandwidth) / value(f"efficiency.{kind}") + value("op_fixed_cycles") / hw.clock_ghz
    return OpCost(op, name, kind, cores, compute, bandwidth, modelled)


def price_op(op: OpDesc, hw: Hardware) -> list[OpCost]:
    """The device programs one ttnn op runs: a conv on an L1-sharded input runs a halo program before the conv."""
    kind = op_class(op.name)
    costs = []
    if isinstance(op.work, ConvWork) and op.work.halo:
        # the halo gathers every input window's rows into a new L1 shard: it moves the input once over NoC
        halo = OpDesc("halo", op.inputs[:1], op.inputs[0], op.cores, None, None)
        costs.append(_cost(halo, "halo", "halo", hw))
    costs.append(_cost(op, op.name, kind, hw))
    return costs
