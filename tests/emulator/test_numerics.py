"""Storage rounding and math fidelity rules, checked against independent scalar reasoning."""

from __future__ import annotations

import pytest
import torch

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator.numerics import fidelity_product, round_bfloat8_b, round_bfloat16


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
        config = ttnn.init_device_compute_kernel_config(device.arch(), math_fidelity=fidelity)
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
