"""TtnnYoloV11Pose: YOLO11-pose (layers 0..23 of the Ultralytics yaml) in ttnn, and the model's input/output formats."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pytest_ttpose.seam import api_for
from pytest_ttpose.tt.blocks import C2PSA, SPPF, C3k2, sensitive
from pytest_ttpose.tt.common import Concat, Conv, Feature, ModelContext, Upsample
from pytest_ttpose.tt.head import PoseHead, RawHeadOutputs, decoded_to_torch, raw_to_torch
from pytest_ttpose.tt.weights import PreparedWeights, prepare_weights

INPUT_CHANNELS = 16  # RGB zero-padded to 16 channels: the smallest channel count conv2d reads efficiently
MAX_STRIDE = 32
HEAD_INDEX = 23
# The stem (the stride-2 and stride-4 layers): bfloat16 weights, and the sensitive fidelity after layer 0 (see below)
STEM_LAYERS = frozenset({0, 1, 2})
FEATURE_INDICES: tuple[int, int, int] = (16, 19, 22)
# yaml rows that read an earlier layer besides the previous one: Concat row -> the earlier row it joins
CONCAT_SOURCES: dict[int, int] = {12: 6, 15: 4, 18: 13, 21: 10}


def _is_mesh(device: Any) -> bool:
    return int(device.get_num_devices()) > 1


def input_to_host_tensor(api: Any, torch_nchw: torch.Tensor, mesh_mapper: Any = None) -> Any:
    """The model's host input: float NCHW (B, 3, H, W) -> a bfloat16 ROW_MAJOR host tensor of the same shape.

    As in tt-metal's YOLOv11 runners, the host converts only the three RGB channels; the model pads them to
    ``INPUT_CHANNELS`` and turns them NHWC on the device (:func:`rgb_to_conv_input`), which is 13/16 less to
    convert and write per frame. ``api`` is the ttnn namespace of the target device (``api_for(device)``);
    ``mesh_mapper`` shards the batch over a mesh (``ShardTensorToMesh(mesh, dim=0)``).
    """
    if torch_nchw.dim() != 4 or torch_nchw.shape[1] != 3:
        raise ValueError(f"expected a float tensor of shape (B, 3, H, W), got {tuple(torch_nchw.shape)}")
    height, width = int(torch_nchw.shape[2]), int(torch_nchw.shape[3])
    if height % MAX_STRIDE or width % MAX_STRIDE:
        raise ValueError(
            f"input height and width must be multiples of {MAX_STRIDE}, got {height}x{width}; letterbox the image "
            "first (pytest_ttpose.pose.processing.letterbox)"
        )
    return api.from_torch(
        torch_nchw.float().contiguous(), dtype=api.bfloat16, layout=api.ROW_MAJOR_LAYOUT, mesh_mapper=mesh_mapper
    )


def rgb_to_conv_input(ttnn: Any, image: Any, memory_config: Any) -> Any:
    """The device's NCHW RGB ROW_MAJOR image -> NHWC with the channels zero-padded to ``INPUT_CHANNELS``.

    The channels are padded first, on dim 1, so every page the pad moves is a whole image row (W values), then one
    permute makes them NHWC; padding the NHWC last dim instead moves 6-byte pages, which ttnn refuses from an L1
    shard ("page size 6 bytes, which must be aligned to 16 bytes"). Both results are ``memory_config`` (DRAM: the
    16-channel image is 13 MB at 640x640).
    """
    padded = ttnn.pad(image, [(0, 0), (0, INPUT_CHANNELS - 3), (0, 0), (0, 0)], 0.0, memory_config=memory_config)
    nhwc = ttnn.permute(padded, (0, 2, 3, 1), memory_config=memory_config)
    ttnn.deallocate(padded)
    return nhwc


class TtnnYoloV11Pose:
    """YOLO11-pose in ttnn for one device (or a mesh, weights replicated), batch size and resolution.

    ``model(x)`` takes the [B, 3, H, W] RGB input (see :func:`input_to_host_tensor`) and returns the decoded output as a
    [B, 1, A, 56] TILE tensor; ``output_to_torch`` turns it into the (B, 56, A) float32 layout of the reference.
    """

    def __init__(
        self,
        ctx: ModelContext,
        reference_model: nn.Module,
        weights: PreparedWeights,
        *,
        batch_size: int,
        resolution: tuple[int, int],
    ) -> None:
        self.ctx = ctx
        self.device = ctx.device
        self.batch_size = batch_size
        self.resolution = resolution
        self.weights_info = weights
        layers: Any = reference_model.model
        convs = weights.convs
        self.layers: list[Any] = []
        for index in range(HEAD_INDEX):
            module = layers[index]
            kind = type(module).__name__
            name = f"model.{index}"
            ctx = stem_context(self.ctx) if index in STEM_LAYERS else self.ctx
            if kind == "Conv":
                stride = int(module.conv.stride[0])
                # The first conv reads the bfloat16 image, one mantissa bit more than LoFi keeps of an activation
                # (bfloat8_b activations lose nothing there); dropping it biases every layer after, so it runs at HiFi4.
                first = index == 0
                self.layers.append(
                    Conv(
                        ctx,
                        convs[name],
                        stride=stride,
                        in_channels=INPUT_CHANNELS if first else None,
                        compute_config=ctx.precise_compute_config if first else None,
                    )
                )
            elif kind == "C3k2":
                self.layers.append(C3k2(ctx, module, convs, name))
            elif kind == "SPPF":
                self.layers.append(SPPF(ctx, module, convs, name))
            elif kind == "C2PSA":
                self.layers.append(C2PSA(ctx, module, convs, name))
            elif kind == "Upsample":
                self.layers.append(Upsample(ctx, int(module.scale_factor)))
            elif kind == "Concat":
                self.layers.append(Concat(ctx))
            else:
                raise ValueError(f"layer {index} is a {kind}; not a YOLO11-pose layer this TT model knows")
        ctx = self.ctx
        height, width = resolution
        self.head = PoseHead(
            ctx, layers[HEAD_INDEX], convs, f"model.{HEAD_INDEX}", batch=batch_size, height=height, width=width
        )

    @property
    def num_anchors(self) -> int:
        height, width = self.resolution
        return sum((height // s) * (width // s) for s in (8, 16, 32))

    def input_feature(self, x: Any) -> Feature:
        """The first conv's input: the [B, 3, H, W] image padded to 16 channels and made NHWC, in DRAM.

        The image itself may be the runner's L1 height-sharded input; it stays allocated for the whole forward (the
        trace reads it there), so the 16-channel copy goes to DRAM, where the first conv slices itself into whatever
        L1 is left (run from an L1 copy at 640x640 batch 2, its circular buffers clash with the L1 tensors).
        """
        shape = tuple(int(d) for d in x.shape)
        expected = (self.batch_size, 3, self.resolution[0], self.resolution[1])
        if shape != expected:
            raise ValueError(
                f"model input has shape {list(shape)}, this model was built for {list(expected)} (per device); build "
                "it with input_to_host_tensor() and the model's batch_size and resolution"
            )
        nhwc = rgb_to_conv_input(self.ctx.ttnn, x, self.ctx.dram)
        return Feature(nhwc, self.batch_size, self.resolution[0], self.resolution[1], INPUT_CHANNELS)

    def run(self, x: Any) -> tuple[Any, RawHeadOutputs, dict[int, Feature], dict[str, Feature]]:
        """Forward keeping everything: (decoded, raw head tensors, outputs of layers 0..22, per-level head maps)."""
        outputs: dict[int, Feature] = {}
        y = self.input_feature(x)
        for index, layer in enumerate(self.layers):
            if index in CONCAT_SOURCES:
                y = layer([y, outputs[CONCAT_SOURCES[index]]])
            else:
                y = layer(y)
            outputs[index] = y
        decoded, raw, maps = self.head([outputs[i] for i in FEATURE_INDICES])
        return decoded, raw, outputs, maps

    def __call__(self, x: Any, return_raw: bool = False) -> Any:
        """Decoded [B, 1, A, 56] output; with ``return_raw=True`` the pair (decoded, :class:`RawHeadOutputs`)."""
        decoded, raw, _, _ = self.run(x)
        return (decoded, raw) if return_raw else decoded

    def output_to_torch(self, output: Any, mesh_composer: Any = None) -> torch.Tensor:
        """Decoded device output -> (B, 56, A) float32 torch tensor (channel layout: docs/ARCHITECTURE.md)."""
        return decoded_to_torch(self.ctx.ttnn, output, mesh_composer)

    def raw_to_torch(self, raw: RawHeadOutputs, mesh_composer: Any = None) -> dict[str, torch.Tensor]:
        """Raw head tensors -> {"boxes": (B, 64, A), "scores": (B, 1, A), "kpts": (B, 51, A)} float32."""
        return raw_to_torch(self.ctx.ttnn, raw, mesh_composer)

    def feature_to_torch(self, feature: Feature, mesh_composer: Any = None) -> torch.Tensor:
        """A [1, 1, B*H*W, C] feature map -> (B, C, H, W) float32 torch tensor (B is the global batch on a mesh)."""
        value = self.ctx.ttnn.to_torch(feature.tensor, mesh_composer=mesh_composer).float()
        return value.reshape(-1, feature.height, feature.width, feature.channels).permute(0, 3, 1, 2).contiguous()

    def input_mesh_mapper(self) -> Any:
        """Shards the batch over the mesh (None on one chip)."""
        ttnn = self.ctx.ttnn
        return ttnn.ShardTensorToMesh(self.device, dim=0) if _is_mesh(self.device) else None

    def output_mesh_composer(self) -> Any:
        """Concatenates the per-chip outputs on the batch dim (None on one chip)."""
        ttnn = self.ctx.ttnn
        return ttnn.ConcatMeshToTensor(self.device, dim=0) if _is_mesh(self.device) else None


def stem_context(ctx: ModelContext) -> ModelContext:
    """The context of the stem layers: bfloat16 weights at the sensitive fidelity (no LoFi weight rounding).

    Why: every later layer carries the stem's weight error. With bfloat8_b weights at LoFi (about 1.5% relative error
    per weight) the raw person-score PCC of the real n weights at 640x640 is 0.988-0.993 on bus and zidane (and their
    mirror images) on the emulator with host numerics (measured before it modelled the device's); bfloat16 stem
    weights (HiFi2 after layer 0) give 0.992-0.994, for 11k of the 2.9M weights and 2x math in 5 of the 96 convs.
    Keeping bfloat16 activations instead (head inputs, score branch) moved it by < 0.0005.
    A context with bfloat16 weights at HiFi4 is unchanged.
    """
    return replace(sensitive(ctx), weight_dtype=ctx.ttnn.bfloat16)


def _dtype_is(ttnn: Any, dtype: Any, name: str) -> bool:
    return dtype == getattr(ttnn, name)


# The activation and weight dtypes the model is built for (the harness's --ttpose-dtypes offers exactly these).
SUPPORTED_DTYPES = ("bfloat16", "bfloat8_b")


def make_context(device: Any, *, act_dtype: Any, weight_dtype: Any, math_fidelity: Any = None) -> ModelContext:
    """The context every block is built with: dtypes, compute configs and (on a mesh) the weight replicator.

    ``math_fidelity=None`` means LoFi for bfloat8_b weights and HiFi4 otherwise.
    """
    ttnn = api_for(device)
    for label, dtype in (("act_dtype", act_dtype), ("weight_dtype", weight_dtype)):
        if not any(_dtype_is(ttnn, dtype, name) for name in SUPPORTED_DTYPES):
            raise ValueError(f"{label} must be ttnn.bfloat16 or ttnn.bfloat8_b of the device's ttnn, got {dtype!r}")
    if math_fidelity is None:
        low = _dtype_is(ttnn, weight_dtype, "bfloat8_b")
        math_fidelity = ttnn.MathFidelity.LoFi if low else ttnn.MathFidelity.HiFi4
    # packer_l1_acc and fp32_dest_acc_en on every config. packer_l1_acc: a conv multiplies one kernel row per K block,
    # and without the packer's L1 accumulation its partial sums go out to L1 in the output dtype between rows and back
    # into Dst (in bfloat8_b, the packer's double rounding twice more per 3x3 conv). fp32_dest_acc_en: a bfloat16 Dst
    # rounds after every 16-wide K slice of every fidelity phase, and the partial sums in L1 are then bfloat16 too.
    # Measured on the emulator's device numerics with the bundled weights (bus/zidane), tt-metal's YOLO11 setting
    # (neither) -> packer_l1_acc only -> both:
    #   bfloat16 320x320 b1, decoded score PCC: 0.9900 (floor 0.995) -> 0.9973 -> 0.9992;
    #   bfloat8_b 640x640 b1, keypoint-visibility PCC: 0.954 (floor 0.97) -> 0.980 -> 0.987;
    #   bfloat8_b 640x640 b1 zidane, mean OKS of the detections: 0.936 (bar 0.95) with packer_l1_acc only -> 0.980;
    #   bfloat8_b scale s (seeded), isolated score branch P3: 0.99789 (bar 0.998) -> 0.99809.
    compute_config = ttnn.init_device_compute_kernel_config(
        device.arch(),
        math_fidelity=math_fidelity,
        math_approx_mode=math_fidelity == ttnn.MathFidelity.LoFi,
        fp32_dest_acc_en=True,
        packer_l1_acc=True,
    )
    sensitive_fidelity = ttnn.MathFidelity.HiFi2 if math_fidelity == ttnn.MathFidelity.LoFi else math_fidelity
    sensitive_compute_config = ttnn.init_device_compute_kernel_config(
        device.arch(),
        math_fidelity=sensitive_fidelity,
        math_approx_mode=False,
        fp32_dest_acc_en=True,
        packer_l1_acc=True,
    )
    precise_compute_config = ttnn.init_device_compute_kernel_config(
        device.arch(),
        math_fidelity=ttnn.MathFidelity.HiFi4,
        math_approx_mode=False,
        fp32_dest_acc_en=True,
        packer_l1_acc=True,
    )
    return ModelContext(
        device=device,
        ttnn=ttnn,
        act_dtype=act_dtype,
        weight_dtype=weight_dtype,
        compute_config=compute_config,
        sensitive_compute_config=sensitive_compute_config,
        round_weights_for_lofi=math_fidelity == ttnn.MathFidelity.LoFi,
        precise_compute_config=precise_compute_config,
        weights_mesh_mapper=ttnn.ReplicateTensorToMesh(device) if _is_mesh(device) else None,
    )


def feature_from_torch(ctx: ModelContext, nchw: torch.Tensor) -> Feature:
    """A (B, C, H, W) torch tensor as a device feature map: [1, 1, B*H*W, C] TILE in DRAM with the activation dtype.

    This is how a block receives its input inside the model; tests use it to run one block on a reference input.
    """
    ttnn = ctx.ttnn
    batch, channels, height, width = (int(d) for d in nchw.shape)
    flat = nchw.float().permute(0, 2, 3, 1).reshape(1, 1, batch * height * width, channels).contiguous()
    tensor = ttnn.from_torch(
        flat,
        dtype=ctx.act_dtype,
        layout=ttnn.TILE_LAYOUT,
        device=ctx.device,
        memory_config=ctx.dram,
        mesh_mapper=ctx.weights_mesh_mapper,
    )
    return Feature(tensor, batch, height, width, channels)


def build_pose_model(
    device: Any,
    reference_model: nn.Module,
    *,
    batch_size: int,
    resolution: tuple[int, int],
    act_dtype: Any,
    weight_dtype: Any,
    math_fidelity: Any = None,
    cache_dir: Path | str | None = None,
) -> TtnnYoloV11Pose:
    """Build the TT model on ``device`` from ``reference_model``'s weights (BN folded, cached on disk).

    ``batch_size`` is per device. ``act_dtype``/``weight_dtype`` are the device's ttnn DataTypes (bfloat16 or
    bfloat8_b). ``math_fidelity=None`` means LoFi for bfloat8_b weights and HiFi4 otherwise.
    """
    height, width = resolution
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if height % MAX_STRIDE or width % MAX_STRIDE or height <= 0 or width <= 0:
        raise ValueError(f"resolution must be positive multiples of {MAX_STRIDE}, got {height}x{width}")
    ctx = make_context(device, act_dtype=act_dtype, weight_dtype=weight_dtype, math_fidelity=math_fidelity)
    weights = prepare_weights(reference_model, weight_dtype, cache_dir)
    return TtnnYoloV11Pose(ctx, reference_model, weights, batch_size=batch_size, resolution=(height, width))


__all__ = [
    "INPUT_CHANNELS",
    "TtnnYoloV11Pose",
    "build_pose_model",
    "feature_from_torch",
    "input_to_host_tensor",
    "rgb_to_conv_input",
    "make_context",
]
