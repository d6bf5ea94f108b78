"""L1 fit report: how much of a core's L1 a piece of ttnn work needs at its peak, read from ttnn's graph capture.

Mock ttnn allocates with its real allocator and checks that a program's circular buffers do not reach the L1 tensors
alive at that moment, but only when it compiles the program: a program-cache hit is not checked again. The graph
capture records both, so the peak per core of circular buffers plus L1 tensors, on top of what was already resident
in L1 when the capture began, compared with the L1 bank size, tells how much room the work leaves on a real core.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from pytest_ttpose.seam import api_for


@dataclass(frozen=True)
class FitReport:
    """Peak L1 use per core (bytes) against the L1 bank size of the device."""

    peak_cb: int  # circular buffers
    peak_l1: int  # L1 tensors allocated during the capture
    peak_total: int  # ttnn's peak of everything above (and Metal 2.0 dataflow buffers / scratchpads)
    resident_l1: int  # L1 per bank already allocated when the capture began (weights, inputs kept in L1)
    bank_size: int  # allocatable L1 per bank (after the L1_SMALL region)
    num_banks: int

    @property
    def required(self) -> int:
        return self.resident_l1 + self.peak_total

    @property
    def fits(self) -> bool:
        return self.required <= self.bank_size

    @property
    def utilisation(self) -> float:
        return self.required / self.bank_size if self.bank_size else float("inf")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the measured fields plus the derived ``required``, ``utilisation`` and ``fits``."""
        return {**asdict(self), "required": self.required, "utilisation": round(self.utilisation, 4), "fits": self.fits}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    def __str__(self) -> str:
        verdict = "fits" if self.fits else "DOES NOT FIT"
        return (
            f"L1 per core: CB {self.peak_cb:,} B + tensors {self.peak_l1:,} B (peak {self.peak_total:,} B) "
            f"+ resident {self.resident_l1:,} B = {self.required:,} B of {self.bank_size:,} B "
            f"({self.utilisation:.1%}): {verdict}"
        )


_CB_ALLOCATE = "circular_buffer_allocate"


def _only_device_cbs(node: dict[str, Any], device_id: Any) -> dict[str, Any]:
    """``node``, with a circular buffer of another device resized to 0 (the graph's structure stays intact)."""
    params = node.get("params") or {}
    if node.get("node_type") != _CB_ALLOCATE or params.get("device_id") == device_id:
        return node
    return {**node, "params": {**params, "size": 0}}


def _peak_usage_per_core(ttnn: Any, graph: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(peak_cb, peak_l1, peak_total) per core of the busiest device.

    ttnn's extraction adds up the circular buffers of every device of a mesh (each chip gets its own copy of a
    program), which would count a 1x2 mesh's CBs twice per core; so a mesh is measured one device at a time.
    """
    device_ids = sorted({node["params"].get("device_id") for node in graph if node.get("node_type") == _CB_ALLOCATE})
    views = [graph] if len(device_ids) <= 1 else [[_only_device_cbs(n, keep) for n in graph] for keep in device_ids]
    usages = [ttnn.graph.extract_resource_usage_per_core(view) for view in views]
    return (
        max(int(usage.peak_cb) for usage in usages),
        max(int(usage.peak_l1) for usage in usages),
        max(int(usage.peak_total) for usage in usages),
    )


def _begin_quiet_graph_capture(ttnn: Any) -> None:
    """Begin a graph capture without ttnn's per-capture warning that fast runtime mode records no per-op
    sub-graphs: the fit report reads only allocation nodes, which fast runtime mode records in full."""
    logger = getattr(ttnn.graph, "logger", None)  # ttnn's loguru logger
    if logger is not None:
        logger.disable("ttnn.graph")
    try:
        ttnn.graph.begin_graph_capture(ttnn.graph.RunMode.NORMAL)
    finally:
        if logger is not None:
            logger.enable("ttnn.graph")


def measure_fit(device: Any, work: Callable[[], Any], *, fresh_programs: bool = True) -> tuple[Any, FitReport]:
    """Run ``work()`` under ttnn's graph capture and return its result with the L1 fit report of ``device``.

    ttnn records circular buffers only when it creates a program, not on a program-cache hit, so by default the
    device's program cache is cleared first (``fresh_programs``) and every op of ``work`` is measured. The capture
    is always closed, also when ``work`` raises (the error propagates unchanged).
    """
    ttnn = api_for(device)
    if fresh_programs:
        device.clear_program_cache()
    before = ttnn.get_memory_view(device, ttnn.BufferType.L1)
    _begin_quiet_graph_capture(ttnn)
    try:
        result = work()
    finally:
        graph = ttnn.graph.end_graph_capture()
    peak_cb, peak_l1, peak_total = _peak_usage_per_core(ttnn, graph)
    report = FitReport(
        peak_cb=peak_cb,
        peak_l1=peak_l1,
        peak_total=peak_total,
        resident_l1=int(before.total_bytes_allocated_per_bank),
        bank_size=int(before.total_bytes_per_bank),
        num_banks=int(before.num_banks),
    )
    return result, report


__all__ = ["FitReport", "measure_fit"]
