"""Device-side numerics against slow references written from tt-isa-documentation (WormholeB0/TensixTile/
TensixCoprocessor): the BF16 ``Dst`` of TensixCoprocessor/MVMUL.md and TensixCoprocessor/MatrixUnit.md, a conv's
partial sums between kernel rows, and the packer's bfloat8_b conversion of Packers/FormatConversion.md.

The references work on Python floats (float64, exact for every value here) one datum at a time, with no code shared
with the emulator. Where a test compares bits, its inputs are small integers: every product and partial sum is then
exact in float32, so the only roundings are the ones under test and no summation order can move a result.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
import torch

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator.numerics import pack_bfloat8_b, round_bfloat8_b

# ---------------------------------------------------------------------------------------------------------------
# References


def _bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _float(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def _round_ties_away(x: float, significant_bits: int) -> float:
    """x rounded to ``significant_bits`` significant bits, to nearest with ties away from zero."""
    if x == 0.0:
        return 0.0
    _, exponent = math.frexp(x)  # |x| = m * 2^exponent, 0.5 <= m < 1
    ulp = 2.0 ** (exponent - significant_bits)
    return math.copysign(math.floor(abs(x) / ulp + 0.5) * ulp, x)


def ref_write_dst_bf16(x: float) -> float:
    """WriteDstBF16: float32 to BF16 (8 significant bits), to nearest, ties to even (the emulator's assumption;
    TensixCoprocessor/MatrixUnit.md only says real hardware rounds)."""
    if x == 0.0:
        return 0.0
    ulp = 2.0 ** (math.frexp(x)[1] - 8)
    return math.copysign(round(abs(x) / ulp) * ulp, x)  # Python's round() breaks ties to even


def ref_src_a_part(x: float, phase: int) -> float:
    """SrcAFidelityBits of TensixCoprocessor/MatrixUnit.md."""
    if phase & 1 == 0:
        return _float(_bits(x) & 0xFFF80000)
    return x - _float(_bits(x) & 0xFFF83FFF)


def ref_src_b_part(x: float, phase: int) -> float:
    """SrcBFidelityBits of TensixCoprocessor/MatrixUnit.md."""
    if phase & 2 == 0:
        return _float(_bits(x) & 0xFFFE0000)
    return x - _float(_bits(x) & 0xFFFE1FFF)


PHASES = {
    ttnn.MathFidelity.LoFi: 1,
    ttnn.MathFidelity.HiFi2: 2,
    ttnn.MathFidelity.HiFi3: 3,
    ttnn.MathFidelity.HiFi4: 4,
}


def ref_matmul(a: list[list[float]], b: list[list[float]], fidelity: ttnn.MathFidelity, bf16_dst: bool) -> torch.Tensor:
    """a @ b, one output datum at a time, as MVMUL accumulates it: per 32-wide K tile, per fidelity phase, per
    16-wide half, Dst += (16-term product of the phase's SrcB and SrcA parts), rounded to BF16 when Dst is BF16."""
    rows, depth, cols = len(a), len(b), len(b[0])
    out = torch.zeros(rows, cols, dtype=torch.float64)
    for i in range(rows):
        for j in range(cols):
            dst = 0.0
            for tile in range(0, depth, 32):
                for phase in range(PHASES[fidelity]):
                    for half in range(tile, min(tile + 32, depth), 16):
                        product = sum(
                            ref_src_b_part(a[i][k], phase) * ref_src_a_part(b[k][j], phase)
                            for k in range(half, min(half + 16, depth))
                        )
                        dst = dst + product
                        if bf16_dst:
                            dst = ref_write_dst_bf16(dst)
            out[i, j] = dst
    return out


def ref_pack_bfloat8_b(block: list[float]) -> list[float]:
    """The packer's BFP8 conversion of one 16-datum block: E8M6 (7 significant bits, ties away), then a 7-bit
    magnitude at the block's largest exponent (ties away)."""
    early = [_round_ties_away(x, 7) for x in block]
    exponents = [math.frexp(x)[1] for x in early if x != 0.0]
    if not exponents:
        return [0.0] * len(block)
    step = 2.0 ** (max(exponents) - 7)
    return [math.copysign(math.floor(abs(x) / step + 0.5) * step, x) for x in early]


def ref_pack_rows(values: torch.Tensor) -> torch.Tensor:
    """``ref_pack_bfloat8_b`` over the 16-value blocks of each row (the width a multiple of 16)."""
    rows = values.double().reshape(-1, values.shape[-1]).tolist()
    packed = [sum((ref_pack_bfloat8_b(row[s : s + 16]) for s in range(0, len(row), 16)), []) for row in rows]
    return torch.tensor(packed, dtype=torch.float64).reshape(values.shape)


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def _integers(rows: int, cols: int, bound: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(-bound, bound + 1, (rows, cols), generator=generator).float()


def _compute_config(device: ttnn.MeshDevice, fidelity: ttnn.MathFidelity, fp32: bool, l1_acc: bool = False) -> object:
    return ttnn.init_device_compute_kernel_config(
        device.arch(), math_fidelity=fidelity, fp32_dest_acc_en=fp32, packer_l1_acc=l1_acc
    )


def _matmul(
    device: ttnn.MeshDevice, a: torch.Tensor, b: torch.Tensor, config: object, dtype: ttnn.DataType = ttnn.float32
) -> torch.Tensor:
    out = ttnn.matmul(
        ttnn.from_torch(a, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device),
        ttnn.from_torch(b, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device),
        compute_kernel_config=config,
        dtype=dtype,
    )
    return ttnn.to_torch(out).double()


# ---------------------------------------------------------------------------------------------------------------
# 1. The Dst format


@pytest.mark.parametrize("fidelity", list(PHASES))
def test_bf16_dst_rounds_every_mvmul_as_the_isa_reference(device: ttnn.MeshDevice, fidelity: ttnn.MathFidelity) -> None:
    # 8-bit integers (exact in bfloat16): every phase sees real bits, and Dst sums need more than 8 significant bits
    a, b = _integers(8, 80, 255, 1), _integers(80, 16, 255, 2)
    got = _matmul(device, a, b, _compute_config(device, fidelity, fp32=False))
    expected = ref_matmul(a.tolist(), b.tolist(), fidelity, bf16_dst=True)
    assert torch.equal(got, expected)
    assert not torch.equal(got, ref_matmul(a.tolist(), b.tolist(), fidelity, bf16_dst=False))


@pytest.mark.parametrize("fidelity", [ttnn.MathFidelity.LoFi, ttnn.MathFidelity.HiFi4])
def test_fp32_dst_keeps_every_partial_sum(device: ttnn.MeshDevice, fidelity: ttnn.MathFidelity) -> None:
    a, b = _integers(8, 80, 255, 3), _integers(80, 16, 255, 4)
    got = _matmul(device, a, b, _compute_config(device, fidelity, fp32=True))
    assert torch.equal(got, ref_matmul(a.tolist(), b.tolist(), fidelity, bf16_dst=False))


def _reference_deep_matmul(a: np.ndarray, b: np.ndarray, bf16_dst: bool) -> np.ndarray:
    """A LoFi matmul (both operands already hold their high parts: bfloat8_b activations fit SrcB's, the weights
    are masked to SrcA's) with a float32 or BF16 Dst, vectorised over the outputs, one 16-wide slice at a time."""
    dst = np.zeros((a.shape[0], b.shape[1]))
    for k0 in range(0, a.shape[1], 16):
        dst = dst + (a[:, k0 : k0 + 16] @ b[k0 : k0 + 16]).astype(np.float32)
        if bf16_dst:
            dst = np.vectorize(ref_write_dst_bf16)(dst)
    return dst


@pytest.mark.parametrize("fp32_dest_acc_en", [False, True])
def test_deep_bfloat8_b_lofi_matmul_follows_its_dst_format(device: ttnn.MeshDevice, fp32_dest_acc_en: bool) -> None:
    a_host, b_host = torch.randn(32, 2304), torch.randn(2304, 32)
    a_tt = ttnn.from_torch(a_host, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
    b_tt = ttnn.from_torch(b_host, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
    config = _compute_config(device, ttnn.MathFidelity.LoFi, fp32=fp32_dest_acc_en)
    got = ttnn.to_torch(ttnn.matmul(a_tt, b_tt, compute_kernel_config=config, dtype=ttnn.float32)).double().numpy()
    a = ttnn.to_torch(a_tt).double().numpy()
    b_hi = np.vectorize(lambda x: ref_src_a_part(x, 0))(ttnn.to_torch(b_tt).double().numpy())
    bf16_reference = _reference_deep_matmul(a, b_hi, bf16_dst=True)
    fp32_reference = _reference_deep_matmul(a, b_hi, bf16_dst=False)
    right, wrong = (fp32_reference, bf16_reference) if fp32_dest_acc_en else (bf16_reference, fp32_reference)
    distance_right = np.abs(got - right).mean()
    distance_wrong = np.abs(got - wrong).mean()
    # BF16 Dst errors of a K=2304 sum are about 1e-1; a float32 summation order moves a result by about 1e-5
    assert distance_right < 0.01 * distance_wrong


# ---------------------------------------------------------------------------------------------------------------
# 2. A conv's partial sums between kernel rows


def _conv_nhwc(
    device: ttnn.MeshDevice, x: torch.Tensor, w: torch.Tensor, config: object, out_dtype: ttnn.DataType
) -> torch.Tensor:
    n, c, h, wd = x.shape
    flat = x.permute(0, 2, 3, 1).reshape(1, 1, n * h * wd, c)
    out = ttnn.conv2d(
        input_tensor=ttnn.from_torch(flat, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device),
        weight_tensor=ttnn.from_torch(w),
        device=device,
        in_channels=c,
        out_channels=w.shape[0],
        batch_size=n,
        input_height=h,
        input_width=wd,
        kernel_size=(3, 3),
        stride=(1, 1),
        padding=(1, 1),
        dtype=out_dtype,
        conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16),
        compute_config=config,
    )
    return ttnn.to_torch(out).double().reshape(n * h * wd, w.shape[0])


def _ref_conv_by_kernel_rows(x: torch.Tensor, w: torch.Tensor, spill: bool) -> torch.Tensor:
    """A 3x3 stride-1 pad-1 conv as [N*H*W, OC], summed kernel row by kernel row in float64 (exact for these
    integers); with ``spill`` the partial sum after each kernel row but the last is packed to bfloat8_b."""
    n, c, h, wd = x.shape
    padded = torch.nn.functional.pad(x.double(), (1, 1, 1, 1)).permute(0, 2, 3, 1)  # N, H+2, W+2, C
    weights = w.double().permute(2, 3, 1, 0)  # KH, KW, C, OC
    acc = torch.zeros(n * h * wd, w.shape[0], dtype=torch.float64)
    for row in range(3):
        for col in range(3):
            taps = padded[:, row : row + h, col : col + wd, :].reshape(-1, c)
            acc = acc + taps @ weights[row, col]
        if spill and row < 2:
            acc = ref_pack_rows(acc)
    return ref_pack_rows(acc)


@pytest.mark.parametrize("packer_l1_acc", [False, True])
def test_conv_partials_go_through_the_output_dtype_between_kernel_rows(
    device: ttnn.MeshDevice, packer_l1_acc: bool
) -> None:
    x = _integers(1 * 16 * 6, 6, 7, 5).reshape(1, 16, 6, 6)
    w = _integers(16 * 16, 9, 7, 6).reshape(16, 16, 3, 3)
    config = _compute_config(device, ttnn.MathFidelity.HiFi4, fp32=True, l1_acc=packer_l1_acc)
    got = _conv_nhwc(device, x, w, config, ttnn.bfloat8_b)
    spilled = _ref_conv_by_kernel_rows(x, w, spill=True)
    kept = _ref_conv_by_kernel_rows(x, w, spill=False)
    assert not torch.equal(spilled, kept)  # the inputs make the spill rounding visible
    assert torch.equal(got, kept if packer_l1_acc else spilled)


# ---------------------------------------------------------------------------------------------------------------
# 3. The packer's bfloat8_b rounding


def test_packer_bfloat8_b_matches_the_format_conversion_reference() -> None:
    generator = torch.Generator().manual_seed(7)
    # whole blocks of 16: mixed magnitudes, exact ties at both roundings, negatives and zeros
    x = torch.randn(64, 64, generator=generator) * torch.exp2(torch.randint(-6, 6, (64, 64), generator=generator))
    ties = torch.tensor([1.0, 1 + 3 / 128, 0.5 + 1 / 256, -(0.5 + 1 / 256), 3 / 256, -1 / 128, 0.0, -0.0] * 2)
    x = torch.cat([x, ties.repeat(1, 4)], dim=0)
    got = pack_bfloat8_b(x).double()
    assert torch.equal(got, ref_pack_rows(x))
    assert not torch.equal(got, round_bfloat8_b(x).double())  # the host's single half-even rounding differs


def test_device_outputs_use_the_packer_and_host_conversion_keeps_the_host_rule(device: ttnn.MeshDevice) -> None:
    # 0.5 + 1/256 next to a 1.0: the packer rounds it twice away from zero (to 0.515625), the host once to 0.5
    row = torch.tensor([[1.0, 0.5 + 1 / 256] + [0.0] * 30])
    host = ttnn.from_torch(row, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
    assert ttnn.to_torch(host)[0, 1].item() == 0.5
    identity = torch.eye(32)
    config = _compute_config(device, ttnn.MathFidelity.HiFi4, fp32=True)
    packed = _matmul(device, row, identity, config, dtype=ttnn.bfloat8_b)
    assert packed[0, 1].item() == 0.515625
    assert torch.equal(packed, ref_pack_rows(row))


def test_packer_double_rounding_costs_what_hardware_measured(device: ttnn.MeshDevice) -> None:
    """tenstorrent/tt-metal issue 52155 measured 65,536 random bfloat16 values packed to bfloat8_b on a device: the
    ops that round twice (add, multiply, clone, matmul) have a mean absolute error of 6.901e-3, ttnn.typecast (one
    rounding) 5.840e-3, a ratio of 1.182. The emulator's op outputs against its single (host) rounding must show the
    same ratio; a single-rounding packer gives 1.0, and tt-llk's golden (bfp_format_utils, which truncates the last
    bfloat16 bit before the block rounding) gives about 1.0 too."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2048, 32, generator=generator).to(torch.bfloat16).float()
    on_device = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    packed = ttnn.to_torch(ttnn.add(on_device, 0.0, dtype=ttnn.bfloat8_b)).float()
    single = round_bfloat8_b(x)
    ratio = (packed - x).abs().mean().item() / (single - x).abs().mean().item()
    assert ratio == pytest.approx(6.901 / 5.840, abs=0.02)


def test_typecast_rounds_once_where_other_ops_round_twice(device: ttnn.MeshDevice) -> None:
    """Issue 52155 again: ttnn.typecast to bfloat8_b rounds once (its kernel turns bfp8_pack_precise on; forcing it on
    every kernel made add, multiply, clone and matmul bit-identical to typecast). Its error is the host's single
    rounding's, add's is 6.901 / 5.840 times it, and a traced typecast replays the same rounding."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2048, 32, generator=generator).to(torch.bfloat16).float()
    on_device = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    cast = ttnn.to_torch(ttnn.typecast(on_device, ttnn.bfloat8_b)).float()
    added = ttnn.to_torch(ttnn.add(on_device, 0.0, dtype=ttnn.bfloat8_b)).float()
    assert torch.equal(cast, round_bfloat8_b(x))
    assert not torch.equal(cast, added)
    ratio = (added - x).abs().mean().item() / (cast - x).abs().mean().item()
    assert ratio == pytest.approx(6.901 / 5.840, abs=0.02)

    trace_id = ttnn.begin_trace_capture(device, cq_id=0)
    traced = ttnn.typecast(on_device, ttnn.bfloat8_b)
    ttnn.end_trace_capture(device, trace_id, cq_id=0)
    ttnn.execute_trace(device, trace_id, cq_id=0, blocking=True)
    assert torch.equal(ttnn.to_torch(traced).float(), cast)
    ttnn.release_trace(device, trace_id)
