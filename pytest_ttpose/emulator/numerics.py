"""TT number formats and math fidelity, vectorised in torch.

Storage rounding matches the real ttnn host conversion bit for bit (checked against ttnn 0.81.1):
- bfloat16: round to nearest even; subnormals kept; every NaN becomes the positive quiet NaN 0x7FC0.
- bfloat8_b: blocks of 16 consecutive values along the last (padded) dimension share the largest float32
  exponent of the block; each value keeps sign + 7 magnitude bits at step 2^(shared_exp - 133), rounded to nearest
  even and clamped at 127; float32 subnormals flush to zero; a value that rounds to 0 loses its sign; inf and NaN
  stay (NaN keeps its sign, quiet payload).

Math fidelity follows tt-llk's FidelityMasking for Wormhole/Blackhole. The matmul unit multiplies a SrcA mantissa
slice by a SrcB mantissa slice per phase. The right operand (weights) sits in SrcA, split after 4 bf16 mantissa bits;
the left operand (activations) sits in SrcB, split after 6 bits. LoFi runs phase 0 (hiA*hiB); HiFi2 adds loA*hiB;
HiFi3 adds hiA*loB; HiFi4 is the exact bf16 product.

The device side (what an op's output holds, unlike the host conversion above) follows tt-isa-documentation
(WormholeB0/TensixTile/TensixCoprocessor): ``round_dst_bfloat16_`` is the BF16 ``Dst`` write of the matrix unit
(TensixCoprocessor/MatrixUnit.md, TensixCoprocessor/MVMUL.md), ``pack_bfloat8_b`` the packer's conversion to
BFP8 (Packers/FormatConversion.md).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Literal

import torch

from .types import DataType, MathFidelity

BFP_BLOCK = 16
_NAN_BF16 = 0x7FC00000
_SRC_A_HI_MASK = -(1 << (23 - 4))  # sign, exponent and the top 4 mantissa bits
_SRC_B_HI_MASK = -(1 << (23 - 6))  # sign, exponent and the top 6 mantissa bits


def round_bfloat16(values: torch.Tensor, canonical_nan: bool = True) -> torch.Tensor:
    rounded = values.to(torch.bfloat16).to(torch.float32)
    if canonical_nan:
        nan = torch.isnan(rounded)
        if bool(nan.any()):
            rounded = torch.where(nan, torch.tensor(_NAN_BF16, dtype=torch.int32).view(torch.float32), rounded)
    return rounded


def _as_blocks(x: torch.Tensor, owned: bool) -> tuple[torch.Tensor, int, bool]:
    """The float32 tensor ``x`` as contiguous [n, 16] blocks along its last dimension, padded with zeros to a multiple
    of 16: (blocks, the zeros padded per row, whether the blocks are a copy of our own or ``owned`` already was)."""
    pad = (-x.shape[-1]) % BFP_BLOCK
    if pad:
        x, owned = torch.nn.functional.pad(x, (0, pad)), True
    if not x.is_contiguous():
        x, owned = x.contiguous(), True
    return x.view(-1, BFP_BLOCK), pad, owned


def round_bfloat8_b(values: torch.Tensor, unsigned_zero: bool = True, inplace: bool = False) -> torch.Tensor:
    """Round to bfloat8_b: 16-value blocks along the last dimension (padded with zeros to a multiple of 16).

    ``unsigned_zero=False`` leaves -0.0 where a negative value rounded to zero: equal in every computation, and
    ``to_torch`` clears the sign, so ops skip that pass. ``inplace=True`` lets the rounding overwrite ``values`` (a
    float32 tensor the caller owns and no longer needs), which saves allocating the result.
    """
    x = values.to(torch.float32)
    if x.dim() == 0:
        return round_bfloat8_b(x.reshape(1), unsigned_zero).reshape(())
    owned = inplace or x is not values  # a conversion is a copy of our own
    shape = x.shape
    width = shape[-1]
    blocks, pad, owned = _as_blocks(x, owned)
    result = _round_common_blocks(blocks, owned) if blocks.numel() else None
    if result is None:
        result = _round_any_blocks(blocks, unsigned_zero)
    elif unsigned_zero:
        result.add_(0.0)  # -0.0 -> +0.0: a zero magnitude keeps no sign
    result = result.reshape(*shape[:-1], width + pad)
    return result[..., :width] if pad else result


_workspaces = threading.local()


def _int32_workspace(shape: torch.Size) -> torch.Tensor:
    """A scratch int32 tensor of ``shape``, reused (per thread) from call to call: a fresh large allocation costs a
    page fault per page on every op, more than the pass that fills it."""
    numel = math.prod(shape)
    buffer: torch.Tensor | None = getattr(_workspaces, "int32", None)
    if buffer is None or buffer.numel() < numel:
        buffer = torch.empty(numel, dtype=torch.int32)
        _workspaces.int32 = buffer
    return buffer[:numel].view(shape)


# The common path's shared exponents: 24 and up, where the alignment grid 2^(shared - 150) is a normal float32.
_COMMON_MIN_BITS = 24 << 23
_INF_BITS = 0x7F800000


def _round_common_blocks(blocks: torch.Tensor, inplace: bool) -> torch.Tensor | None:
    """``_round_any_blocks`` for the common case, in fewer passes: every block is all zeros or has a shared exponent
    from 24 to 254 (so no inf, NaN, or float32 subnormal that would survive). Returns None for any other input.

    The arithmetic is ``_round_any_blocks``', so the bits are the same, -0.0 included: dividing by the power of two
    2^(shared - 150) with truncation is exactly trunc(x * 2^(150 - shared)), in one pass. The block maximum comes
    from the integer magnitudes (one integer reduction instead of a float one), the scales from exponent bits.
    """
    magnitudes = torch.bitwise_and(blocks.view(torch.int32), 0x7FFFFFFF, out=_int32_workspace(blocks.shape))
    max_bits = magnitudes.amax(dim=1, keepdim=True)
    lowest, highest = (int(bound) for bound in torch.aminmax(max_bits))
    if highest >= _INF_BITS:
        return None
    if lowest < _COMMON_MIN_BITS:
        if bool(((max_bits > 0) & (max_bits < _COMMON_MIN_BITS)).any()):
            return None
        max_bits.clamp_(min=_COMMON_MIN_BITS)  # only all-zero blocks are below: they stay zero at any scale
    grid = ((max_bits & _INF_BITS) - (23 << 23)).view(torch.float32)  # 2^(shared - 150)
    step = grid * 2.0**17  # 2^(shared - 133)
    if inplace:
        aligned = blocks.div_(grid, rounding_mode="trunc")
    else:
        aligned = torch.div(blocks, grid, rounding_mode="trunc")
    return aligned.mul_(2.0**-17).round_().clamp_(-127.0, 127.0).mul_(step)


def _round_any_blocks(blocks: torch.Tensor, unsigned_zero: bool) -> torch.Tensor:
    """bfloat8_b rounding of [n, 16] blocks, any values (a new tensor; ``blocks`` is not modified)."""
    # The largest magnitude carries the largest exponent, so the shared exponent comes from a per-block maximum.
    block_max = blocks.abs().amax(dim=1, keepdim=True)
    shared = (block_max.view(torch.int32) >> 23) & 0xFF
    special = not bool(torch.isfinite(block_max).all())
    tiny = bool(((shared < 8) & (shared > 0)).any())  # float32 subnormals could survive: flush them first
    if special or tiny:
        exponent = (blocks.view(torch.int32) >> 23) & 0xFF
        shared = exponent.amax(dim=1, keepdim=True)
        blocks = torch.where(exponent == 0, torch.zeros_like(blocks), blocks)
    # ttnn aligns each 24-bit mantissa to the shared exponent by a truncating shift, then rounds the aligned value
    # to 7 bits (nearest, ties to even): q = round(trunc(x * 2^(150 - shared)) / 2^17). All scalings are exact
    # powers of two; a factor outside float32's range is applied in two steps.
    shift = (150 - shared).to(torch.float32)
    if bool((shift.amin() >= -126) & (shift.amax() <= 127)):
        aligned = (blocks * torch.exp2(shift)).trunc_()
    else:
        first = torch.floor(shift / 2)
        aligned = (blocks * torch.exp2(first)).mul_(torch.exp2(shift - first)).trunc_()
    quantized = aligned.mul_(2.0**-17).round_().clamp_(-127.0, 127.0)
    step = (shared - 133).to(torch.float32)
    if bool((step.amin() >= -126) & (step.amax() <= 127)):
        result = quantized.mul_(torch.exp2(step))
    else:
        first = torch.floor(step / 2)
        result = quantized * torch.exp2(first) * torch.exp2(step - first)
    if unsigned_zero:
        result.add_(0.0)  # -0.0 -> +0.0: a zero magnitude keeps no sign
    if special:
        # inf and NaN keep exponent 255 and take the rounded magnitude's low 6 bits as mantissa (so a NaN whose
        # magnitude rounds to 64 becomes inf), as ttnn's packer does.
        bits = blocks.view(torch.int32)
        is_special = ((bits >> 23) & 0xFF) == 0xFF
        mantissa = (bits & 0x7FFFFF) | 0x800000
        kept = mantissa >> 17
        rest = mantissa & 0x1FFFF
        up = (rest > 0x10000) | ((rest == 0x10000) & ((kept & 1) == 1))
        q = torch.clamp(kept + up.to(torch.int32), max=127)
        special_bits = (bits & -0x80000000) | 0x7F800000 | ((q & 63) << 17)
        result = torch.where(is_special, special_bits.view(torch.float32), result)
    return result


def round_to_dtype(values: torch.Tensor, dtype: DataType, inplace: bool = False) -> torch.Tensor:
    """The float32 tensor holding exactly what a TT buffer of ``dtype`` stores for ``values``. ``inplace=True``: the
    caller owns ``values`` and lets the rounding overwrite it."""
    if dtype == DataType.FLOAT32:
        return values.to(torch.float32)
    if dtype == DataType.BFLOAT16:
        if inplace and values.dtype == torch.float32:
            return values.copy_(values.to(torch.bfloat16))  # the same bits, one allocation fewer
        return round_bfloat16(values, canonical_nan=False)
    if dtype == DataType.BFLOAT8_B:
        return round_bfloat8_b(values, unsigned_zero=False, inplace=inplace)
    if dtype in (DataType.UINT32, DataType.INT32, DataType.UINT16, DataType.UINT8):
        return torch.trunc(values.to(torch.float32))
    raise NotImplementedError(f"data type {dtype} is not supported by the emulator")


def round_dst_bfloat16_(values: torch.Tensor) -> torch.Tensor:
    """Round float32 ``values`` in place to bfloat16 as a BF16 ``Dst`` write does: to nearest, ties to even.

    TensixCoprocessor/MatrixUnit.md's ``WriteDstBF16`` says only that real hardware rounds, not how; the emulator takes
    round to nearest even, which is also what torch's bfloat16 arithmetic does, so a BF16 accumulator can run as
    bfloat16 matmuls (a tie needs the 16 dropped bits to be exactly 0x8000, rare in a sum of products). Works on any
    view."""
    return values.copy_(values.to(torch.bfloat16))


_E8M6_HALF = 1 << 16  # half of the 17 float32 mantissa bits an e8m6 value drops
# Scaling a block by 2^(133 - shared) * (1 + 2^-15) before a round-half-even gives round-half-away of the unscaled
# quotient: a tie (k + 1/2, k < 128) moves away from zero, and every other quotient stays more than 2^-7 (at most
# 7 significant bits at a shift of at most 7) or 2^-8 (below 1/2) from a rounding boundary, which the nudge of at most
# 128 * 2^-15 cannot cross. The products stay exact or keep their side of 1/2.
_TIES_AWAY_NUDGE = 1.0 + 2.0**-15


def pack_bfloat8_b(values: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """What the device packer stores for ``values`` (Dst contents) in a bfloat8_b buffer. ``inplace=True`` lets it
    overwrite ``values`` (a float32 tensor the caller owns and no longer needs).

    Packers/FormatConversion.md: the early conversion rounds each datum to E8M6 (sign, 8-bit exponent, implicit 1
    and 6 mantissa bits: 7 significant bits); the late conversion then rounds each datum to a 7-bit magnitude at the
    largest exponent of its 16-datum block. Both roundings are deterministic round-to-nearest with ties away from
    zero, so a value can be rounded twice (unlike the host's single round-half-even from the full float32 mantissa,
    ``round_bfloat8_b``). Blocks run along the last dimension, padded with zeros to a multiple of 16. A negative
    value that rounds to zero may keep its sign (equal in every computation, as ``round_bfloat8_b(unsigned_zero=
    False)``). Denormals become zero. A tensor with inf, NaN, or a block below 2^-103 takes the host's block rule
    after the early conversion (not characterised here).
    """
    x = values.to(torch.float32)
    if x.dim() == 0:
        return pack_bfloat8_b(x.reshape(1)).reshape(())
    shape = x.shape
    width = shape[-1]
    blocks, pad, owned = _as_blocks(x, inplace or x is not values)
    if not owned:
        blocks = blocks.clone()
    if not blocks.numel():
        return values.to(torch.float32)
    bits = blocks.view(torch.int32)
    bits.add_(_E8M6_HALF).bitwise_and_(-(_E8M6_HALF << 1))  # early: E8M6, ties away (sign-magnitude bits)
    magnitudes = torch.bitwise_and(bits, 0x7FFFFFFF, out=_int32_workspace(blocks.shape))
    max_bits = magnitudes.amax(dim=1, keepdim=True)
    lowest, highest = (int(bound) for bound in torch.aminmax(max_bits))
    tiny = lowest < _COMMON_MIN_BITS and bool(((max_bits > 0) & (max_bits < _COMMON_MIN_BITS)).any())
    if highest >= _INF_BITS or tiny:
        # inf, NaN, or a block below 2^-103: the late conversion by the host's block rule
        early = blocks.view(*shape[:-1], width + pad)
        return round_bfloat8_b(early[..., :width] if pad else early, unsigned_zero=False)
    max_bits.clamp_(min=_COMMON_MIN_BITS)  # only all-zero blocks are below: they stay zero at any scale
    shared = max_bits & _INF_BITS
    inverse_step = ((260 << 23) - shared).view(torch.float32) * _TIES_AWAY_NUDGE  # 2^(133 - shared), nudged
    step = (shared - (6 << 23)).view(torch.float32)  # 2^(shared - 133)
    result = blocks.mul_(inverse_step).round_().mul_(step).view(*shape[:-1], width + pad)
    return result[..., :width] if pad else result


# How a device packer converts to a block-float format: tt-metal compiles each kernel with bfp8_pack_precise off
# ("approximate": the early conversion rounds to the block format's mantissa first, so a value can round twice) or on
# ("precise": one rounding). ttnn.typecast is the op that turns it on (tenstorrent/tt-metal issue 52155 measured
# typecast rounding once where add, multiply, clone and matmul round twice).
BfpPackPrecision = Literal["approximate", "precise"]


def pack_to_dtype(
    values: torch.Tensor, dtype: DataType, inplace: bool = False, precision: BfpPackPrecision = "approximate"
) -> torch.Tensor:
    """The float32 tensor holding what a device op's packer stores for ``values`` in a buffer of ``dtype``: for
    bfloat8_b the packer's double rounding (``pack_bfloat8_b``), or with ``precision="precise"`` one rounding, which
    the emulator takes to be the host's (issue 52155's typecast error matches it: mean absolute error 5.840e-3 on the
    device, against 6.901e-3 rounded twice, the ratio ``pack_bfloat8_b`` reproduces); the host rules
    (``round_to_dtype``) for every other dtype."""
    if dtype == DataType.BFLOAT8_B and precision == "approximate":
        return pack_bfloat8_b(values, inplace)
    return round_to_dtype(values, dtype, inplace)


def _keep_bits(values: torch.Tensor, mask: int) -> torch.Tensor:
    """Keep the bits of ``mask`` in every float32 (works on any strides: the layout of ``values`` is kept)."""
    return values.view(torch.int32).bitwise_and(mask).view(torch.float32)


def needs_weights_hi(fidelity: MathFidelity) -> bool:
    """Whether a fidelity reads the SrcA high part of the weights (``weights_hi``)."""
    return fidelity in (MathFidelity.LoFi, MathFidelity.HiFi3)


def weights_hi(weights: torch.Tensor) -> torch.Tensor:
    """The part of each weight the matmul unit sees in a SrcA high phase (sign, exponent, top 4 mantissa bits)."""
    return _keep_bits(weights, _SRC_A_HI_MASK)


def fidelity_operands(
    activations: torch.Tensor,
    weights: torch.Tensor,
    fidelity: MathFidelity,
    w_hi: torch.Tensor | None = None,
    activations_dtype: DataType | None = None,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (activation, weight) operand pairs whose fp32 products sum to what the TT matmul unit computes.

    Operands must already hold bf16-representable values (bfloat8_b values are). ``w_hi`` may pass
    ``weights_hi(weights)`` computed once for weights that are reused. ``activations_dtype=BFLOAT8_B`` says the
    activations are stored bfloat8_b values: their at most 7 significant bits are exactly what the SrcB high part
    keeps (the leading bit and 6 mantissa bits), so the masking pass is skipped.
    """
    if fidelity == MathFidelity.HiFi4:
        return [(activations, weights)]
    fits_src_b_hi = activations_dtype == DataType.BFLOAT8_B
    act_hi = activations if fits_src_b_hi else _keep_bits(activations, _SRC_B_HI_MASK)
    if fidelity == MathFidelity.HiFi2:
        return [(act_hi, weights)]
    w_hi = weights_hi(weights) if w_hi is None else w_hi
    if fidelity == MathFidelity.LoFi:
        return [(act_hi, w_hi)]
    if fidelity == MathFidelity.HiFi3:
        return [(act_hi, weights), (activations - act_hi, w_hi)]
    raise ValueError(f"unsupported math fidelity {fidelity}")


_SRC_A_LO_REST_MASK = -0x7C001  # 0xfff83fff: everything but the five SrcA bits of an odd phase
_SRC_B_LO_REST_MASK = -0x1E001  # 0xfffe1fff: everything but the four SrcB bits of phase 2 and 3

# The fidelity phases each math fidelity runs (FidelityPhase 0 to 3 of TensixCoprocessor/MVMUL.md)
_FIDELITY_PHASES = {MathFidelity.LoFi: 1, MathFidelity.HiFi2: 2, MathFidelity.HiFi3: 3, MathFidelity.HiFi4: 4}


def fidelity_phase_operands(
    activations: torch.Tensor,
    weights: torch.Tensor,
    fidelity: MathFidelity,
    w_hi: torch.Tensor | None = None,
    activations_dtype: DataType | None = None,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (SrcB activation part, SrcA weight part) pair of each fidelity phase, in phase order, one MVMUL each.

    Unlike ``fidelity_operands`` no two phases are merged: with a BF16 ``Dst`` every phase's product is rounded into
    ``Dst`` on its own. Phase p takes SrcA's high bits when p is even and its next five bits when odd, SrcB's high bits
    when p < 2 and its next four bits otherwise (``SrcAFidelityBits`` / ``SrcBFidelityBits`` of
    TensixCoprocessor/MatrixUnit.md).
    ``activations_dtype=BFLOAT8_B`` (stored bfloat8_b values, which may come as a bfloat16 tensor) leaves out phases 2
    and 3, whose products are zero: adding zero to a BF16 ``Dst`` changes nothing.
    """
    phases = _FIDELITY_PHASES.get(fidelity)
    if phases is None:
        raise ValueError(f"unsupported math fidelity {fidelity}")
    fits_src_b_hi = activations_dtype == DataType.BFLOAT8_B
    act_hi = activations if fits_src_b_hi else _keep_bits(activations, _SRC_B_HI_MASK)
    w_hi = weights_hi(weights) if w_hi is None else w_hi
    pairs = [(act_hi, w_hi)]
    if phases > 1:
        w_lo = weights - _keep_bits(weights, _SRC_A_LO_REST_MASK)
        pairs.append((act_hi, w_lo))
    if phases > 2 and not fits_src_b_hi:  # stored bfloat8_b activations have no SrcB low bits: zero products
        act_lo = activations - _keep_bits(activations, _SRC_B_LO_REST_MASK)
        pairs.append((act_lo, w_hi))
    if phases > 3 and not fits_src_b_hi:
        pairs.append((act_lo, w_lo))
    return pairs


def fidelity_product(
    activations: torch.Tensor,
    weights: torch.Tensor,
    fidelity: MathFidelity,
    product: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    activations_dtype: DataType | None = None,
    w_hi: torch.Tensor | None = None,
) -> torch.Tensor:
    """Run ``product`` (a matmul or a convolution, fp32 accumulation) over the fidelity phases and sum them."""
    pairs = fidelity_operands(activations, weights, fidelity, w_hi, activations_dtype)
    result = product(*pairs[0])
    for act, w in pairs[1:]:
        result = result + product(act, w)
    return result


_TF32_MASK = -(1 << 13)


def math_operand(values: torch.Tensor, dtype: DataType) -> torch.Tensor:
    """An operand as the unpacker puts it in a source register: float32 is truncated to TF32 (10 mantissa bits);
    bfloat16 and bfloat8_b values are already exact there."""
    if dtype == DataType.FLOAT32:
        return _keep_bits(values, _TF32_MASK)
    return values
