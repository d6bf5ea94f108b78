"""What real ttnn answers to each call of ``sliding_window_cases.CASES``: the output spec, or its error message.

Usage: python sliding_window_plans.py <arch>
"""

from __future__ import annotations

import sys

from _scenario import DEVICE_PARAMS, report, ttnn_message
from foreign_cases import spec_of
from sliding_window_cases import CASES

from pytest_ttpose.mock import activate
from pytest_ttpose.seam import api_for


def main(arch: str) -> None:
    system = activate(arch)
    device = system.open(**DEVICE_PARAMS)
    ttnn = api_for(device)
    import torch

    results = {}
    for case in CASES:
        # each pool/conv program keeps its config tensors in L1_SMALL while cached; the cases are independent
        device.clear_program_cache()
        try:
            output, _ = case.run(ttnn, device, torch.Generator().manual_seed(0))
        except (RuntimeError, TypeError, ValueError) as error:
            results[case.name] = {"error": ttnn_message(error), "error_type": type(error).__name__}
        else:
            results[case.name] = {"spec": spec_of(output)}
            ttnn.deallocate(output)
    report({"cases": results})
    system.close(device)


if __name__ == "__main__":
    main(sys.argv[1])
