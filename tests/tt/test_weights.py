"""Weight preprocessing and device params: BN folding, the on-disk cache, input format."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from pytest_ttpose.tt import MESH_DEVICE_PARAMS, SINGLE_DEVICE_PARAMS
from pytest_ttpose.tt.weights import fold_model, prepare_weights


def test_device_params_match_tt_metal() -> None:
    assert SINGLE_DEVICE_PARAMS == {"l1_small_size": 24576, "trace_region_size": 6434816, "num_command_queues": 2}
    assert MESH_DEVICE_PARAMS == {"l1_small_size": 24576, "trace_region_size": 23887872, "num_command_queues": 2}


def test_folded_convs_reproduce_conv_bn(seeded_n: nn.Module) -> None:
    folded = fold_model(seeded_n)
    block = seeded_n.get_submodule("model.3")
    x = torch.randn(1, block.conv.in_channels, 16, 16, generator=torch.Generator().manual_seed(1))
    params = folded["model.3"]
    with torch.no_grad():
        expected = block(x)
        got = torch.nn.functional.silu(torch.nn.functional.conv2d(x, params.weight, params.bias, stride=2, padding=1))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    assert "model.23.dfl.conv" not in folded and "model.23.cv3.0.2" in folded


def test_cache_is_written_then_hit(seeded_n: nn.Module, tmp_path: Path) -> None:
    first = prepare_weights(seeded_n, "bfloat8_b", tmp_path)
    second = prepare_weights(seeded_n, "bfloat8_b", tmp_path)
    assert not first.from_cache and second.from_cache
    assert first.cache_file == second.cache_file and second.cache_file is not None
    assert second.cache_file.is_file() and not list(tmp_path.glob("*.tmp"))
    assert first.convs.keys() == second.convs.keys()
    for name, conv in first.convs.items():
        assert torch.equal(conv.weight, second.convs[name].weight) and torch.equal(conv.bias, second.convs[name].bias)
    assert torch.load(second.cache_file, weights_only=True)  # a plain tensor dict, safe to load


def test_cache_key_follows_weights_and_dtype(seeded_n: nn.Module, tmp_path: Path) -> None:
    base = prepare_weights(seeded_n, "bfloat16", tmp_path)
    other_dtype = prepare_weights(seeded_n, "bfloat8_b", tmp_path)
    changed = type(seeded_n)(seeded_n.scale)
    changed.load_state_dict(seeded_n.state_dict())
    with torch.no_grad():
        changed.get_submodule("model.0.conv").weight.add_(1.0)
    other_weights = prepare_weights(changed.eval(), "bfloat16", tmp_path)
    assert len({base.cache_file, other_dtype.cache_file, other_weights.cache_file}) == 3
    assert not other_weights.from_cache


def test_unreadable_cache_file_is_rebuilt(seeded_n: nn.Module, tmp_path: Path) -> None:
    first = prepare_weights(seeded_n, "bfloat16", tmp_path)
    assert first.cache_file is not None
    first.cache_file.write_bytes(b"not a tensor file")
    again = prepare_weights(seeded_n, "bfloat16", tmp_path)
    assert not again.from_cache and prepare_weights(seeded_n, "bfloat16", tmp_path).from_cache


def test_input_host_tensor_format() -> None:
    import ttnn  # host conversions of the real ttnn need no device

    from pytest_ttpose.tt import input_to_host_tensor

    images = torch.rand(2, 3, 64, 96)
    host = input_to_host_tensor(ttnn, images)
    # the 3 RGB channels as they are (tt-metal's host input); the model pads them on the device
    assert list(host.shape) == [2, 3, 64, 96] and host.dtype == ttnn.bfloat16 and host.layout == ttnn.ROW_MAJOR_LAYOUT
    torch.testing.assert_close(ttnn.to_torch(host).float(), images, rtol=1e-2, atol=1e-2)
    with pytest.raises(ValueError, match="multiples of 32"):
        input_to_host_tensor(ttnn, torch.rand(1, 3, 60, 64))
