"""Circular buffers: the L1 a program reserves on its cores next to the tensors, and tt-metal's check on it.

A program's *static* circular buffers are laid out upwards from the bottom of the allocatable L1 region, one after
another; a *globally allocated* one is a window onto a tensor's own (sharded) buffer and takes no extra room. L1
tensors grow down from the top. When tt-metal compiles a program it checks that the static region stays below every
L1 buffer alive on the program's cores (``ProgramImpl::validate_circular_buffer_region``); otherwise the kernels
would overwrite a live tensor. The emulator runs the same check on every run of such a program, not only when it
compiles: on a device a program-cache hit whose buffers reach a live tensor corrupts it silently.

Only the programs whose circular buffers the emulator models declare them (see ``ops/conv.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .types import BufferType

if TYPE_CHECKING:
    from .device import MeshDevice


@dataclass(frozen=True)
class CircularBuffer:
    """One circular buffer of a program: ``num_pages`` pages of ``page_size`` bytes on each of its cores."""

    name: str
    num_pages: int
    page_size: int
    globally_allocated: bool = False  # backed by a tensor's sharded buffer rather than the static region

    @property
    def size(self) -> int:
        return self.num_pages * self.page_size


def static_region_end(base: int, buffers: Sequence[CircularBuffer], alignment: int) -> int:
    """The address where the static circular buffers laid out from ``base`` end (each starts aligned)."""
    end = base
    for buffer in buffers:
        if not buffer.globally_allocated and buffer.size:
            end = math.ceil(end / alignment) * alignment + buffer.size
    return end


def validate_static_region(
    device: MeshDevice, program_id: int, buffers: Sequence[CircularBuffer], core_range: str
) -> None:
    """Raise tt-metal's error when the static circular buffers outgrow L1 or reach a live L1 buffer."""
    arch = device._arch_spec
    end = static_region_end(arch.l1_unreserved_base, buffers, arch.l1_alignment)
    if end > arch.worker_l1_size:
        raise RuntimeError(
            f"TT_THROW: Statically allocated circular buffers on core range {core_range} grow to {end} B which is "
            f"beyond max L1 size of {arch.worker_l1_size} B"
        )
    # Every L1 buffer takes the same address range in every bank, so the lowest one is the lowest on any core.
    lowest = device.memory.allocators[BufferType.L1].lowest_address()
    if lowest is not None and lowest < end:
        raise RuntimeError(
            f"TT_THROW: Statically allocated circular buffers in program {program_id} clash with L1 buffers on core "
            f"range {core_range}. L1 buffer allocated at {lowest} and static circular buffer region ends at {end}"
        )


__all__ = ["CircularBuffer", "static_region_end", "validate_static_region"]
