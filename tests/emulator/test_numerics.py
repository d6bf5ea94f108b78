"""Storage rounding and math fidelity rules, checked against independent scalar reasoning."""

from __future__ import annotations

import math

import pytest
import torch

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator.numerics import (
    _round_any_blocks,
    _round_common_blocks,
    fidelity_operands,
    fidelity_product,
    round_bfloat8_b,
    round_bfloat16,
)


def _row(values: list[float]) -> torch.Tensor:
    x = torch.zeros(1, 32)
    x[0, : len(values)] = torch.tensor(values)
    return x


def test_bfloat16_rounds_to_nearest_even_and_canonicalises_nan() -> None:
    x = torch.tensor([1 + 2**-8, 1 + 3 * 2**-8, float("nan"), -float("nan"), 1e-39])
    out = round_bfloat16(x)
    assert out[0] == 1.0  # tie -> even
    assert out[1] == 1 + 2**-6  # tie -> even (up)
    assert out[2:4].view(torch.int32).tolist() == [0x7FC00000, 0x7FC00000]
    assert out[4] != 0  # subnormals are kept


def test_bfloat8_b_shares_the_block_exponent() -> None:
    out = round_bfloat8_b(_row([1.0, 1 + 1 / 128, 1 + 3 / 128, 2**-7, 5 * 2**-9, 1.999]))
    # step is 2^-6 relative to the block max 1.999 (exponent 0): ties go to even, 1.999 clamps at 127 steps
    assert out[0, :6].tolist() == [1.0, 1.0, 1.03125, 0.0, 0.015625, 127 / 64]


def test_bfloat8_b_blocks_are_16_wide_along_the_last_dim() -> None:
    x = torch.full((1, 32), 0.01)
    x[0, 0] = 1000.0  # only the first block sees the large exponent
    out = round_bfloat8_b(x)
    assert (out[0, 1:16] == 0).all()
    assert torch.allclose(out[0, 16:], torch.full((16,), 0.01), rtol=1e-2)


def test_bfloat8_b_specials() -> None:
    out = round_bfloat8_b(_row([float("inf"), 2.0, -float("nan"), 1e-39, -0.0]))
    assert out[0, 0] == float("inf")
    assert out[0, 1] == 0.0  # a finite value in an inf block rounds to zero
    assert out[0, 2].view(torch.int32).item() == 0xFFC00000 - (1 << 32)
    assert out[0, 3:5].view(torch.int32).tolist() == [0, 0]  # subnormal flushed, zero has no sign


def _bits(values: torch.Tensor) -> torch.Tensor:
    return values.contiguous().view(torch.int32)


@pytest.mark.parametrize("scale", [2.0**-40, 1e-3, 1.0, 3e4, 2.0**60])
@pytest.mark.parametrize("unsigned_zero", [True, False])
def test_bfloat8_b_common_path_matches_the_general_path_bit_for_bit(scale: float, unsigned_zero: bool) -> None:
    generator = torch.Generator().manual_seed(7)
    spread = torch.exp2(torch.randint(-30, 30, (64, 48), generator=generator).float())
    x = torch.randn(64, 48, generator=generator) * scale * spread
    x[:8] = 0.0  # all-zero blocks
    x[8:16] = -0.0
    x[16:24, :16] *= 2.0**-60  # values far below their block maximum
    # ties of the 7-bit rounding, exact and with a bit below the alignment grid that truncation must drop
    power = 2.0 ** round(math.log2(scale))
    step = power * 2**-6  # the block maximum 1.5 * power has exponent log2(power): steps of 2^(exponent - 6)
    x[24:32, :] = power * 1.5
    x[24:32, 1::2] = step * (torch.arange(24).reshape(1, -1) % 5 + 0.5)
    x[28:32, 1::2] += step * 2**-19
    x[24:32, 2::4] *= -1
    x[40:48, :16] = torch.rand(8, 16, generator=generator) * 2.0**-103  # the lowest shared exponent of the path
    x[40:48, 0] = 1.75 * 2.0**-103
    blocks = x.reshape(-1, 16)
    common = _round_common_blocks(blocks.clone(), inplace=True)
    assert common is not None, "these inputs take the common path"
    if unsigned_zero:
        common.add_(0.0)
    general = _round_any_blocks(blocks, unsigned_zero)
    assert torch.equal(_bits(common), _bits(general))
    assert torch.equal(_bits(round_bfloat8_b(x, unsigned_zero)), _bits(general.reshape(x.shape)))


@pytest.mark.parametrize(
    "special",
    [float("inf"), float("nan"), 1e-39, 2.0**-120, 1.75 * 2.0**-104],
    ids=["inf", "nan", "subnormal", "tiny", "low"],
)
def test_bfloat8_b_inputs_outside_the_common_path_take_the_general_one(special: float) -> None:
    x = torch.randn(4, 32)
    x[2, 5] = special
    x[3, :16] = special  # a whole block of it
    blocks = x.reshape(-1, 16)
    assert _round_common_blocks(blocks.clone(), inplace=True) is None
    assert torch.equal(_bits(round_bfloat8_b(x, False)), _bits(_round_any_blocks(blocks, False).reshape(x.shape)))


def test_bfloat8_b_rounds_in_place_only_when_asked() -> None:
    x = torch.randn(8, 32)
    kept = x.clone()
    out = round_bfloat8_b(x)
    assert torch.equal(x, kept) and out.data_ptr() != x.data_ptr()
    out = round_bfloat8_b(x, inplace=True)
    assert out.data_ptr() == x.data_ptr() and torch.equal(out, round_bfloat8_b(kept))


def test_bfloat8_b_values_are_unchanged_by_the_src_b_high_mask() -> None:
    # why fidelity_operands may skip masking bfloat8_b activations: they already fit SrcB's high part
    x = round_bfloat8_b(torch.randn(64, 64) * torch.exp2(torch.randint(-40, 40, (64, 64)).float()))
    x[0, :4] = torch.tensor([float("inf"), -float("inf"), float("nan"), 0.0])
    x = round_bfloat8_b(x)
    w = round_bfloat16(torch.randn(64, 64))
    for fidelity in (ttnn.MathFidelity.LoFi, ttnn.MathFidelity.HiFi2, ttnn.MathFidelity.HiFi3):
        masked = fidelity_operands(x, w, fidelity)
        skipped = fidelity_operands(x, w, fidelity, activations_dtype=ttnn.bfloat8_b)
        assert skipped[0][0] is x
        for (act_m, w_m), (act_s, w_s) in zip(masked, skipped, strict=True):
            assert torch.equal(_bits(act_m), _bits(act_s)) and torch.equal(_bits(w_m), _bits(w_s))


def test_from_torch_pads_tiles_but_to_torch_never_shows_padding() -> None:
    t = ttnn.from_torch(torch.randn(3, 5, 7), dtype=ttnn.bfloat8_b)
    assert t.layout == ttnn.TILE_LAYOUT
    assert t.padded_shape == [3, 32, 32]
    assert ttnn.to_torch(t).shape == (3, 5, 7)
    assert ttnn.to_torch(t).dtype == torch.float32
    assert ttnn.to_torch(ttnn.from_torch(torch.randn(2, 3), dtype=ttnn.bfloat16)).dtype == torch.bfloat16


def test_bfloat8_b_needs_tile_layout() -> None:
    with pytest.raises(RuntimeError, match="Layout must be Layout::TILE"):
        ttnn.from_torch(torch.randn(32, 32), dtype=ttnn.bfloat8_b, layout=ttnn.ROW_MAJOR_LAYOUT)


@pytest.mark.parametrize("fidelity", list(ttnn.MathFidelity)[:4])
def test_fidelity_phases_match_masked_products(fidelity: ttnn.MathFidelity) -> None:
    a = round_bfloat16(torch.randn(64, 64))
    b = round_bfloat16(torch.randn(64, 64))

    def keep(x: torch.Tensor, bits: int) -> torch.Tensor:
        return (x.view(torch.int32) & -(1 << (23 - bits))).view(torch.float32)

    a_hi, b_hi = keep(a, 6), keep(b, 4)  # activations in SrcB keep 6 bits, weights in SrcA keep 4
    expected = {
        ttnn.MathFidelity.LoFi: a_hi @ b_hi,
        ttnn.MathFidelity.HiFi2: a_hi @ b,
        ttnn.MathFidelity.HiFi3: a_hi @ b + (a - a_hi) @ b_hi,
        ttnn.MathFidelity.HiFi4: a @ b,
    }[fidelity]
    assert torch.allclose(fidelity_product(a, b, fidelity, torch.matmul), expected, atol=1e-4)


def test_higher_fidelity_is_more_accurate(device: ttnn.MeshDevice) -> None:
    a = torch.randn(128, 256)
    b = torch.randn(256, 64)
    exact = round_bfloat16(a).double() @ round_bfloat16(b).double()
    errors = []
    for fidelity in (ttnn.MathFidelity.LoFi, ttnn.MathFidelity.HiFi2, ttnn.MathFidelity.HiFi4):
        # A float32 Dst, so that the fidelity is the only error (a bfloat16 Dst rounds every partial sum)
        config = ttnn.init_device_compute_kernel_config(device.arch(), math_fidelity=fidelity, fp32_dest_acc_en=True)
        out = ttnn.matmul(
            ttnn.from_torch(a, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device),
            ttnn.from_torch(b, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device),
            compute_kernel_config=config,
            dtype=ttnn.float32,
        )
        errors.append((ttnn.to_torch(out).double() - exact).abs().mean().item())
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-4


def test_op_outputs_are_rounded_to_the_output_dtype(device: ttnn.MeshDevice) -> None:
    x = ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    out = ttnn.to_torch(ttnn.add(x, x, dtype=ttnn.bfloat8_b))
    assert torch.equal(out, round_bfloat8_b(out))
    assert not torch.equal(out, ttnn.to_torch(x).float() * 2)
