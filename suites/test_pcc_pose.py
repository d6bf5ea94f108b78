"""Full-model PCC at every matrix point: the TT model (untraced; a ``--ttpose-runner`` through its own path) against
the torch reference on real images.

Per component (all, box, score, kpt_xy, kpt_vis), each against the absolute floor of the point's dtypes and against
the stored baseline minus ``--ttpose-pcc-tolerance``. A failure prints the per-layer PCC table, the first layer below
the floor marked. On the ttnn-mock dry run the forward runs under ttnn's graph capture instead: every op must be
accepted and the L1 fit report (peak per core vs the bank) must fit; the summary shows "dry run" and the fit.
"""

from __future__ import annotations

import torch

from pytest_ttpose.harness.backends import Backend
from pytest_ttpose.harness.checks import CaseCheck
from pytest_ttpose.harness.fixture_types import PoseModel
from pytest_ttpose.harness.settings import MatrixPoint


def _dry_run_forward(ttpose_check: CaseCheck, model: PoseModel, torch_input: torch.Tensor) -> None:
    from pytest_ttpose.mock import measure_fit

    output, fit = measure_fit(model.device, lambda: model.forward(torch_input))
    # A user's runner replays a trace here, which runs nothing on a mocked device: its model ran while it was built.
    fit = getattr(model, "build_fit", None) or fit
    ttpose_check.fit({**fit.as_dict(), "summary": f"L1 {fit.required // 1024}/{fit.bank_size // 1024} KiB per core"})
    assert output.shape == model.reference_output(torch_input).shape
    assert fit.fits, f"the forward does not fit in L1: {fit}"
    ttpose_check.pcc(None, None)  # records the case as a dry run


def test_pcc_pose(
    ttpose_point: MatrixPoint,
    ttpose_infra: PoseModel,
    ttpose_input: torch.Tensor,
    ttpose_backend: Backend,
    ttpose_check: CaseCheck,
) -> None:
    if ttpose_backend.dry_run:
        _dry_run_forward(ttpose_check, ttpose_infra, ttpose_input)
        return
    output = ttpose_infra.forward(ttpose_input)
    reference = ttpose_infra.reference_output(ttpose_input)
    assert output.shape == reference.shape
    ttpose_check.pcc(reference, output, layers=lambda: ttpose_infra.layer_pcc_rows(ttpose_input))
