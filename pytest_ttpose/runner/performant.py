"""``YOLOv11PosePerformantRunner``: the pose model captured in a trace and fed through two command queues.

Construction follows tt-metal's sequence for its YOLOv11 runners:
1. compile run (kernels built, program cache filled), validated, output freed;
2. cached run (program cache hits), validated;
3. capture: the previous output is freed, the L1 input's address is noted, the model runs inside
   ``begin_trace_capture``/``end_trace_capture``, and the input is re-allocated from its spec inside the capture;
   it must land at the noted address, because the trace reads its input from there on every replay.
Every staging step is the same handshake: queue 0 records an event, queue 1 waits for it and writes the host
input into the DRAM staging buffer, records an event, queue 0 waits for it and moves the staging buffer into the
L1-sharded model input. Each ``run()`` then replays the trace after that handshake, writing the staged input into
the trace's own input buffer (``reshard`` with an output tensor), and synchronizes the device before the output is
returned to be read. The staging buffer is DRAM height-sharded over the DRAM grid, as in tt-metal's runner
(``pytest_ttpose.runner.staging``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from pytest_ttpose.runner.config import RunnerConfig
from pytest_ttpose.runner.device_check import check_device_params
from pytest_ttpose.runner.infra import (
    YOLOv11PosePerformanceRunnerInfra,
    deallocate_if_allocated,
    device_count,
)
from pytest_ttpose.runner.lifecycle import PoseRunnerBase
from pytest_ttpose.tt.device_params import device_params


class TraceCaptureError(RuntimeError):
    """Trace capture went wrong (e.g. the re-allocated input did not land where the trace reads it)."""


def required_device_params(device: Any) -> Mapping[str, int]:
    """The ``open_device`` parameters the traced runner needs on ``device``: its arch's row of the device-params
    table, the mesh row on a multi-chip mesh."""
    return device_params(device.arch(), "mesh" if device_count(device) > 1 else "device")


class YOLOv11PosePerformantRunner(PoseRunnerBase):
    """Trace + 2 command queues + DRAM staging for YOLO11-pose on a device or a mesh.

    ``run(x)`` returns the device output tensor; it is the trace's output buffer, overwritten by the next
    ``run()``, so read it (``output_to_torch``) before running again. Release with ``release()`` or a ``with``
    block before closing the device.

    Options beyond tt-metal's positional arguments: the fields of :class:`RunnerConfig`, as ``config=`` or as
    keywords.
    The device must be opened with ``pytest_ttpose.tt.device_params(arch, "device")`` (``"mesh"`` on a mesh).
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
        check_device_params(device, required_device_params(device), who="YOLOv11PosePerformantRunner")
        config = RunnerConfig.resolve(config, options, "YOLOv11PosePerformantRunner")
        infra = YOLOv11PosePerformanceRunnerInfra(
            device, device_batch_size, act_dtype, weight_dtype, resolution, config=config
        )
        super().__init__(infra)
        self._trace_id: Any = None
        self._trace_open = False
        self._staging: Any = None
        self._op_event: Any = None
        try:
            self._host_input, staging_config, self._l1_config = infra.setup_dram_input()
            self._staging = self._host_input.to(device, staging_config)
            self._capture_trace()
        except BaseException:
            self.release()
            raise

    # capture ----------------------------------------------------------------------------------------------------
    def _stage_input(self) -> None:
        """Host -> DRAM staging on queue 1, then DRAM -> a fresh L1 input on queue 0, ordered by events."""
        ttnn, device, infra = self.ttnn, self.device, self.infra
        op_event = ttnn.record_event(device, 0)
        ttnn.wait_for_event(1, op_event)
        ttnn.copy_host_to_device_tensor(self._host_input, self._staging, 1)
        write_event = ttnn.record_event(device, 1)
        ttnn.wait_for_event(0, write_event)
        if infra.input_tensor is not None:
            deallocate_if_allocated(ttnn, infra.input_tensor)
        infra.input_tensor = ttnn.to_memory_config(self._staging, self._l1_config)

    def _validate_capture_run(self) -> None:
        if self.infra.config.validate_on_capture:
            self.infra.validate(self.pcc_thresholds)

    def _capture_trace(self) -> None:
        ttnn, device, infra = self.ttnn, self.device, self.infra

        # 1. compile run
        self._stage_input()
        input_spec = infra.input_tensor.spec
        self._op_event = ttnn.record_event(device, 0)
        infra.run()
        self._validate_capture_run()
        infra.dealloc_output()

        # 2. cached run
        self._stage_input()
        self._op_event = ttnn.record_event(device, 0)
        infra.run()
        self._validate_capture_run()

        # 3. capture
        self._stage_input()
        self._op_event = ttnn.record_event(device, 0)
        infra.dealloc_output()
        trace_input_address = infra.input_tensor.buffer_address()
        self._trace_id = ttnn.begin_trace_capture(device, cq_id=0)
        self._trace_open = True
        infra.run()
        # The trace reads its input at trace_input_address; free it (unless the model already did) and allocate
        # the persistent input buffer from the same spec, which the allocator must place at that address.
        deallocate_if_allocated(ttnn, infra.input_tensor)
        infra.input_tensor = ttnn.allocate_tensor_on_device(input_spec, device)
        ttnn.end_trace_capture(device, self._trace_id, cq_id=0)
        self._trace_open = False
        landed = infra.input_tensor.buffer_address()
        if landed != trace_input_address:
            raise TraceCaptureError(
                f"the re-allocated trace input landed at {landed:#x}, but the trace reads its input at "
                f"{trace_input_address:#x}; something allocated on the device during capture (another thread or "
                "runner?) moved it"
            )

    # steady state -----------------------------------------------------------------------------------------------
    def _execute_trace(self, host_input: Any) -> Any:
        ttnn, device, infra = self.ttnn, self.device, self.infra
        ttnn.wait_for_event(1, self._op_event)
        ttnn.copy_host_to_device_tensor(host_input, self._staging, 1)
        write_event = ttnn.record_event(device, 1)
        ttnn.wait_for_event(0, write_event)
        infra.input_tensor = ttnn.reshard(self._staging, self._l1_config, infra.input_tensor)
        self._op_event = ttnn.record_event(device, 0)
        ttnn.execute_trace(device, self._trace_id, cq_id=0, blocking=False)
        ttnn.synchronize_device(device)
        return infra.output_tensor

    def run(self, torch_input_tensor: torch.Tensor | None = None, check_pcc: bool = False) -> Any:
        """Replay the trace on a ``(B, 3, H, W)`` float batch and return the device output tensor.

        ``None`` runs the infra's seeded input. With ``check_pcc`` the output is compared with the reference
        on the same input and ``PccCheckError`` is raised below ``pcc_thresholds``.
        """
        torch_input = self._checked_input(torch_input_tensor)
        output = self._execute_trace(self.infra.host_input(torch_input))
        if check_pcc:
            self.check_pcc(torch_input, output)
        return output

    # release ----------------------------------------------------------------------------------------------------
    def _end_failed_capture(self) -> None:
        """Close a capture an error interrupted. ttnn closes it itself when the error came from an op inside the
        capture; ending it again then raises "CQ 0 is not being used for tracing tid N", which only confirms it is
        closed. Any other error from ending it is real and propagates."""
        try:
            self.ttnn.end_trace_capture(self.device, self._trace_id, cq_id=0)
        except RuntimeError as error:
            if "is not being used for tracing" not in str(error):
                raise

    def _free_device_state(self) -> None:
        # ttnn's order: end an open capture first (it refuses to synchronize during one), then synchronize, then
        # release. Each step runs even when an earlier one raised; the first error is re-raised at the end.
        ttnn, device = self.ttnn, self.device
        try:
            if self._trace_open:  # capture failed half-way
                self._trace_open = False
                self._end_failed_capture()
            try:
                ttnn.synchronize_device(device)
            finally:
                if self._trace_id is not None:
                    trace_id, self._trace_id = self._trace_id, None
                    ttnn.release_trace(device, trace_id)
        finally:
            if self._staging is not None:
                deallocate_if_allocated(ttnn, self._staging)
                self._staging = None
            self._op_event = None
            self.infra.release()


__all__ = ["TraceCaptureError", "YOLOv11PosePerformantRunner", "required_device_params"]
