"""Per-block PCC, like tt-metal's per-module tests: each TT block on its own against the reference block.

Seeded random (BN-calibrated) n weights, random inputs. Bars: 0.999 for bfloat16, 0.998 for bfloat8_b.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch import nn
from ttmodel_cases import DTYPE_CONFIGS, DtypeConfig

from pytest_ttpose.tt.blocks import C2PSA, SPPF, Attention, Bottleneck, C3k, C3k2, PSABlock
from pytest_ttpose.tt.common import Concat, Conv, DWConv, ModelContext, Upsample
from pytest_ttpose.tt.diagnostics import pcc
from pytest_ttpose.tt.head import PoseHead, decoded_to_torch, raw_to_torch
from pytest_ttpose.tt.model import feature_from_torch, make_context
from pytest_ttpose.tt.weights import FoldedConv, fold_model


@pytest.fixture(scope="module")
def folded(seeded_n: nn.Module) -> dict[str, FoldedConv]:
    return fold_model(seeded_n)


def _context(ttnn: Any, device: Any, config: DtypeConfig) -> ModelContext:
    return make_context(device, act_dtype=getattr(ttnn, config.act), weight_dtype=getattr(ttnn, config.weight))


def _input(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class BlockCase:
    """A reference module path, how to build its TT block, and the input shapes (one per input)."""

    path: str
    build: Callable[[ModelContext, nn.Module, dict[str, FoldedConv], str], Any]
    inputs: tuple[tuple[int, ...], ...]


CASES = {
    "Conv-s2": BlockCase("model.1", lambda c, m, w, p: Conv(c, w[p], stride=2), ((1, 16, 64, 64),)),
    "Bottleneck": BlockCase("model.2.m.0", Bottleneck, ((1, 16, 32, 32),)),
    "C3k": BlockCase("model.6.m.0", C3k, ((1, 64, 20, 20),)),
    "C3k2": BlockCase("model.2", C3k2, ((1, 32, 32, 32),)),
    "C3k2-c3k": BlockCase("model.8", C3k2, ((1, 256, 10, 10),)),
    "SPPF": BlockCase("model.9", SPPF, ((1, 256, 10, 10),)),
    "Attention": BlockCase("model.10.m.0.attn", Attention, ((1, 128, 10, 10),)),
    "Attention-b2": BlockCase("model.10.m.0.attn", Attention, ((2, 128, 10, 10),)),
    "PSABlock": BlockCase("model.10.m.0", PSABlock, ((1, 128, 10, 10),)),
    "C2PSA": BlockCase("model.10", C2PSA, ((1, 256, 10, 10),)),
    "DWConv": BlockCase("model.23.cv3.0.0.0", lambda c, m, w, p: DWConv(c, w[p]), ((1, 64, 20, 20),)),
    "Upsample": BlockCase("model.11", lambda c, m, w, p: Upsample(c, 2), ((2, 128, 10, 10),)),
    "Concat": BlockCase("model.12", lambda c, m, w, p: Concat(c), ((1, 256, 20, 20), (1, 128, 20, 20))),
    "Concat-narrow": BlockCase("model.12", lambda c, m, w, p: Concat(c), ((1, 16, 20, 20), (1, 16, 20, 20))),
}


@pytest.mark.parametrize("config", DTYPE_CONFIGS)
@pytest.mark.parametrize("case_id", list(CASES))
def test_block_pcc(
    ttnn: Any, device: Any, seeded_n: nn.Module, folded: dict[str, FoldedConv], config: DtypeConfig, case_id: str
) -> None:
    case = CASES[case_id]
    module = seeded_n.get_submodule(case.path)
    ctx = _context(ttnn, device, config)
    block = case.build(ctx, module, folded, case.path)
    inputs = [_input(*shape, seed=i) for i, shape in enumerate(case.inputs)]
    with torch.no_grad():
        expected = module(inputs) if len(inputs) > 1 else module(inputs[0])
    features = [feature_from_torch(ctx, x) for x in inputs]
    output = block(features) if len(features) > 1 else block(features[0])
    assert (output.batch, output.channels, output.height, output.width) == tuple(expected.shape)
    value = ttnn.to_torch(output.tensor).float()
    got = value.reshape(output.batch, output.height, output.width, output.channels).permute(0, 3, 1, 2)
    score = pcc(expected, got)
    assert score >= config.block_pcc, f"{case_id} ({config.id}): PCC {score:.6f} < {config.block_pcc}"


@pytest.mark.parametrize("config", DTYPE_CONFIGS)
@pytest.mark.parametrize("batch", [1, 2])
def test_pose_head_pcc(
    ttnn: Any, device: Any, seeded_n: nn.Module, folded: dict[str, FoldedConv], config: DtypeConfig, batch: int
) -> None:
    """The Pose head alone on a 256x192 input's P3/P4/P5: per-level maps, raw tensors and the on-device decode."""
    height, width = 256, 192
    head_module = seeded_n.get_submodule("model.23")
    channels = [seeded_n.out_channels[i] for i in (16, 19, 22)]  # type: ignore[attr-defined]
    feats = [_input(batch, c, height // s, width // s, seed=s) for c, s in zip(channels, (8, 16, 32), strict=True)]
    with torch.no_grad():
        maps = head_module.level_maps(feats)
        raw = head_module.raw_outputs(maps, batch)
        decoded = head_module.decode(raw, [(f.shape[2], f.shape[3]) for f in feats])
    ctx = _context(ttnn, device, config)
    head = PoseHead(ctx, head_module, folded, "model.23", batch=batch, height=height, width=width)
    tt_decoded, tt_raw, _ = head([feature_from_torch(ctx, f) for f in feats])
    got_raw = raw_to_torch(ttnn, tt_raw)
    for key in ("boxes", "scores", "kpts"):
        assert got_raw[key].shape == raw[key].shape
        score = pcc(raw[key], got_raw[key])
        assert score >= config.block_pcc, f"raw {key} ({config.id}): PCC {score:.6f} < {config.block_pcc}"
    got = decoded_to_torch(ttnn, tt_decoded)
    assert got.shape == decoded.shape == (batch, 56, sum((height // s) * (width // s) for s in (8, 16, 32)))
    score = pcc(decoded, got)
    assert score >= config.block_pcc, f"decoded ({config.id}): PCC {score:.6f} < {config.block_pcc}"
