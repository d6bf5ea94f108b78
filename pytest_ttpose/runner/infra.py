"""``YOLOv11PosePerformanceRunnerInfra``: the model, its inputs and its checks, shared by the basic and traced runners.

It builds the torch reference (with its weights) and the TT model (with its prepared weights), prepares the
input tensors (bf16 row-major NCHW host tensor, L1 height-sharded model input config, DRAM interleaved staging
config), runs the model once on whatever ``input_tensor`` holds, and validates an output against the reference
on the same input, component by component (box, score, keypoint xy, keypoint visibility, all).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import FunctionType, MethodType, ModuleType
from typing import Any

import torch

from pytest_ttpose.pose.metrics import component_pcc
from pytest_ttpose.reference import build_reference
from pytest_ttpose.runner.config import RunnerConfig
from pytest_ttpose.runner.inputs import check_torch_input, l1_input_config
from pytest_ttpose.runner.staging import staging_memory_config
from pytest_ttpose.seam import api_for
from pytest_ttpose.tt import build_pose_model, input_to_host_tensor
from pytest_ttpose.tt.diagnostics import layer_pcc_table
from pytest_ttpose.tt.run import run_tt_model


class PccCheckError(AssertionError):
    """A device output fell below a PCC threshold against the torch reference."""


def device_count(device: Any) -> int:
    """How many chips ``device`` spans (1 for a single device, N for an N-device mesh)."""
    get_num_devices = getattr(device, "get_num_devices", None)
    return int(get_num_devices()) if get_num_devices is not None else 1


class YOLOv11PosePerformanceRunnerInfra:
    """The TT pose model on ``device`` with its reference, inputs and validation.

    ``device_batch_size`` images go to each chip; on a mesh the batch is sharded on dim 0, the weights are
    replicated by the model builder and the outputs are concatenated on dim 0, so the global batch is
    ``device_batch_size x device_count(device)``. ``reference_model`` and ``model_builder`` default to the
    YOLO11-pose reference (``build_reference(scale, weights, trust_weights, seed)``) and
    ``pytest_ttpose.tt.build_pose_model``; passing others builds the same pipeline around a different model with
    the same contract.
    """

    def __init__(
        self,
        device: Any,
        device_batch_size: int = 1,
        act_dtype: Any = None,
        weight_dtype: Any = None,
        resolution: tuple[int, int] = (640, 640),
        *,
        config: RunnerConfig | None = None,
        **options: Any,
    ) -> None:
        config = RunnerConfig.resolve(config, options, type(self).__name__)
        self.config = config
        if device_batch_size < 1:
            raise ValueError(f"device_batch_size must be at least 1, got {device_batch_size}")
        height, width = resolution
        if height % 32 or width % 32:
            raise ValueError(f"resolution must be a multiple of 32 in both dims (the stride-32 head), got {resolution}")
        self.device = device
        self.ttnn = api_for(device)
        self.device_batch_size = device_batch_size
        self.num_devices = device_count(device)
        self.batch_size = device_batch_size * self.num_devices
        self.resolution = (int(height), int(width))
        self.act_dtype = self.ttnn.bfloat8_b if act_dtype is None else act_dtype
        self.weight_dtype = self.ttnn.bfloat8_b if weight_dtype is None else weight_dtype
        if self.num_devices > 1:
            self.inputs_mesh_mapper: Any = self.ttnn.ShardTensorToMesh(device, dim=0)
            self.output_mesh_composer: Any = self.ttnn.ConcatMeshToTensor(device, dim=0)
        else:
            self.inputs_mesh_mapper = None
            self.output_mesh_composer = None

        torch_input_tensor = config.torch_input_tensor
        if torch_input_tensor is not None:
            self.check_input(torch_input_tensor)  # before anything is built or put on the device
        reference_model = config.reference_model
        if reference_model is None:
            reference_model = build_reference(
                scale=config.scale, weights=config.weights, trust_weights=config.trust_weights, seed=config.seed
            )
        self.reference_model = reference_model.eval()
        build = build_pose_model if config.model_builder is None else config.model_builder
        self.tt_model: Any = build(
            device,
            self.reference_model,
            batch_size=device_batch_size,
            resolution=self.resolution,
            act_dtype=self.act_dtype,
            weight_dtype=self.weight_dtype,
            math_fidelity=config.math_fidelity,
            cache_dir=config.cache_dir,
        )
        if torch_input_tensor is None:
            generator = torch.Generator().manual_seed(config.seed)
            torch_input_tensor = torch.rand((self.batch_size, 3, height, width), generator=generator)
        self.torch_input_tensor = torch_input_tensor
        self.input_tensor: Any = None
        self.output_tensor: Any = None
        self._golden: tuple[torch.Tensor, torch.Tensor] | None = None

    # inputs -----------------------------------------------------------------------------------------------------
    def check_input(self, torch_input_tensor: Any) -> None:
        """``ValueError`` unless the tensor is a finite float (global batch, 3, H, W) batch at the resolution."""
        check_torch_input(
            torch_input_tensor,
            batch_size=self.batch_size,
            resolution=self.resolution,
            batch_origin=f"device_batch_size {self.device_batch_size} x {self.num_devices} device(s)",
        )

    def host_input(self, torch_input_tensor: torch.Tensor | None = None) -> Any:
        """The bf16 row-major NCHW host tensor of a float batch (3 channels, as tt-metal's runners send it; the model
        pads them on the device), sharded per chip."""
        source = self.torch_input_tensor if torch_input_tensor is None else torch_input_tensor
        return input_to_host_tensor(self.ttnn, source, mesh_mapper=self.inputs_mesh_mapper)

    def input_shape(self, host_tensor: Any) -> tuple[int, int, int, int]:
        """The per-chip shape of the model input: the host tensor's, with one chip's share of the batch."""
        _, channels, height, width = (int(d) for d in host_tensor.shape)
        return (self.device_batch_size, channels, height, width)

    def setup_l1_sharded_input(self, torch_input_tensor: torch.Tensor | None = None) -> tuple[Any, Any]:
        """``(host tensor, L1 height-sharded input config over the device's compute grid)``."""
        host = self.host_input(torch_input_tensor)
        return host, l1_input_config(self.ttnn, self.device, self.input_shape(host))

    def setup_dram_input(self, torch_input_tensor: torch.Tensor | None = None) -> tuple[Any, Any, Any]:
        """``(host tensor, DRAM staging config, L1 input config)``; see ``runner.staging``."""
        host, l1_config = self.setup_l1_sharded_input(torch_input_tensor)
        return host, staging_memory_config(self.ttnn, self.device, self.input_shape(host)), l1_config

    # running ----------------------------------------------------------------------------------------------------
    def run(self) -> Any:
        """Run the TT model on ``input_tensor``; the result is kept in ``output_tensor`` and returned."""
        self.output_tensor = self.tt_model(self.input_tensor)
        return self.output_tensor

    def output_to_torch(self, output_tensor: Any = None) -> torch.Tensor:
        """The ``(B, 56, A)`` float torch output of a device output (default ``output_tensor``), chips concatenated."""
        source = self.output_tensor if output_tensor is None else output_tensor
        return self.tt_model.output_to_torch(source, mesh_composer=self.output_mesh_composer).float()

    def forward(self, torch_input_tensor: torch.Tensor) -> torch.Tensor:
        """One untraced forward of the TT model on a (B, 3, H, W) batch, read back as (B, 56, A) float32."""
        return run_tt_model(self.tt_model, torch_input_tensor)

    def layer_pcc_rows(self, torch_input_tensor: torch.Tensor) -> Any:
        """Per-layer PCC of the TT model against the reference on the same input (the bundled model's layers)."""
        return layer_pcc_table(self.reference_model, self.tt_model, torch_input_tensor)

    def reference_output(self, torch_input_tensor: torch.Tensor | None = None) -> torch.Tensor:
        """The fp32 torch reference output on the same input (the default input's output is computed once)."""
        source = self.torch_input_tensor if torch_input_tensor is None else torch_input_tensor
        if self._golden is not None and self._golden[0] is source:
            return self._golden[1]
        with torch.no_grad():
            golden = self.reference_model(source.float())
        if source is self.torch_input_tensor:
            self._golden = (source, golden)
        return golden

    def validate(
        self,
        thresholds: Mapping[str, float],
        output_tensor: Any = None,
        torch_input_tensor: torch.Tensor | None = None,
    ) -> dict[str, float]:
        """Per-component PCC of a device output against the reference on the same input.

        ``thresholds`` maps components (all, box, score, kpt_xy, kpt_vis) to their least PCC; ``PccCheckError``
        names every component below its threshold. Returns the PCC of every component.
        """
        calculated = self.output_to_torch(output_tensor)
        golden = self.reference_output(torch_input_tensor)
        if tuple(calculated.shape) != tuple(golden.shape):
            raise PccCheckError(
                f"device output shape {tuple(calculated.shape)} != reference shape {tuple(golden.shape)}"
            )
        pccs = component_pcc(golden, calculated)
        unknown = sorted(set(thresholds) - set(pccs))
        if unknown:
            raise ValueError(f"unknown PCC components {unknown}; the components are {sorted(pccs)}")
        failures = [f"{name} {pccs[name]:.6f} < {least}" for name, least in thresholds.items() if pccs[name] < least]
        if failures:
            measured = ", ".join(f"{name}={value:.6f}" for name, value in pccs.items())
            raise PccCheckError(f"PCC below threshold: {'; '.join(failures)} (measured: {measured})")
        return pccs

    # memory -----------------------------------------------------------------------------------------------------
    def dealloc_output(self) -> None:
        """Free the device output of the last ``run()``."""
        if self.output_tensor is not None:
            deallocate_if_allocated(self.ttnn, self.output_tensor)
            self.output_tensor = None

    def release(self) -> None:
        """Free the input, the output and every device tensor the TT model holds (its prepared weights).

        A model with a ``release()`` method frees itself first; then the model's object graph is searched for
        ttnn tensors that are still allocated, because not every backend frees a dropped tensor (the emulator only
        frees on ``deallocate``) and a model need not list its weights.
        """
        self.dealloc_output()
        if self.input_tensor is not None:
            deallocate_if_allocated(self.ttnn, self.input_tensor)
            self.input_tensor = None
        if self.tt_model is None:
            return
        release_model = getattr(self.tt_model, "release", None)
        if callable(release_model):
            release_model()
        for tensor in tensors_held_by(self.ttnn, self.tt_model, skip=(self.device,)):
            deallocate_if_allocated(self.ttnn, tensor)
        self.tt_model = None


def tensors_held_by(ttnn: Any, root: Any, skip: tuple[Any, ...] = ()) -> list[Any]:
    """Every ``ttnn.Tensor`` reachable from ``root`` through attributes, lists, tuples, sets and dict values.

    Devices in ``skip``, torch modules and tensors, types, functions and modules are not entered.
    """
    found: list[Any] = []
    seen = {id(item) for item in skip}
    stack = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ttnn.Tensor):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, torch.nn.Module | torch.Tensor | type | ModuleType | FunctionType | MethodType):
            continue
        elif hasattr(item, "__dict__"):
            stack.extend(vars(item).values())
    return found


def deallocate_if_allocated(ttnn: Any, tensor: Any) -> None:
    """``ttnn.deallocate`` a device tensor unless it is already freed (a model may free its own input)."""
    is_allocated = getattr(tensor, "is_allocated", None)
    if is_allocated is None or is_allocated():
        ttnn.deallocate(tensor)


__all__ = [
    "PccCheckError",
    "YOLOv11PosePerformanceRunnerInfra",
    "deallocate_if_allocated",
    "device_count",
    "tensors_held_by",
]
