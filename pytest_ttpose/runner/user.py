"""A user's YOLO11-pose implementation as the suites see it: its output read back as the (B, 56, A) torch tensor
the reference produces, whatever layout the user's model leaves it in.

* :func:`output_to_torch` is the default output adapter: (B, 56, A), (B, A, 56), (B, 1, 56, A) and (B, 1, A, 56),
  on the device or the host, ROW_MAJOR or TILE, and tile padding of A or of the 56 channels beyond the logical shape.
  Anything else fails with :class:`OutputLayoutError`, which shows the shape and names the option that covers it.
* :class:`UserRunner` wraps a runner with the spec's API (``run(torch_input_tensor)``, ``release()``).
* :func:`tt_model_builder` turns a user's ``FACTORY(device, reference_model, act_dtype, weight_dtype, resolution,
  batch_size)`` into the ``RunnerConfig.model_builder`` the bundled infra and performant runner drive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from pytest_ttpose.seam import api_for

POSE_CHANNELS = 56  # 4 box + 1 person score + 17 keypoints x (x, y, visibility)
HEAD_STRIDES = (8, 16, 32)
TILE = 32  # a TILE layout pads each of the last two dims to this
# A user's output adapter: (device output, its ttnn namespace, the mesh composer or None) -> (B, 56, A) torch.
OutputAdapter = Callable[[Any, Any, Any], torch.Tensor]
ADAPTER_HINT = (
    "give the runner an output_to_torch(output) method, or pass --ttpose-output=MODULE:FUNC with "
    "FUNC(output, ttnn, mesh_composer) -> torch.Tensor of shape (B, 56, A)"
)


class OutputLayoutError(ValueError):
    """The model's output is in a layout the default adapter cannot read."""


def anchor_count(resolution: tuple[int, int]) -> int:
    """Anchors of the YOLO11 head at ``resolution``: one per cell of the stride 8, 16 and 32 grids."""
    height, width = resolution
    return sum((height // stride) * (width // stride) for stride in HEAD_STRIDES)


def device_count(device: Any) -> int:
    get_num_devices = getattr(device, "get_num_devices", None)
    return int(get_num_devices()) if get_num_devices is not None else 1


def mesh_composer_for(ttnn: Any, device: Any) -> Any:
    """Chips' outputs concatenated on the batch dim, or None on a single device."""
    return ttnn.ConcatMeshToTensor(device, dim=0) if device_count(device) > 1 else None


def _tiled(size: int) -> int:
    return -(-size // TILE) * TILE


def output_to_torch(output: Any, ttnn: Any, mesh_composer: Any, *, batch: int, anchors: int) -> torch.Tensor:
    """A model output (ttnn tensor on device or host, or a torch tensor) as a float (batch, 56, anchors) tensor."""
    if isinstance(output, torch.Tensor):
        host = output
    else:
        host = ttnn.to_torch(output, mesh_composer=mesh_composer)
    shape = tuple(int(size) for size in host.shape)
    values = host
    if values.dim() == 4 and values.shape[1] == 1:
        values = values[:, 0]
    if values.dim() == 3 and values.shape[0] == batch:
        # Channels first or last; either dim may carry tile padding beyond its logical size.
        channels, cells = (POSE_CHANNELS, _tiled(POSE_CHANNELS)), (anchors, _tiled(anchors))
        if values.shape[1] in channels and values.shape[2] in cells:
            return values[:, :POSE_CHANNELS, :anchors].float().contiguous()
        if values.shape[2] in channels and values.shape[1] in cells:
            return values[:, :anchors, :POSE_CHANNELS].transpose(1, 2).float().contiguous()
    raise OutputLayoutError(
        f"cannot read the model output of shape {shape} as (B={batch}, {POSE_CHANNELS}, A={anchors}): the default "
        f"adapter reads (B, 56, A), (B, A, 56), (B, 1, 56, A) and (B, 1, A, 56), tile padding included; {ADAPTER_HINT}"
    )


def read_output(
    output: Any, device: Any, adapter: OutputAdapter | None, *, batch: int, resolution: tuple[int, int]
) -> torch.Tensor:
    """``output`` through ``adapter`` (or the default one), checked to be (batch, 56, A)."""
    ttnn = api_for(device)
    composer = mesh_composer_for(ttnn, device)
    anchors = anchor_count(resolution)
    if adapter is None:
        return output_to_torch(output, ttnn, composer, batch=batch, anchors=anchors)
    result = adapter(output, ttnn, composer)
    if not isinstance(result, torch.Tensor) or tuple(result.shape) != (batch, POSE_CHANNELS, anchors):
        shape = tuple(result.shape) if isinstance(result, torch.Tensor) else type(result).__name__
        raise OutputLayoutError(
            f"the output adapter returned {shape}, expected a torch.Tensor of shape ({batch}, {POSE_CHANNELS}, "
            f"{anchors}); fix --ttpose-output's function"
        )
    return result.float()


class UserRunner:
    """A user's runner (the spec's API) with the surface the suites use: ``run``, ``output_to_torch``,
    ``run_to_torch``/``forward``, ``reference_output`` and ``release``.

    ``batch_size`` is the global batch (device batch x chips). The output is read by the runner's own
    ``output_to_torch`` when it has one, else by ``adapter`` (``--ttpose-output``), else by :func:`output_to_torch`.
    """

    def __init__(
        self,
        runner: Any,
        device: Any,
        *,
        device_batch_size: int,
        resolution: tuple[int, int],
        reference_model: torch.nn.Module,
        adapter: OutputAdapter | None = None,
        build_fit: Any = None,
    ) -> None:
        self.runner = runner
        # On a dry run: the L1 fit report of the runner's construction, the only time its model ran.
        self.build_fit = build_fit
        self.device = device
        self.batch_size = device_batch_size * device_count(device)
        self.resolution = resolution
        self.reference_model = reference_model
        self._adapter = adapter
        self._released = False

    def run(self, torch_input_tensor: torch.Tensor) -> Any:
        return self.runner.run(torch_input_tensor)

    def output_to_torch(self, output: Any) -> torch.Tensor:
        own = getattr(self.runner, "output_to_torch", None)
        if callable(own):
            adapter: OutputAdapter | None = lambda value, _ttnn, _composer: own(value)  # noqa: E731
        else:
            adapter = self._adapter
        return read_output(output, self.device, adapter, batch=self.batch_size, resolution=self.resolution)

    def run_to_torch(self, torch_input_tensor: torch.Tensor) -> torch.Tensor:
        return self.output_to_torch(self.run(torch_input_tensor))

    def forward(self, torch_input_tensor: torch.Tensor) -> torch.Tensor:
        """One forward read back: what the untraced model computes, for a runner that has only its traced path."""
        return self.run_to_torch(torch_input_tensor)

    def reference_output(self, torch_input_tensor: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            output: torch.Tensor = self.reference_model(torch_input_tensor.float())
        return output

    def layer_pcc_rows(self, torch_input_tensor: torch.Tensor) -> Any:
        raise NotImplementedError(f"{type(self.runner).__qualname__} is not the bundled model: it has no layer map")

    def release(self) -> None:
        """The user's ``release()``, once."""
        if self._released:
            return
        self._released = True
        self.runner.release()


class FactoryTtModel:
    """A model from a user's factory, with the contract ``pytest_ttpose.runner``'s infra drives: called on the
    L1 height-sharded NCHW RGB input (3 channels; the model pads them on the device), read back by
    ``output_to_torch``, its batch sharded over a mesh's chips."""

    def __init__(
        self, model: Any, device: Any, *, batch_size: int, resolution: tuple[int, int], adapter: OutputAdapter | None
    ) -> None:
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.resolution = resolution
        self.num_anchors = anchor_count(resolution)
        self._adapter = adapter
        self._ttnn = api_for(device)

    def __call__(self, input_tensor: Any) -> Any:
        return self.model(input_tensor)

    def output_to_torch(self, output: Any, mesh_composer: Any = None) -> torch.Tensor:
        own = getattr(self.model, "output_to_torch", None)
        adapter: OutputAdapter | None = (
            (lambda value, _ttnn, composer: own(value, mesh_composer=composer)) if callable(own) else self._adapter
        )
        batch = self.batch_size * device_count(self.device)
        return read_output(output, self.device, adapter, batch=batch, resolution=self.resolution)

    def input_mesh_mapper(self) -> Any:
        return self._ttnn.ShardTensorToMesh(self.device, dim=0) if device_count(self.device) > 1 else None

    def output_mesh_composer(self) -> Any:
        return mesh_composer_for(self._ttnn, self.device)

    def release(self) -> None:
        release = getattr(self.model, "release", None)
        if callable(release):
            release()


def tt_model_builder(factory: Callable[..., Any], adapter: OutputAdapter | None) -> Callable[..., FactoryTtModel]:
    """The ``RunnerConfig.model_builder`` calling ``factory`` with the spec's positional arguments."""

    def build(
        device: Any,
        reference_model: torch.nn.Module,
        *,
        batch_size: int,
        resolution: tuple[int, int],
        act_dtype: Any,
        weight_dtype: Any,
        **_unused: Any,  # math_fidelity, cache_dir: the bundled model's options
    ) -> FactoryTtModel:
        model = factory(device, reference_model, act_dtype, weight_dtype, resolution, batch_size)
        return FactoryTtModel(model, device, batch_size=batch_size, resolution=resolution, adapter=adapter)

    return build


__all__ = [
    "FactoryTtModel",
    "OutputAdapter",
    "OutputLayoutError",
    "UserRunner",
    "anchor_count",
    "output_to_torch",
    "read_output",
    "tt_model_builder",
]
