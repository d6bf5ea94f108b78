"""Host round trips of the emulator are bit-identical to the real ttnn 0.81.1.

``from_torch(x, dtype=..., layout=TILE_LAYOUT)`` then ``to_torch`` is run on the emulator and on the real ttnn, on
data of several magnitudes and on every special value, and the results must agree bit for bit (same torch dtype
too). Real ttnn needs a cluster for TILE conversions ("No chips detected" otherwise); without hardware the
fixture points ``TT_METAL_MOCK_CLUSTER_DESC_PATH`` at the Wormhole N150 descriptor shipped in the package.

What real ttnn 0.81.1 does (measured here with direct experiments, and consistent with tt-metal's host packer):

bfloat16 (TILE and ROW_MAJOR alike):
  * float32 input: ttnn's own conversion, round to nearest, ties to even, on the float32 bits; overflow rounds
    to +-inf (0x7F7F8000 -> inf); subnormals are kept and rounded like normals (0x807FFFFF -> 0x8080);
    every NaN (either sign, any payload, signalling or quiet) becomes the canonical 0x7FC0; -0.0 stays -0.0;
  * bfloat16 input is stored unchanged, NaN payloads and signs included;
  * float64 input is converted by torch itself (``x.to(torch.bfloat16)``, which rounds through float32, so
    it double-rounds): its NaN bits are torch's (0xFFFF from torch's vectorised kernel, 0x7FC0 on tiny tensors);
  * ``to_torch`` returns torch.bfloat16.

bfloat8_b (TILE layout; shared exponent per 16 values):
  * the tensor is padded to 32x32 tiles with ``pad_value`` (default 0) BEFORE packing, so a large pad value
    takes part in the shared exponent of the blocks it lands in; ``to_torch`` drops the padding;
  * a block is 16 consecutive values of one row of a 16x16 face: in the padded (..., H, W) view, row r and
    columns 16k..16k+15; leading dimensions are independent; a rank-1 tensor is one row;
  * float32 input is packed directly from its 23-bit mantissa; bfloat16 input from its bits; float64 input is
    first converted to bfloat16 by torch as above, then packed (so it rounds three times);
  * shared exponent = the largest biased float32 exponent field in the block (255 if the block holds inf/NaN);
  * each value: an exponent field of 0 (zero or subnormal) gives 0 (flush); otherwise the 24-bit significand
    (hidden 1 included) is shifted right by (shared - own exponent), FORGETTING the shifted-out bits (no sticky
    bit: 0x3F820001 in a block with 2.0 lands exactly on a tie and becomes 1.0, where exact rounding gives
    1.03125), then rounded to 7 bits, round to nearest, ties to even, and SATURATED at 127: no carry into the
    next binade, so 1.99999 in a block whose largest exponent is its own becomes 1.984375 (0x3FFE0000);
  * a value whose 7-bit mantissa is 0 becomes +0.0 (sign dropped; -0.0 gives +0.0);
  * unpacking renormalises each mantissa against the shared exponent: a block with inf/NaN decodes to
    +-inf (mantissa 64) or NaN (mantissa > 64) for those values and 0 for every finite value in the block;
    a signalling NaN whose payload rounds away (0x7F800001) becomes inf; NaN keeps its sign;
  * ``to_torch`` returns torch.float32.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.requires_ttnn

SHAPES = [(1, 1, 33, 70), (2, 3, 5, 17), (1, 1, 32, 32), (64,)]
TARGET_DTYPES = ["bfloat16", "bfloat8_b"]
INPUT_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float64": torch.float64}


@pytest.fixture(scope="module")
def emulator() -> ModuleType:
    return importlib.import_module("pytest_ttpose.emulator")


def round_trip(api: ModuleType, x: torch.Tensor, dtype: str, **from_torch_kwargs: Any) -> torch.Tensor:
    tensor = api.from_torch(x, dtype=getattr(api, dtype), layout=api.TILE_LAYOUT, **from_torch_kwargs)
    return api.to_torch(tensor)


# ---------------------------------------------------------------- data


def _from_bits(bits: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(bits, dtype=np.uint32).view(np.int32)).view(torch.float32)


def _bits(x: torch.Tensor) -> torch.Tensor:
    width = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[x.element_size()]
    return x.contiguous().view(width)


def _random_bits(shape: tuple[int, ...], rng: np.random.Generator, exponents: np.ndarray | None = None) -> np.ndarray:
    bits = rng.integers(0, 2**32, size=shape, dtype=np.uint64).astype(np.uint32)
    if exponents is not None:
        bits = (bits & np.uint32(0x807FFFFF)) | (exponents.astype(np.uint32) << np.uint32(23))
    return bits


SPECIAL_BITS = np.array(
    [0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF812345, 0x7FFFFFFF, 0x7F800000, 0xFF800000, 0x80000000, 0x0],
    dtype=np.uint32,
)


def _scaled(scale: float) -> Callable[[tuple[int, ...], np.random.Generator], torch.Tensor]:
    def make(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
        return torch.from_numpy(rng.standard_normal(shape).astype(np.float32) * np.float32(scale))

    return make


def _zeros_and_negative_zero(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
    bits = rng.choice(np.array([0x0, 0x80000000], dtype=np.uint32), size=shape)
    normal = rng.random(shape) < 0.1
    bits[normal] = _random_bits(shape, rng, rng.integers(100, 150, size=shape))[normal]
    return _from_bits(bits)


def _subnormals(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
    bits = _random_bits(shape, rng, np.zeros(shape, dtype=np.uint32))
    near = rng.random(shape) < 0.3  # smallest normals (exponent 1..3) next to subnormals in the same blocks
    bits[near] = _random_bits(shape, rng, rng.integers(1, 4, size=shape))[near]
    return _from_bits(bits)


def _inf_nan(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
    bits = _random_bits(shape, rng, rng.integers(110, 140, size=shape))
    special = rng.random(shape) < 0.04
    bits[special] = rng.choice(SPECIAL_BITS, size=int(special.sum()))
    return _from_bits(bits)


def _huge_range_in_block(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
    bits = _random_bits(shape, rng, rng.integers(1, 255, size=shape))  # exponents across the whole range
    flat = bits.reshape(-1, shape[-1])
    for row in flat:
        for start in range(0, shape[-1], 16):
            block = row[start : start + 16]
            block[rng.integers(0, len(block))] = _random_bits((1,), rng, np.array([254]))[0]  # one near max
    return _from_bits(bits)


def _binade_round_up(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
    # all-ones mantissa tails: round up into the next binade in bfloat16, saturate in bfloat8_b
    exponents = rng.integers(100, 160, size=shape)
    low_zeros = rng.integers(0, 20, size=shape).astype(np.uint32)
    mantissa = (np.uint32(0x7FFFFF) >> low_zeros) << low_zeros
    signs = rng.integers(0, 2, size=shape).astype(np.uint32) << np.uint32(31)
    return _from_bits(signs | (exponents.astype(np.uint32) << np.uint32(23)) | mantissa)


def _rounding_ties(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
    # exact halfway cases for bfloat16 (low 16 bits 0x8000) and for bfloat8_b within a block of equal exponents
    bits = _random_bits(shape, rng, np.full(shape, 127))
    tie_bf16 = rng.random(shape) < 0.5
    bits[tie_bf16] = (bits[tie_bf16] & np.uint32(0xFFFF0000)) | np.uint32(0x8000)
    bits[~tie_bf16] = (bits[~tie_bf16] & np.uint32(0xFFFE0000)) | np.uint32(0x10000)
    return _from_bits(bits)


def _ties_after_alignment(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
    # bfloat8_b shifts a significand to the shared exponent BEFORE rounding and forgets the bits shifted out, so a
    # value just above a halfway point can land exactly on it and round to even (down): exact rounding differs
    bits = np.zeros(shape, dtype=np.uint32)
    flat = bits.reshape(-1, shape[-1])
    for row in flat:
        for start in range(0, shape[-1], 16):
            exponent, shift = int(rng.integers(100, 150)), int(rng.integers(1, 4))
            block = row[start : start + 16]
            for i in range(len(block)):
                aligned = (1 << (23 - shift)) | (int(rng.integers(0, 1 << (6 - shift))) << 17) | 0x10000
                significand = (aligned << shift) | int(rng.integers(1, 1 << shift))
                sign = int(rng.integers(0, 2)) << 31
                block[i] = sign | (exponent << 23) | (significand & 0x7FFFFF)
            block[rng.integers(0, len(block))] = (exponent + shift) << 23  # sets the shared exponent
    return _from_bits(bits)


def _random_bit_patterns(shape: tuple[int, ...], rng: np.random.Generator) -> torch.Tensor:
    return _from_bits(_random_bits(shape, rng))


CASES: dict[str, Callable[[tuple[int, ...], np.random.Generator], torch.Tensor]] = {
    "scale_1e-3": _scaled(1e-3),
    "scale_1": _scaled(1.0),
    "scale_1e4": _scaled(1e4),
    "scale_1e30": _scaled(1e30),
    "zeros_and_negative_zero": _zeros_and_negative_zero,
    "subnormals": _subnormals,
    "inf_nan": _inf_nan,
    "huge_range_in_block": _huge_range_in_block,
    "binade_round_up": _binade_round_up,
    "rounding_ties": _rounding_ties,
    "ties_after_alignment": _ties_after_alignment,
    "random_bit_patterns": _random_bit_patterns,
}


def make_input(case: str, shape: tuple[int, ...], input_dtype: str) -> torch.Tensor:
    seed = sum(map(ord, f"{case}/{shape}"))  # same data for every dtype of a case and shape
    return CASES[case](shape, np.random.default_rng(seed)).to(INPUT_DTYPES[input_dtype])


# ---------------------------------------------------------------- comparison


def assert_same_bits(ours: torch.Tensor, theirs: torch.Tensor, source: torch.Tensor, context: str) -> None:
    """Fail unless ``ours`` and ``theirs`` have the same dtype, shape and bits; name the first differences."""
    assert ours.dtype == theirs.dtype, f"{context}: to_torch gives {ours.dtype}, real ttnn gives {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{context}: shape {tuple(ours.shape)}, real ttnn {tuple(theirs.shape)}"
    differ = _bits(ours) != _bits(theirs)
    if not bool(differ.any()):
        return
    digits = 2 * ours.element_size()

    def hex_bits(x: torch.Tensor, at: tuple[int, ...]) -> str:
        return f"0x{int(_bits(x)[at]) & ((1 << (4 * digits)) - 1):0{digits}x}"

    lines = []
    for index in differ.nonzero()[:8].tolist():
        at = tuple(index)
        lines.append(
            f"  at {at}: input {float(source[at])!r} -> ours {float(ours[at])!r} ({hex_bits(ours, at)}), "
            f"real {float(theirs[at])!r} ({hex_bits(theirs, at)})"
        )
    raise AssertionError(f"{context}: {int(differ.sum())} of {differ.numel()} values differ\n" + "\n".join(lines))


# ---------------------------------------------------------------- emulator against real ttnn


@pytest.mark.parametrize("input_dtype", list(INPUT_DTYPES))
@pytest.mark.parametrize("dtype", TARGET_DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_host_round_trip_is_bit_identical(
    case: str, dtype: str, input_dtype: str, emulator: ModuleType, real_host: ModuleType
) -> None:
    for shape in SHAPES:
        x = make_input(case, shape, input_dtype)
        context = f"{case}, {input_dtype} -> {dtype}, shape {shape}"
        assert_same_bits(round_trip(emulator, x, dtype), round_trip(real_host, x, dtype), x, context)


def test_pad_value_takes_part_in_bfloat8_b_blocks(emulator: ModuleType, real_host: ModuleType) -> None:
    x = torch.full((1, 1, 20, 20), 1e-20)  # columns 16..19 share blocks with 12 padding values
    theirs = round_trip(real_host, x, "bfloat8_b", pad_value=1e10)
    assert bool((theirs[..., 16:] == 0).all()) and bool((theirs[..., :16] != 0).all()), "real ttnn changed"
    try:
        ours = round_trip(emulator, x, "bfloat8_b", pad_value=1e10)
    except NotImplementedError as error:  # an unsupported argument must say so, never be ignored
        assert "pad_value" in str(error), f"NotImplementedError does not name pad_value: {error}"
        return
    assert_same_bits(ours, theirs, x, "bfloat8_b with pad_value=1e10")


# ---------------------------------------------------------------- the comparison can fail


def test_checker_accepts_real_ttnn_against_itself(real_host: ModuleType) -> None:
    for case in ("inf_nan", "subnormals", "huge_range_in_block"):
        x = make_input(case, (1, 1, 33, 70), "float32")
        for dtype in TARGET_DTYPES:
            first, second = round_trip(real_host, x, dtype), round_trip(real_host, x, dtype)
            assert_same_bits(first, second, x, f"{case} {dtype}")


def test_checker_rejects_truncating_bfloat16(real_host: ModuleType) -> None:
    x = make_input("rounding_ties", (1, 1, 33, 70), "float32")
    truncated = (_bits(x) & ~0xFFFF).view(torch.float32).to(torch.bfloat16)  # exact: low bits are zero
    with pytest.raises(AssertionError, match=r"values differ"):
        assert_same_bits(truncated, round_trip(real_host, x, "bfloat16"), x, "truncation")


def test_checker_rejects_one_flipped_bit_and_a_wrong_dtype(real_host: ModuleType) -> None:
    x = make_input("scale_1", (2, 3, 5, 17), "float32")
    theirs = round_trip(real_host, x, "bfloat8_b")
    ours = theirs.clone()
    ours.view(torch.int32)[1, 2, 4, 16] ^= 1 << 16
    with pytest.raises(AssertionError, match=r"1 of 510 values differ\n  at \(1, 2, 4, 16\)"):
        assert_same_bits(ours, theirs, x, "flipped")
    with pytest.raises(AssertionError, match=r"torch.bfloat16, real ttnn gives torch.float32"):
        assert_same_bits(theirs.to(torch.bfloat16), theirs, x, "dtype")


# ---------------------------------------------------------------- the rules in the docstring, held to real ttnn


def test_real_ttnn_rounding_rules(real_host: ModuleType) -> None:
    def bf16_bits(values: list[int]) -> list[int]:
        out = round_trip(real_host, _from_bits(np.array([values], dtype=np.uint32)), "bfloat16")
        return [v & 0xFFFF for v in _bits(out).flatten().tolist()]

    # ties to even, overflow to inf, subnormals kept, NaN canonical, -0 kept
    assert bf16_bits([0x3F808000, 0x3F818000, 0x7F7F8000, 0x807FFFFF, 0xFFC00001, 0x80000000]) == [
        0x3F80,
        0x3F82,
        0x7F80,
        0x8080,
        0x7FC0,
        0x8000,
    ]

    def bfp8_row(values: list[int]) -> list[int]:
        row = np.zeros((1, 32), dtype=np.uint32)
        row[0, : len(values)] = values
        out = round_trip(real_host, _from_bits(row), "bfloat8_b")
        return [v & 0xFFFFFFFF for v in _bits(out).flatten().tolist()[: len(values)]]

    # saturation instead of carry; tie to even after alignment; -0 -> +0; subnormal flush
    assert bfp8_row([0x3FFFFFFF, 0x3F810000, 0x3F830000, 0x80000000, 0x00400000]) == [
        0x3FFE0000,
        0x3F800000,
        0x3F840000,
        0x0,
        0x0,
    ]
    # alignment drops the shifted-out bits before rounding: 0x3F820001 next to 2.0 sits exactly on a tie -> 1.0
    assert bfp8_row([0x40000000, 0x3F820001, 0x3F830001]) == [0x40000000, 0x3F800000, 0x3F840000]
    # inf/NaN set the shared exponent: finite neighbours vanish; NaN keeps its sign; sNaN 0x7F800001 -> inf
    assert bfp8_row([0xFFC00000, 0x7F800001, 0x3F800000]) == [0xFFC00000, 0x7F800000, 0x0]
    # blocks are 16 wide: the same values one block apart do not interact
    assert bfp8_row([0x3F800000] * 16 + [0x00800000]) == [0x3F800000] * 16 + [0x00800000]
