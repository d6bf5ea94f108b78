"""Shared by the scenario scripts: device parameters, and handing one JSON result back to the test."""

from __future__ import annotations

import json
import sys
from typing import Any

RESULT_PREFIX = "TTPOSE-MOCK-RESULT "

# What the runner opens devices with (values of pytest_ttpose.tt.device_params, repeated here so these scenarios
# test the mock backend alone): L1_SMALL for conv halos, a trace region, and two command queues.
DEVICE_PARAMS: dict[str, Any] = {"l1_small_size": 24576, "trace_region_size": 6434816, "num_command_queues": 2}


def report(result: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def ttnn_message(error: Exception) -> str:
    """The message of a TT_THROW / TT_FATAL, without its source location and backtrace."""
    text = str(error).split("backtrace:")[0]
    return text.split("info:")[-1].strip()
