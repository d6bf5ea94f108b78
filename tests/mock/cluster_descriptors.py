"""Write the mock cluster descriptors of the multi-card systems (t3k, galaxy, 2/4/8 x P150) from their topology.

The descriptors in ``pytest_ttpose/mock/clusters`` for these systems are generated, not hand-edited: run
``python tests/mock/cluster_descriptors.py`` to rewrite them; ``test_systems.py`` checks the shipped files match.

What ttnn 0.81.1's mock mode needs, learnt by opening each one:
* every pair of neighbouring chips has ethernet links (two channels each here; ttnn counts a chip pair linked when
  any channel connects them); without links the system mesh is 1x1 and no mesh opens;
* Wormhole chips carry a grid coordinate ``[x, y, rack, shelf]``; an N300's second chip has no PCIe link of its own
  (it is not in ``chips_with_mmio``) and is reached over ethernet from the first;
* Blackhole P150 cards are each a PCIe device with one chip.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

CLUSTER_DIR = Path(__file__).resolve().parents[2] / "pytest_ttpose" / "mock" / "clusters"
ETHERNET_CHANNELS = 16
LINKS_PER_NEIGHBOUR = 2
WORMHOLE_UID = 72059269369839682
BLACKHOLE_UID = 4476187513037
WORMHOLE_HARVESTING = {"noc_translation": "true", "harvest_mask": 32}
BLACKHOLE_HARVESTING = {
    "noc_translation": "true",
    "harvest_mask": 0,
    "dram_harvesting_mask": 0,
    "eth_harvesting_mask": 288,
    "pcie_harvesting_mask": 2,
    "l2cpu_harvesting_mask": 0,
}


@dataclass(frozen=True)
class GridSystem:
    """Chips in a rows x cols grid (chip id row-major), linked to their grid neighbours when ``linked``."""

    file_name: str
    arch: str  # "wormhole_b0" or "blackhole"
    rows: int
    cols: int
    board_type: str
    boards: tuple[tuple[int, ...], ...]  # chips of each card
    mmio_chips: tuple[int, ...]  # chips with their own PCIe link, in PCIe device order
    linked: bool = True

    def chip(self, row: int, col: int) -> int:
        return row * self.cols + col

    def links(self) -> list[tuple[int, int, int, int]]:
        used: dict[int, int] = {}
        links = []
        for row in range(self.rows):
            for col in range(self.cols):
                here = self.chip(row, col)
                neighbours = []
                if col + 1 < self.cols:
                    neighbours.append(self.chip(row, col + 1))
                if row + 1 < self.rows:
                    neighbours.append(self.chip(row + 1, col))
                for there in neighbours:
                    for _ in range(LINKS_PER_NEIGHBOUR):
                        a, b = used.get(here, 0), used.get(there, 0)
                        assert a < ETHERNET_CHANNELS and b < ETHERNET_CHANNELS
                        used[here], used[there] = a + 1, b + 1
                        links.append((here, a, there, b))
        return links if self.linked else []

    def yaml(self) -> str:
        count = self.rows * self.cols
        uid = WORMHOLE_UID if self.arch == "wormhole_b0" else BLACKHOLE_UID
        lines = ["arch:", *(f"  {chip}: {self.arch}" for chip in range(count)), "chips:"]
        if self.arch == "wormhole_b0":
            lines += [f"  {self.chip(r, c)}: [{c}, {r}, 0, 0]" for r in range(self.rows) for c in range(self.cols)]
        else:
            lines.append("  {}")
        lines += ["chip_unique_ids:", *(f"  {chip}: {uid + chip}" for chip in range(count)), "ethernet_connections:"]
        links = self.links()
        lines += ["  []"] if not links else []
        for a, chan_a, b, chan_b in links:
            lines += ["  -", f"    - chip: {a}", f"      chan: {chan_a}", f"    - chip: {b}", f"      chan: {chan_b}"]
        lines += ["ethernet_connections_to_remote_devices:", "  []", "chips_with_mmio:"]
        lines += [f"  - {chip}: {pcie}" for pcie, chip in enumerate(self.mmio_chips)]
        lines.append("harvesting:")
        harvesting = WORMHOLE_HARVESTING if self.arch == "wormhole_b0" else BLACKHOLE_HARVESTING
        for chip in range(count):
            lines += [f"  {chip}:", *(f"    {key}: {value}" for key, value in harvesting.items())]
        lines += ["chip_to_boardtype:", *(f"  {chip}: {self.board_type}" for chip in range(count)), "boards:"]
        for chips in self.boards:
            lines += [
                "  -",
                f"    - board_id: {uid + chips[0]}",
                f"    - board_type: {self.board_type}",
                "    - chips:",
            ]
            lines += [f"        - {chip}" for chip in chips]
        if self.arch == "blackhole":
            lines += ["asic_locations:", *(f"  {chip}: 0" for chip in range(count))]
        return "\n".join(lines) + "\n"


def _p150s(count: int, *, linked: bool = True) -> GridSystem:
    name = f"blackhole_{count}xp150_{'linked' if linked else 'unlinked'}.yaml"
    chips = tuple(range(count))
    return GridSystem(name, "blackhole", 1, count, "p150", tuple((chip,) for chip in chips), chips, linked)


GENERATED: dict[str, GridSystem] = {
    # Four N300 cards: card k holds chip k (row 0, PCIe) and chip k + 4 (row 1, reached over ethernet).
    "t3k": GridSystem(
        "wormhole_t3k.yaml", "wormhole_b0", 2, 4, "n300", tuple((c, c + 4) for c in range(4)), (0, 1, 2, 3)
    ),
    # 32 chips in an 8x4 grid, each with its own PCIe link, on four trays of eight.
    "galaxy": GridSystem(
        "wormhole_galaxy.yaml",
        "wormhole_b0",
        8,
        4,
        "ubb",
        tuple(tuple(range(tray * 8, tray * 8 + 8)) for tray in range(4)),
        tuple(range(32)),
    ),
    "2xp150-unlinked": _p150s(2, linked=False),
    "4xp150": _p150s(4),
    "8xp150": _p150s(8),
}


def main() -> None:
    for system in GENERATED.values():
        (CLUSTER_DIR / system.file_name).write_text(system.yaml(), encoding="utf-8")
        sys.stdout.write(f"wrote {CLUSTER_DIR / system.file_name}\n")


if __name__ == "__main__":
    main()
