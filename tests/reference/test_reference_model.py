"""The torch reference against Ultralytics' PoseModel (the golden model) with the same weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from pytest_ttpose.pose.processing import preprocess
from pytest_ttpose.reference import HEAD_INDEX, YoloV11Pose, anchor_count, build_reference, fold_conv_bn, fuse
from pytest_ttpose.reference.modules import C2PSA, SPPF, C3k2, Conv, Pose

DECODED_TOLERANCE_PX = 1e-3
RAW_TOLERANCE = 1e-4


def _compare_with_ultralytics(ours: torch.nn.Module, golden: Any, x: torch.Tensor) -> None:
    with torch.no_grad():
        result = ours(x, return_raw=True)
        decoded, raw = golden(x)
    assert result.decoded.shape == decoded.shape == (x.shape[0], 56, anchor_count(x.shape[2], x.shape[3]))
    assert (result.decoded - decoded).abs().max().item() <= DECODED_TOLERANCE_PX
    for key in ("boxes", "scores", "kpts"):
        assert result.raw[key].shape == raw[key].shape, key
        assert (result.raw[key] - raw[key]).abs().max().item() <= RAW_TOLERANCE, key


@pytest.mark.parametrize("batch", [1, 2], ids=["b1", "b2"])
@pytest.mark.parametrize("size", [640, 320], ids=["640x640", "320x320"])
def test_real_weights_match_ultralytics(
    reference_n: YoloV11Pose, ultralytics_n: Any, images: dict[str, np.ndarray], size: int, batch: int
) -> None:
    bus, zidane = images["bus.jpg"], images["zidane.jpg"]
    batches = [[bus], [zidane]] if batch == 1 else [[bus, zidane]]
    for group in batches:
        x, _ = preprocess(group, size)
        assert x.shape == (batch, 3, size, size)
        _compare_with_ultralytics(reference_n, ultralytics_n, x)


def test_rectangular_input_matches_ultralytics(reference_n: YoloV11Pose, ultralytics_n: Any) -> None:
    x = torch.rand(1, 3, 256, 416, generator=torch.Generator().manual_seed(3))
    _compare_with_ultralytics(reference_n, ultralytics_n, x)


def test_seeded_s_matches_ultralytics(images: dict[str, np.ndarray], ultralytics_pose_model: Any) -> None:
    ours = build_reference("s")
    assert "seeded" in ours.weights_source
    golden = ultralytics_pose_model("s", ours.state_dict())
    x, _ = preprocess(images["bus.jpg"], 640)
    _compare_with_ultralytics(ours, golden, x)


@pytest.mark.parametrize("scale", ["n", "s", "m"])
def test_strict_load_both_ways(scale: str) -> None:
    from ultralytics.nn.tasks import PoseModel

    ours = YoloV11Pose(scale)
    golden = PoseModel(f"yolo11{scale}-pose.yaml", nc=1, verbose=False)
    assert list(ours.state_dict()) == list(golden.state_dict())
    golden.load_state_dict(ours.state_dict(), strict=True)
    ours.load_state_dict(golden.state_dict(), strict=True)


@pytest.mark.parametrize("scale", ["l", "x"])
def test_keys_and_shapes_match(scale: str) -> None:
    from ultralytics.nn.tasks import PoseModel

    ours = {k: tuple(v.shape) for k, v in YoloV11Pose(scale).state_dict().items()}
    golden = {
        k: tuple(v.shape) for k, v in PoseModel(f"yolo11{scale}-pose.yaml", nc=1, verbose=False).state_dict().items()
    }
    assert ours == golden


def test_return_raw_keeps_the_result(reference_n: YoloV11Pose, images: dict[str, np.ndarray]) -> None:
    x, _ = preprocess(images["zidane.jpg"], 320)
    with torch.no_grad():
        plain = reference_n(x)
        full = reference_n(x, return_raw=True)
    assert torch.equal(plain, full.decoded)
    assert sorted(full.layers) == list(range(HEAD_INDEX))
    assert full.raw["boxes"].shape == (1, 64, 2100)
    assert full.raw["scores"].shape == (1, 1, 2100)
    assert full.raw["kpts"].shape == (1, 51, 2100)
    assert {f"{part}.{level}" for part in ("box", "score", "kpt") for level in range(3)} == set(full.head)
    assert full.head["kpt.2"].shape == (1, 51, 10, 10)
    assert torch.equal(reference_n.decode(full.raw, (320, 320)), full.decoded)


def test_layers_follow_the_yaml(reference_n: YoloV11Pose, images: dict[str, np.ndarray]) -> None:
    layers = reference_n.layers
    assert len(layers) == 24
    assert isinstance(layers[2], C3k2) and isinstance(layers[9], SPPF) and isinstance(layers[10], C2PSA)
    assert isinstance(layers[HEAD_INDEX], Pose)
    assert isinstance(layers[9].cv1.act, torch.nn.SiLU)  # YOLO11 keeps SiLU on SPPF.cv1
    assert all(m.eps == 1e-3 for m in reference_n.modules() if isinstance(m, torch.nn.BatchNorm2d))
    # A block fed its recorded input reproduces its recorded output: what per-block TT tests rely on.
    x, _ = preprocess(images["bus.jpg"], 320)
    with torch.no_grad():
        full = reference_n(x, return_raw=True)
        assert reference_n.layer_input_channels(2) == full.layers[1].shape[1]
        assert torch.equal(layers[2](full.layers[1]), full.layers[2])
    for index in range(HEAD_INDEX):
        assert reference_n.layer_output_shape(index, 1, 320, 320) == tuple(full.layers[index].shape), index
    assert reference_n.layer_input_shapes(0, 1, 320, 320) == [(1, 3, 320, 320)]
    assert reference_n.layer_input_shapes(12, 1, 320, 320) == [
        tuple(full.layers[11].shape),
        tuple(full.layers[6].shape),
    ]
    assert reference_n.layer_input_shapes(HEAD_INDEX, 1, 320, 320) == [
        tuple(full.layers[i].shape) for i in (16, 19, 22)
    ]


@pytest.mark.parametrize("shape", [(1, 3, 320, 300), (1, 3, 100, 320), (1, 1, 320, 320), (3, 320, 320)])
def test_bad_input_shape_is_refused(reference_n: YoloV11Pose, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="input"):
        reference_n(torch.zeros(shape))


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="scale 'q'"):
        YoloV11Pose("q")


def test_fold_conv_bn_matches_ultralytics(reference_n: YoloV11Pose, ultralytics_n: Any) -> None:
    from ultralytics.utils.torch_utils import fuse_conv_and_bn

    for index in (0, 5):
        ours = reference_n.layers[index]
        assert isinstance(ours, Conv)
        weight, bias = fold_conv_bn(ours)
        golden_conv = fuse_conv_and_bn(ultralytics_n.model[index].conv, ultralytics_n.model[index].bn)
        torch.testing.assert_close(weight, golden_conv.weight, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(bias, golden_conv.bias, rtol=1e-5, atol=1e-6)


def test_fused_model_agrees(reference_n: YoloV11Pose, images: dict[str, np.ndarray]) -> None:
    fused = fuse(reference_n)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in reference_n.modules())  # the original is untouched
    assert "model.0.conv.bias" in fused.state_dict() and "model.0.bn.weight" not in fused.state_dict()
    x, _ = preprocess(images["bus.jpg"], 320)
    with torch.no_grad():
        unfused_out = reference_n(x, return_raw=True)
        fused_out = fused(x, return_raw=True)
    assert (unfused_out.decoded - fused_out.decoded).abs().max().item() < 0.1
    assert (unfused_out.raw["kpts"] - fused_out.raw["kpts"]).abs().max().item() < 1e-2
    with pytest.raises(ValueError, match="no BatchNorm"):
        fold_conv_bn(fused.layers[0])
