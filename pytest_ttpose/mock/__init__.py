"""ttnn-mock: dry-run TT model and runner code on the real ttnn host stack, with a mocked Tenstorrent cluster.

The real ttnn 0.81 validates every op's arguments, runs the conv and pool planners, builds programs and allocates
L1, L1_SMALL and DRAM with its real allocator (real out-of-memory errors) when it is pointed at a mocked cluster.
Values are not kept (every read returns zeros), so a dry run proves "a real device accepts this", never accuracy.

One line, before anything imports ttnn, opens the mocked system with the dry-run namespace bound to it::

    device = activate("n150").open(**SINGLE_DEVICE_PARAMS)   # or "p150"; "n300" / "2xp150" give a 1x2 mesh, "t3k" 2x4

Model and runner code then gets the namespace with ``api_for(device)`` as usual. Pieces:

* ``activate(arch)`` / ``mock_environ(arch)`` (``runtime``): prepare the stub kernel toolchain and kernel cache under
  ``$TTPOSE_CACHE_DIR`` (default ``~/.cache/pytest-ttpose``) and set ``TT_METAL_RUNTIME_ROOT``, ``TT_METAL_CACHE``,
  ``TT_METAL_MOCK_CLUSTER_DESC_PATH`` and ``TT_METAL_LOGGER_LEVEL``. The cluster is fixed per process: run other
  arches in subprocesses started with ``mock_environ(arch)``. Needs Debian's ``binutils-riscv64-unknown-elf``.
* ``MockTtnn`` (``api``): the real ttnn with a validated stand-in for the trace and event calls that crash in mock
  mode; ``UNPROVEN_CLAIMS`` lists what that stand-in cannot prove.
* ``measure_fit(device, work)`` (``fit``): peak L1 per core (circular buffers + tensors) from ttnn's graph capture,
  against the L1 bank size, as a printable, JSON-ready ``FitReport``.
"""

from __future__ import annotations

from pytest_ttpose.mock.api import UNPROVEN_CLAIMS, MockStandInWarning, MockTraceError, MockTtnn
from pytest_ttpose.mock.fit import FitReport, measure_fit
from pytest_ttpose.mock.runtime import (
    CLUSTERS,
    INSTALL_HINT,
    UNOPENABLE,
    MockCluster,
    MockClusterConflict,
    MockRuntime,
    MockSetupError,
    MockSystem,
    MockToolchainMissing,
    activate,
    active_system,
    cluster_for,
    mock_environ,
    prepare_runtime,
)

__all__ = [
    "CLUSTERS",
    "INSTALL_HINT",
    "UNOPENABLE",
    "UNPROVEN_CLAIMS",
    "FitReport",
    "MockCluster",
    "MockClusterConflict",
    "MockRuntime",
    "MockSetupError",
    "MockStandInWarning",
    "MockSystem",
    "MockToolchainMissing",
    "MockTraceError",
    "MockTtnn",
    "activate",
    "active_system",
    "cluster_for",
    "measure_fit",
    "mock_environ",
    "prepare_runtime",
]
