"""Fold BatchNorm into the preceding convolution, as Ultralytics' ``fuse_conv_and_bn`` does.

The TT model consumes folded weights: ``W' = W * g / sqrt(rv + eps)``, ``b' = beta - rm * g / sqrt(rv + eps)``,
with the BatchNorm's own eps (1e-3 for YOLO11).
"""

from __future__ import annotations

import copy
from typing import TypeVar

import torch
from torch import nn

from pytest_ttpose.reference.modules import Conv

ModelT = TypeVar("ModelT", bound=nn.Module)


def fold_conv_bn(conv: Conv) -> tuple[torch.Tensor, torch.Tensor]:
    """Folded (weight (Cout, Cin/g, kh, kw), bias (Cout,)) of a :class:`Conv` whose BatchNorm is still present."""
    bn = conv.bn
    if not isinstance(bn, nn.BatchNorm2d):
        raise ValueError("this Conv has no BatchNorm left to fold (was the model fused already?)")
    assert bn.running_var is not None and bn.running_mean is not None
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        weight = conv.conv.weight * scale.view(-1, 1, 1, 1)
        conv_bias = conv.conv.bias if conv.conv.bias is not None else torch.zeros_like(bn.running_mean)
        bias = bn.bias + (conv_bias - bn.running_mean) * scale
    return weight.detach().clone(), bias.detach().clone()


def fuse(model: ModelT, inplace: bool = False) -> ModelT:
    """A copy of ``model`` (or ``model`` itself with ``inplace=True``) with every Conv's BatchNorm folded into its conv.

    The fused Conv keeps its ``conv`` (now with a bias) and replaces ``bn`` by an identity, so the module tree and layer
    indices stay as they were; the state dict loses the ``bn.*`` keys and gains ``conv.bias``. Outputs agree with the
    unfused model to float rounding (about 0.02 px on the decoded boxes of the real n weights).
    """
    target = model if inplace else copy.deepcopy(model)
    for module in target.modules():
        if isinstance(module, Conv) and isinstance(module.bn, nn.BatchNorm2d):
            weight, bias = fold_conv_bn(module)
            fused = nn.Conv2d(
                module.conv.in_channels,
                module.conv.out_channels,
                module.conv.kernel_size,  # type: ignore[arg-type]
                module.conv.stride,  # type: ignore[arg-type]
                module.conv.padding,  # type: ignore[arg-type]
                module.conv.dilation,  # type: ignore[arg-type]
                module.conv.groups,
                bias=True,
            ).requires_grad_(False)
            with torch.no_grad():
                fused.weight.copy_(weight)
                fused.bias.copy_(bias)  # type: ignore[union-attr]  # bias=True above
            module.conv = fused.to(weight.dtype)
            module.bn = nn.Identity()
    return target.eval()
