"""What ``activate`` refuses: a second arch in one process, and a process whose ttnn was imported without the mock.

Usage: python activation.py second_arch | ttnn_first
"""

from __future__ import annotations

import os
import sys

from _scenario import report

from pytest_ttpose.mock import MockClusterConflict, activate
from pytest_ttpose.mock.runtime import PROCESS_FIXED_ENV


def main(mode: str) -> None:
    result: dict[str, object] = {}
    if mode == "second_arch":
        first = activate("n150")
        result["same_arch_again_is_same_system"] = activate("n150") is first
    else:
        for name in PROCESS_FIXED_ENV:
            os.environ.pop(name, None)
        import ttnn  # noqa: F401  (ttnn now fixes the real, unmocked runtime root for this process)
    try:
        activate("p150")
        result["error"] = ""
    except MockClusterConflict as error:
        result["error"] = str(error)
    result["ttnn_imported"] = "ttnn" in sys.modules
    report(result)


if __name__ == "__main__":
    main(sys.argv[1])
