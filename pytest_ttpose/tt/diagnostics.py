"""Per-layer PCC: run the reference and the TT model on one input and compare every layer output and head part.

The plugin prints this table when a PCC assertion fails, so the first row below threshold points at the layer to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from pytest_ttpose.seam import api_for
from pytest_ttpose.tt.common import Feature
from pytest_ttpose.tt.model import (
    CONCAT_SOURCES,
    FEATURE_INDICES,
    HEAD_INDEX,
    TtnnYoloV11Pose,
    feature_from_torch,
    input_to_host_tensor,
)


@dataclass(frozen=True)
class LayerPcc:
    """One compared tensor: its name (``<index>.<block>`` or ``23.<part>``), shape, PCC and max abs error."""

    name: str
    shape: tuple[int, ...]
    pcc: float
    max_abs_error: float


def pcc(golden: torch.Tensor, calculated: torch.Tensor) -> float:
    """Masked Pearson correlation as tt-metal's ``comp_pcc`` computes it (NaN/inf masked, equal tensors give 1)."""
    a = golden.detach().double().flatten()
    b = calculated.detach().double().flatten()
    if torch.equal(a, b):
        return 1.0
    ma = np.ma.masked_invalid(a.numpy())
    mb = np.ma.masked_invalid(b.numpy())
    if not ma.any() and not mb.any():
        return 1.0
    if not ma.any() or not mb.any():
        return 0.0
    value = np.ma.corrcoef(ma, mb)
    result = np.min(value)
    return 1.0 if isinstance(result, np.ma.core.MaskedConstant) else float(result)


def _row(name: str, golden: torch.Tensor, calculated: torch.Tensor) -> LayerPcc:
    if tuple(golden.shape) != tuple(calculated.shape):
        raise ValueError(f"{name}: reference shape {tuple(golden.shape)} != TT shape {tuple(calculated.shape)}")
    error = float((golden.float() - calculated.float()).abs().max()) if golden.numel() else 0.0
    return LayerPcc(name, tuple(golden.shape), pcc(golden, calculated), error)


def layer_pcc_table(reference_model: nn.Module, tt_model: TtnnYoloV11Pose, torch_input: torch.Tensor) -> list[LayerPcc]:
    """Rows for layers 0..22, the head's per-level branch maps, the raw head tensors and the decoded output.

    ``torch_input`` is the float (B, 3, H, W) input with B the model's global batch (per-device batch x devices).
    """
    ttnn = api_for(tt_model.device)
    with torch.no_grad():
        reference = reference_model.run(torch_input.float())  # type: ignore[operator]
    host = input_to_host_tensor(ttnn, torch_input, mesh_mapper=tt_model.input_mesh_mapper())
    device_input = ttnn.to_device(host, tt_model.device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    decoded, raw, layers, maps = tt_model.run(device_input)
    composer = tt_model.output_mesh_composer()
    rows: list[LayerPcc] = []
    for index in range(HEAD_INDEX):
        block = type(reference_model.model[index]).__name__  # type: ignore[index]
        rows.append(
            _row(f"{index}.{block}", reference.layers[index], tt_model.feature_to_torch(layers[index], composer))
        )
    for key in sorted(maps, key=lambda k: (int(k.split(".")[1]), k)):
        rows.append(_row(f"{HEAD_INDEX}.{key}", reference.head[key], tt_model.feature_to_torch(maps[key], composer)))
    tt_raw = tt_model.raw_to_torch(raw, composer)
    for key in ("boxes", "scores", "kpts"):
        rows.append(_row(f"{HEAD_INDEX}.raw.{key}", reference.raw[key], tt_raw[key]))
    rows.append(_row(f"{HEAD_INDEX}.decoded", reference.decoded, tt_model.output_to_torch(decoded, composer)))
    return rows


def isolated_layer_pcc_table(
    reference_model: nn.Module, tt_model: TtnnYoloV11Pose, torch_input: torch.Tensor
) -> list[LayerPcc]:
    """Per-block PCC: every TT layer (0..22, then the head) fed the reference's own inputs for that layer.

    Unlike :func:`layer_pcc_table`, errors do not accumulate from layer to layer, so each row measures one block, as
    tt-metal's per-module tests do. One device only (the inputs are not sharded over a mesh).
    """
    if int(tt_model.device.get_num_devices()) > 1:
        raise ValueError("isolated_layer_pcc_table runs on one device; use layer_pcc_table on a mesh")
    ttnn = api_for(tt_model.device)
    with torch.no_grad():
        reference = reference_model.run(torch_input.float())  # type: ignore[operator]
    ctx = tt_model.ctx
    rows: list[LayerPcc] = []
    for index, layer in enumerate(tt_model.layers):
        block = type(reference_model.model[index]).__name__  # type: ignore[index]
        if index == 0:
            host = input_to_host_tensor(ttnn, torch_input)
            x = ttnn.to_device(host, tt_model.device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
            output: Feature = layer(tt_model.input_feature(x))
        elif index in CONCAT_SOURCES:
            sources = (reference.layers[index - 1], reference.layers[CONCAT_SOURCES[index]])
            output = layer([feature_from_torch(ctx, t) for t in sources])
        else:
            output = layer(feature_from_torch(ctx, reference.layers[index - 1]))
        rows.append(_row(f"{index}.{block}", reference.layers[index], tt_model.feature_to_torch(output)))
    feats = [feature_from_torch(ctx, reference.layers[i]) for i in FEATURE_INDICES]
    decoded, raw, maps = tt_model.head(feats)
    for key in sorted(maps, key=lambda k: (int(k.split(".")[1]), k)):
        rows.append(_row(f"{HEAD_INDEX}.{key}", reference.head[key], tt_model.feature_to_torch(maps[key])))
    tt_raw = tt_model.raw_to_torch(raw)
    for key in ("boxes", "scores", "kpts"):
        rows.append(_row(f"{HEAD_INDEX}.raw.{key}", reference.raw[key], tt_raw[key]))
    rows.append(_row(f"{HEAD_INDEX}.decoded", reference.decoded, tt_model.output_to_torch(decoded)))
    return rows


def format_table(rows: list[LayerPcc], threshold: float | None = None) -> str:
    """A plain-text table; with a threshold, the first row below it is marked."""
    lines = [f"{'layer':<22} {'shape':<22} {'pcc':>9} {'max|err|':>10}"]
    marked = False
    for row in rows:
        mark = ""
        if threshold is not None and not marked and row.pcc < threshold:
            mark, marked = "  <- first below threshold", True
        lines.append(f"{row.name:<22} {str(list(row.shape)):<22} {row.pcc:>9.5f} {row.max_abs_error:>10.4g}{mark}")
    return "\n".join(lines)


__all__ = ["LayerPcc", "format_table", "isolated_layer_pcc_table", "layer_pcc_table", "pcc"]
