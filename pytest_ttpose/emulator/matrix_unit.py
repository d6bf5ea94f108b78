"""The matrix unit's accumulation into ``Dst`` as matmul and conv programs drive it (a conv's partial sums between
kernel rows are in ops/conv.py).

With ``fp32_dest_acc_en`` ``Dst`` holds float32, and a float32 matmul of the fidelity operands is what the unit
computes. Without it ``Dst`` holds bfloat16 and every ``MVMUL`` rounds into it (tt-isa-documentation,
WormholeB0/TensixTile/TensixCoprocessor/MVMUL.md: ``Dst16b = WriteDstBF16(Multiplied + ReadDstBF16(Dst16b))``). One
``MVMUL`` multiplies a 16-wide K slice for one fidelity phase, so a 32x32 tile product is, per K tile, per fidelity
phase (the outer loop, as TensixCoprocessor/Dst.md advises), per 16-wide half: ``Dst = round(Dst + slice product)``. The
16-term slice product itself is taken in float32 (the functional model's ``float x``). How the write rounds is not
documented; see ``round_dst_bfloat16_``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .numerics import fidelity_phase_operands, fidelity_product, round_dst_bfloat16_
from .types import DataType, MathFidelity, WormholeComputeKernelConfig

MVMUL_K = 16  # the K extent of one MVMUL (SrcB 8x16 @ SrcA 16x16)
TILE_K = 32


def fp32_dest_acc(config: WormholeComputeKernelConfig | None, default: bool) -> bool:
    """Whether ``Dst`` holds float32: the config's ``fp32_dest_acc_en``, else the op's default."""
    return default if config is None else config.fp32_dest_acc_en


def accumulate_bf16_dst(
    acc: torch.Tensor,
    activations: torch.Tensor,
    weights: torch.Tensor,
    fidelity: MathFidelity,
    activations_dtype: DataType,
    weights_dtype: DataType,
    w_hi: torch.Tensor | None = None,
    columns: Sequence[slice] | None = None,
) -> None:
    """``acc += activations @ weights`` ([M, K] @ [K, N] onto a bfloat16 [M, N]) as the matrix unit runs it with a
    BF16 ``Dst``: per 32-wide K tile, per fidelity phase, per 16-wide half, the slice product is added and the sum
    rounded to bfloat16 (``round_dst_bfloat16_``'s rule). ``columns[k0 // 16]`` may narrow the output columns the K
    slice from k0 can reach (grouped weights are zero elsewhere, and adding zero to a bfloat16 value changes nothing).

    Fidelity parts of bfloat16 and bfloat8_b operands are bfloat16 values, so each step is one bfloat16 ``addmm_``
    (float32 products and sum, one rounding to nearest even). TF32 parts of float32 operands are not: those steps
    run in float32 and round after."""
    k = activations.shape[-1]
    phases = fidelity_phase_operands(activations, weights, fidelity, w_hi, activations_dtype)
    in_bf16 = DataType.FLOAT32 not in (activations_dtype, weights_dtype)
    if in_bf16:
        phases = [(act.to(torch.bfloat16), w.to(torch.bfloat16)) for act, w in phases]
    for tile in range(0, k, TILE_K):
        for act, w in phases:
            for k0 in range(tile, min(tile + TILE_K, k), MVMUL_K):
                k1 = min(k0 + MVMUL_K, k)
                cols = slice(None) if columns is None else columns[k0 // MVMUL_K]
                part = acc[:, cols]
                if in_bf16:
                    part.addmm_(act[:, k0:k1], w[k0:k1, cols])
                else:
                    wider = part.float().addmm_(act[:, k0:k1], w[k0:k1, cols])
                    part.copy_(wider)  # to nearest even, as round_dst_bfloat16_


def dst_matmul(
    activations: torch.Tensor,
    weights: torch.Tensor,
    fidelity: MathFidelity,
    activations_dtype: DataType,
    weights_dtype: DataType,
    w_hi: torch.Tensor | None = None,
) -> torch.Tensor:
    """``activations @ weights`` (torch.matmul broadcasting) accumulated in a BF16 ``Dst`` (a new float32 tensor)."""
    m, n = activations.shape[-2], weights.shape[-1]
    batch = torch.broadcast_shapes(activations.shape[:-2], weights.shape[:-2])
    if weights.dim() == 2 or all(d == 1 for d in weights.shape[:-2]):
        # One weight matrix for every batch entry: the rows of all entries are rows of one product.
        lhs = activations.expand(*batch, m, activations.shape[-1]).reshape(-1, activations.shape[-1])
        rhs = weights.reshape(weights.shape[-2], n)
        hi = None if w_hi is None else w_hi.reshape(rhs.shape)
        acc = torch.zeros(lhs.shape[0], n, dtype=torch.bfloat16)
        accumulate_bf16_dst(acc, lhs, rhs, fidelity, activations_dtype, weights_dtype, hi)
        return acc.float().reshape(*batch, m, n)
    lhs_all = activations.expand(*batch, *activations.shape[-2:]).reshape(-1, m, activations.shape[-1])
    rhs_all = weights.expand(*batch, *weights.shape[-2:]).reshape(-1, weights.shape[-2], n)
    out = torch.zeros(lhs_all.shape[0], m, n, dtype=torch.bfloat16)
    for index in range(lhs_all.shape[0]):
        accumulate_bf16_dst(out[index], lhs_all[index], rhs_all[index], fidelity, activations_dtype, weights_dtype)
    return out.float().reshape(*batch, m, n)


def matrix_unit_product(
    activations: torch.Tensor,
    weights: torch.Tensor,
    fidelity: MathFidelity,
    activations_dtype: DataType,
    weights_dtype: DataType,
    dst_fp32: bool,
    w_hi: torch.Tensor | None = None,
) -> torch.Tensor:
    """The matmul unit's ``activations @ weights`` with a float32 or a BF16 ``Dst``."""
    if dst_fp32:
        return fidelity_product(activations, weights, fidelity, torch.matmul, activations_dtype, w_hi)
    return dst_matmul(activations, weights, fidelity, activations_dtype, weights_dtype, w_hi)


def finish_in_dst(values: torch.Tensor, dst_fp32: bool) -> torch.Tensor:
    """A result the unit wrote into ``Dst`` after the products (a bias add, an activation), rounded as ``Dst``
    holds it. ``values`` is a fresh float32 tensor; a BF16 ``Dst`` rounds it in place."""
    return values if dst_fp32 else round_dst_bfloat16_(values)


def column_ranges(in_channels: int, out_channels: int, groups: int, k_channels: Sequence[int]) -> list[slice] | None:
    """For grouped weights whose K index ``k`` holds input channel ``k_channels[k]``: per 16-wide K slice, the output
    columns (a range of whole groups) it reaches. None for ungrouped weights (every column)."""
    if groups == 1:
        return None
    per_group_in = in_channels // groups
    per_group_out = out_channels // groups
    ranges = []
    for k0 in range(0, len(k_channels), MVMUL_K):
        touched = [channel // per_group_in for channel in k_channels[k0 : k0 + MVMUL_K]]
        ranges.append(slice(min(touched) * per_group_out, (max(touched) + 1) * per_group_out))
    return ranges
