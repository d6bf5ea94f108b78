"""What real ttnn allocates for conv2d on an L1 height-sharded input: the circular buffers of its programs (from
graph capture), and its error when they do not fit, for every case of ``conv_cases.CASES``.

Usage: python conv_circular_buffers.py <arch>
"""

from __future__ import annotations

import sys
from typing import Any

from _scenario import DEVICE_PARAMS, report, ttnn_message
from conv_cases import CASES, run_conv

from pytest_ttpose.mock import activate
from pytest_ttpose.seam import api_for


def programs_of(graph: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The circular buffers each program of the capture created on the first chip, program by program."""
    programs: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] | None = None
    for node in graph:
        params = node.get("params") or {}
        if node.get("node_type") == "circular_buffer_deallocate_all":
            current = None
        elif node.get("node_type") == "circular_buffer_allocate" and str(params.get("device_id")) == "0":
            if current is None:
                current = []
                programs.append(current)
            current.append({"size": int(params["size"]), "global": str(params["globally_allocated"]) == "1"})
    return programs


def main(arch: str) -> None:
    system = activate(arch)
    device = system.open(**DEVICE_PARAMS)
    ttnn = api_for(device)
    results = []
    for case in CASES:
        device.clear_program_cache()
        ttnn.graph.begin_graph_capture(ttnn.graph.RunMode.NORMAL)
        error = None
        try:
            ttnn.deallocate(run_conv(ttnn, device, case))
        except RuntimeError as raised:
            error = ttnn_message(raised)
        finally:
            graph = ttnn.graph.end_graph_capture()
        results.append({"case": case.name, "programs": programs_of(graph), "error": error})
    report({"cases": results})
    system.close(device)


if __name__ == "__main__":
    main(sys.argv[1])
