"""Ops: ttnn's shapes and layouts, results against torch, prepared conv weights, unsupported arguments."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator.numerics import round_bfloat16


def _pcc(a: torch.Tensor, b: torch.Tensor) -> float:
    return torch.corrcoef(torch.stack([a.flatten().double(), b.flatten().double()]))[0, 1].item()


def _nhwc_input(device: ttnn.MeshDevice, x: torch.Tensor, dtype: ttnn.DataType = ttnn.bfloat16) -> ttnn.Tensor:
    n, c, h, w = x.shape
    flat = x.permute(0, 2, 3, 1).reshape(1, 1, n * h * w, c)
    return ttnn.from_torch(flat, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device)


def _conv(device: ttnn.MeshDevice, x: torch.Tensor, weight: object, bias: object, **kwargs: object) -> object:
    n, c, h, w = x.shape
    return ttnn.conv2d(
        input_tensor=_nhwc_input(device, x),
        weight_tensor=weight,
        bias_tensor=bias,
        device=device,
        in_channels=c,
        out_channels=8,
        batch_size=n,
        input_height=h,
        input_width=w,
        kernel_size=(3, 3),
        stride=(2, 2),
        padding=(1, 1),
        **kwargs,
    )


def test_conv2d_matches_torch_in_ttnn_layout(device: ttnn.MeshDevice) -> None:
    x, w, b = torch.randn(2, 16, 20, 24), torch.randn(8, 16, 3, 3), torch.randn(8)
    config = ttnn.Conv2dConfig(activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU))
    out, (oh, ow), (weight, bias) = _conv(
        device,
        x,
        ttnn.from_torch(w),
        ttnn.from_torch(b.reshape(1, 1, 1, 8)),
        conv_config=config,
        return_output_dim=True,
        return_weights_and_bias=True,
    )
    assert (oh, ow) == (10, 12)
    assert out.shape == [1, 1, 2 * 10 * 12, 8] and out.layout == ttnn.TILE_LAYOUT
    ref = F.silu(F.conv2d(round_bfloat16(x), round_bfloat16(w), round_bfloat16(b), 2, 1))
    got = ttnn.to_torch(out).float().reshape(2, 10, 12, 8).permute(0, 3, 1, 2)
    assert _pcc(got, ref) > 0.9999  # HiFi4 by default: only the bf16 output rounding differs
    # prepared weights are device tensors reused as they are on the next call, with the same result
    assert weight.device() is device and bias.device() is device
    again = _conv(device, x, weight, bias, conv_config=config)
    assert torch.equal(ttnn.to_torch(again), ttnn.to_torch(out))


def test_conv2d_lofi_loses_precision(device: ttnn.MeshDevice) -> None:
    x, w = torch.randn(1, 16, 16, 16), torch.randn(8, 16, 3, 3)
    ref = F.conv2d(round_bfloat16(x), round_bfloat16(w), None, 2, 1)
    errors = {}
    for fidelity in (ttnn.MathFidelity.LoFi, ttnn.MathFidelity.HiFi4):
        config = ttnn.init_device_compute_kernel_config(device.arch(), math_fidelity=fidelity, fp32_dest_acc_en=True)
        bf16_weights = ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16)
        out = _conv(
            device, x, ttnn.from_torch(w), None, compute_config=config, dtype=ttnn.float32, conv_config=bf16_weights
        )
        got = ttnn.to_torch(out).reshape(1, 8, 8, 8).permute(0, 3, 1, 2)
        errors[fidelity] = (got - ref).abs().max().item()
    assert errors[ttnn.MathFidelity.HiFi4] < 1e-3 < errors[ttnn.MathFidelity.LoFi]


def test_conv2d_rejects_a_wrong_channel_count(device: ttnn.MeshDevice) -> None:
    x = torch.randn(1, 16, 8, 8)
    with pytest.raises(RuntimeError, match="in_channels=17"):
        ttnn.conv2d(
            input_tensor=_nhwc_input(device, x),
            weight_tensor=ttnn.from_torch(torch.randn(8, 17, 3, 3)),
            device=device,
            in_channels=17,
            out_channels=8,
            batch_size=1,
            input_height=8,
            input_width=8,
            kernel_size=(3, 3),
        )


def test_deallocate_activation_frees_the_input(device: ttnn.MeshDevice) -> None:
    x = torch.randn(1, 16, 8, 8)
    inp = _nhwc_input(device, x)
    ttnn.conv2d(
        input_tensor=inp,
        weight_tensor=ttnn.from_torch(torch.randn(8, 16, 3, 3)),
        device=device,
        in_channels=16,
        out_channels=8,
        batch_size=1,
        input_height=8,
        input_width=8,
        kernel_size=(3, 3),
        padding=(1, 1),
        conv_config=ttnn.Conv2dConfig(deallocate_activation=True),
    )
    assert not inp.is_allocated()
    with pytest.raises(RuntimeError, match="deallocated"):
        ttnn.to_torch(inp)


def test_unsupported_arguments_raise_naming_op_and_argument(device: ttnn.MeshDevice) -> None:
    t = ttnn.from_torch(torch.randn(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    with pytest.raises(NotImplementedError, match="max_pool2d: argument 'return_indices'"):
        ttnn.max_pool2d(
            ttnn.reshape(t, (1, 1, 32, 32)), 1, 4, 8, 32, [2, 2], [2, 2], [0, 0], [1, 1], return_indices=True
        )
    grid = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(0, 0))})
    with pytest.raises(NotImplementedError, match="silu: argument 'sub_core_grids'"):
        ttnn.silu(t, sub_core_grids=grid)


def test_sfpu_approximations_the_emulator_does_not_model_are_refused(device: ttnn.MeshDevice) -> None:
    t = ttnn.from_torch(torch.randn(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    with pytest.raises(NotImplementedError, match="exp: argument 'fast_and_approximate_mode'"):
        ttnn.exp(t, fast_and_approximate_mode=True)
    with pytest.raises(NotImplementedError, match="divide: argument 'fast_and_approximate_mode'"):
        ttnn.divide(t, t, fast_and_approximate_mode=True)
    with pytest.raises(NotImplementedError, match="sigmoid: argument 'mode'"):
        ttnn.sigmoid(t, mode=ttnn.SigmoidMode.FastApproximate)
    with pytest.raises(NotImplementedError, match="sigmoid: argument 'vector_mode'=2"):
        ttnn.sigmoid(t, vector_mode=2)
    assert torch.allclose(ttnn.to_torch(ttnn.sigmoid(t)), torch.sigmoid(ttnn.to_torch(t)), atol=1e-2)


def test_matmul_shape_mismatch_reads_like_ttnn(device: ttnn.MeshDevice) -> None:
    a = ttnn.from_torch(torch.randn(64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    b = ttnn.from_torch(torch.randn(32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    with pytest.raises(RuntimeError, match="Mismatch: width=64 height=32"):
        ttnn.matmul(a, b)


def test_linear_adds_bias_and_activation(device: ttnn.MeshDevice) -> None:
    a, b, bias = torch.randn(32, 64), torch.randn(64, 32), torch.randn(1, 32)
    config = ttnn.init_device_compute_kernel_config(
        device.arch(), math_fidelity=ttnn.MathFidelity.HiFi4, fp32_dest_acc_en=True
    )
    out = ttnn.linear(
        *(ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device) for t in (a, b)),
        bias=ttnn.from_torch(bias, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device),
        activation="relu",
        compute_kernel_config=config,
        dtype=ttnn.float32,
    )
    expected = torch.relu(round_bfloat16(a) @ round_bfloat16(b) + round_bfloat16(bias))
    assert torch.allclose(ttnn.to_torch(out), expected, atol=1e-4)


def test_pool_upsample_concat_are_exact(device: ttnn.MeshDevice) -> None:
    x = round_bfloat16(torch.randn(1, 8, 8, 32))
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, device=device)
    pooled = ttnn.max_pool2d(ttnn.reshape(t, (1, 1, 64, 32)), 1, 8, 8, 32, [5, 5], [1, 1], [2, 2], [1, 1])
    expected = F.max_pool2d(x.permute(0, 3, 1, 2), 5, 1, 2).permute(0, 2, 3, 1).reshape(1, 1, 64, 32)
    assert pooled.shape == [1, 1, 64, 32] and pooled.layout == ttnn.ROW_MAJOR_LAYOUT
    assert torch.equal(ttnn.to_torch(pooled).float(), expected)
    up = ttnn.upsample(t, 2)
    assert torch.equal(ttnn.to_torch(up).float(), x.repeat_interleave(2, 1).repeat_interleave(2, 2))
    cat = ttnn.concat([t, t], dim=3)
    assert torch.equal(ttnn.to_torch(cat).float(), torch.cat([x, x], dim=3))


def test_data_movement_keeps_values(device: ttnn.MeshDevice) -> None:
    x = round_bfloat16(torch.randn(1, 2, 40, 50))
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    assert torch.equal(ttnn.to_torch(ttnn.permute(t, (0, 2, 1, 3))).float(), x.permute(0, 2, 1, 3))
    assert torch.equal(ttnn.to_torch(ttnn.transpose(t, -2, -1)).float(), x.transpose(-2, -1))
    assert torch.equal(ttnn.to_torch(ttnn.slice(t, [0, 1, 3, 0], [1, 2, 40, 50])).float(), x[:, 1:, 3:])
    first, second = ttnn.split(t, [20, 30], dim=3)
    assert torch.equal(ttnn.to_torch(second).float(), x[..., 20:])
    assert torch.equal(ttnn.to_torch(ttnn.reshape(t, (1, 1, 80, 50))).float(), x.reshape(1, 1, 80, 50))
    row_major = ttnn.to_layout(t, ttnn.ROW_MAJOR_LAYOUT)
    assert row_major.layout == ttnn.ROW_MAJOR_LAYOUT and row_major.padded_shape == [1, 2, 40, 50]
    assert t.padded_shape == [1, 2, 64, 64]
    sharded = ttnn.to_memory_config(
        ttnn.reshape(t, (1, 1, 80, 50)),
        ttnn.create_sharded_memory_config((1, 1, 96, 64), ttnn.CoreGrid(x=3, y=1), ttnn.ShardStrategy.HEIGHT),
    )
    assert sharded.is_sharded()
    back = ttnn.sharded_to_interleaved(sharded, ttnn.L1_MEMORY_CONFIG)
    assert torch.equal(ttnn.to_torch(back).float(), x.reshape(1, 1, 80, 50))


def test_concat_of_bfloat8_b_keeps_every_stored_value(device: ttnn.MeshDevice) -> None:
    big = torch.full((1, 1, 32, 8), 1000.0)
    small = torch.full((1, 1, 32, 8), 0.01)
    a = ttnn.from_torch(big, dtype=ttnn.bfloat8_b, device=device)
    b = ttnn.from_torch(small, dtype=ttnn.bfloat8_b, device=device)
    assert ttnn.to_torch(b)[0, 0, 0, 0] != 0
    # ttnn 0.81 joins block-format tiles inside a tile as bfloat16 rows, so 1000 and 0.01 never share a block
    joined = ttnn.concat([a, b], dim=3)
    assert joined.dtype == ttnn.bfloat16
    assert torch.equal(ttnn.to_torch(joined).float(), torch.cat([ttnn.to_torch(a), ttnn.to_torch(b)], dim=3))
    stacked = ttnn.to_torch(ttnn.concat([a, b], dim=2))  # rows stay whole: nothing changes
    assert torch.equal(stacked[:, :, 32:], ttnn.to_torch(b))


def _stored(tensor: ttnn.Tensor) -> list[torch.Tensor]:
    return [values.clone() for values in tensor._values("test")]


@pytest.mark.parametrize("source", [ttnn.bfloat8_b, ttnn.bfloat16, ttnn.float32])
def test_ops_rounding_their_results_leave_their_inputs_untouched(
    device: ttnn.MeshDevice, source: ttnn.DataType
) -> None:
    # ops round their own fresh results in place: no input buffer may change, whatever the op hands to the rounding
    a = ttnn.from_torch(torch.randn(1, 1, 64, 48) * 3, dtype=source, layout=ttnn.TILE_LAYOUT, device=device)
    b = ttnn.from_torch(torch.randn(1, 1, 64, 48), dtype=source, layout=ttnn.TILE_LAYOUT, device=device)
    weights = ttnn.from_torch(torch.randn(48, 48), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
    before = [_stored(t) for t in (a, b, weights)]
    outputs = [
        ttnn.add(a, b, dtype=ttnn.bfloat8_b),
        ttnn.multiply(a, 0.5, dtype=ttnn.bfloat8_b),
        ttnn.typecast(a, ttnn.bfloat8_b),
        ttnn.matmul(a, weights, dtype=ttnn.bfloat8_b),
        ttnn.to_layout(a, ttnn.TILE_LAYOUT),
        ttnn.add(a, b, dtype=ttnn.bfloat16),
        ttnn.typecast(a, ttnn.bfloat16),
    ]
    if source == ttnn.bfloat8_b:
        outputs += [ttnn.silu(a), ttnn.sigmoid(a), ttnn.softmax(a, -1)]
    for tensor, stored in zip((a, b, weights), before, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(_stored(tensor), stored, strict=True))
    assert all(out.dtype == ttnn.bfloat8_b for out in outputs[:4])


def test_conv2d_rounding_leaves_input_and_weights_untouched(device: ttnn.MeshDevice) -> None:
    x = ttnn.from_torch(torch.randn(1, 1, 64, 32), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
    kwargs = dict(in_channels=32, out_channels=32, batch_size=1, input_height=8, input_width=8, kernel_size=(3, 3))
    _, (weight, bias) = ttnn.conv2d(
        input_tensor=x,
        weight_tensor=ttnn.from_torch(torch.randn(32, 32, 3, 3)),
        bias_tensor=ttnn.from_torch(torch.randn(1, 1, 1, 32)),
        device=device,
        padding=(1, 1),
        dtype=ttnn.bfloat8_b,
        conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat8_b),
        return_weights_and_bias=True,
        **kwargs,
    )
    before = [_stored(t) for t in (x, weight, bias)]
    first = ttnn.conv2d(
        input_tensor=x,
        weight_tensor=weight,
        bias_tensor=bias,
        device=device,
        padding=(1, 1),
        dtype=ttnn.bfloat8_b,
        **kwargs,
    )
    again = ttnn.conv2d(
        input_tensor=x,
        weight_tensor=weight,
        bias_tensor=bias,
        device=device,
        padding=(1, 1),
        dtype=ttnn.bfloat8_b,
        **kwargs,
    )
    for tensor, stored in zip((x, weight, bias), before, strict=True):
        assert all(torch.equal(v, s) for v, s in zip(_stored(tensor), stored, strict=True))
    assert torch.equal(ttnn.to_torch(first), ttnn.to_torch(again))


def test_matmul_reuses_prepared_weights_without_changing_results(device: ttnn.MeshDevice) -> None:
    from pytest_ttpose.emulator.numerics import fidelity_product

    a = ttnn.from_torch(torch.randn(64, 64), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
    b = ttnn.from_torch(torch.randn(64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    lhs, rhs = ttnn.to_torch(a), ttnn.to_torch(b).float()
    # one stored right operand, used plain and transposed, at every fidelity and again: each result as if fresh
    for fidelity in (ttnn.MathFidelity.LoFi, ttnn.MathFidelity.HiFi2, ttnn.MathFidelity.HiFi3, ttnn.MathFidelity.LoFi):
        config = ttnn.init_device_compute_kernel_config(device.arch(), math_fidelity=fidelity, fp32_dest_acc_en=True)
        for transpose_b in (False, True, False):
            out = ttnn.matmul(a, b, transpose_b=transpose_b, compute_kernel_config=config, dtype=ttnn.float32)
            right = rhs.t().contiguous() if transpose_b else rhs
            assert torch.equal(ttnn.to_torch(out), fidelity_product(lhs, right, fidelity, torch.matmul))
