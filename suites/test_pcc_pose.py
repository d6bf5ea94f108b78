"""Full-model PCC at every matrix point: the TT model (untraced) against the torch reference on real images.

Per component (all, box, score, kpt_xy, kpt_vis), each against the absolute floor of the point's dtypes and against
the stored baseline minus ``--ttpose-pcc-tolerance``. A failure prints the per-layer PCC table, the first layer below
the floor marked. On the ttnn-mock dry run the forward runs under ttnn's graph capture instead: every op must be
accepted and the L1 fit report (peak per core vs the bank) must fit; the summary shows "dry run" and the fit.
"""

from __future__ import annotations

from typing import Any

import torch

from pytest_ttpose.harness.backends import Backend
from pytest_ttpose.harness.checks import CaseCheck
from pytest_ttpose.harness.settings import MatrixPoint
from pytest_ttpose.runner import YOLOv11PosePerformanceRunnerInfra
from pytest_ttpose.tt.diagnostics import layer_pcc_table
from pytest_ttpose.tt.run import run_tt_model


def _dry_run_forward(ttpose_check: CaseCheck, tt_model: Any, torch_input: Any) -> None:
    from pytest_ttpose.mock import measure_fit

    output, fit = measure_fit(tt_model.device, lambda: run_tt_model(tt_model, torch_input))
    ttpose_check.fit({**fit.as_dict(), "summary": f"L1 {fit.required // 1024}/{fit.bank_size // 1024} KiB per core"})
    assert tuple(output.shape) == (torch_input.shape[0], 56, tt_model.num_anchors)
    assert fit.fits, f"the forward does not fit in L1: {fit}"
    ttpose_check.pcc(None, None)  # records the case as a dry run


def test_pcc_pose(
    ttpose_point: MatrixPoint,
    ttpose_infra: YOLOv11PosePerformanceRunnerInfra,
    ttpose_input: torch.Tensor,
    ttpose_backend: Backend,
    ttpose_check: CaseCheck,
) -> None:
    tt_model = ttpose_infra.tt_model
    if ttpose_backend.dry_run:
        _dry_run_forward(ttpose_check, tt_model, ttpose_input)
        return
    output = run_tt_model(tt_model, ttpose_input)
    reference = ttpose_infra.reference_output(ttpose_input)
    assert output.shape == reference.shape
    ttpose_check.pcc(
        reference, output, layers=lambda: layer_pcc_table(ttpose_infra.reference_model, tt_model, ttpose_input)
    )
