"""``YOLOv11PoseBasicRunner``: the same model without trace and with one command queue.

It is the baseline the traced runner's speedup is measured against on the same device: every ``run()`` converts
the input on the host, writes it straight into the L1-sharded model input on queue 0, dispatches every op of the
model and synchronizes.
"""

from __future__ import annotations

from typing import Any

import torch

from pytest_ttpose.runner.config import RunnerConfig
from pytest_ttpose.runner.device_check import check_device_params
from pytest_ttpose.runner.infra import YOLOv11PosePerformanceRunnerInfra, deallocate_if_allocated
from pytest_ttpose.runner.lifecycle import PoseRunnerBase
from pytest_ttpose.tt.device_params import SINGLE_DEVICE_PARAMS


class YOLOv11PoseBasicRunner(PoseRunnerBase):
    """Untraced, single-queue execution of the pose model; same constructor and ``run()`` as the traced runner.

    The device needs only ``l1_small_size`` (for conv2d); a device opened for the traced runner works too.
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
        required = {"l1_small_size": SINGLE_DEVICE_PARAMS["l1_small_size"]}
        check_device_params(device, required, who="YOLOv11PoseBasicRunner")
        config = RunnerConfig.resolve(config, options, "YOLOv11PoseBasicRunner")
        infra = YOLOv11PosePerformanceRunnerInfra(
            device, device_batch_size, act_dtype, weight_dtype, resolution, config=config
        )
        super().__init__(infra)
        _, self._l1_config = infra.setup_l1_sharded_input()

    def run(self, torch_input_tensor: torch.Tensor | None = None, check_pcc: bool = False) -> Any:
        """Run the model op by op on a ``(B, 3, H, W)`` float batch and return the device output tensor.

        The output stays valid until the next ``run()`` (which frees it) or ``release()``.
        """
        torch_input = self._checked_input(torch_input_tensor)
        ttnn, infra = self.ttnn, self.infra
        infra.dealloc_output()
        infra.input_tensor = infra.host_input(torch_input).to(self.device, self._l1_config)
        infra.run()
        deallocate_if_allocated(ttnn, infra.input_tensor)
        infra.input_tensor = None
        ttnn.synchronize_device(self.device)
        if check_pcc:
            self.check_pcc(torch_input, infra.output_tensor)
        return infra.output_tensor

    def _free_device_state(self) -> None:
        self.ttnn.synchronize_device(self.device)
        self.infra.release()


__all__ = ["YOLOv11PoseBasicRunner"]
