"""``YOLOv11PoseRunner``: the model captured in a trace, its input written on command queue 1, the trace replayed on
command queue 0.

The model reads its input straight from one persistent DRAM buffer (ROW_MAJOR ``[1, 1, B*H*W, 16]``), so there is no
staging copy: queue 1 writes the next image into that buffer once queue 0 has finished the replay that read it
(``op_event``), and queue 0 replays the trace once the write is done (``write_event``). Construction runs the model
twice (kernels compiled, then program-cache hits) and captures the third run; every call after that is a replay.
"""

from __future__ import annotations

from typing import Any

import torch
import ttnn

from .model import INPUT_CHANNELS, YoloV11PoseTt


class YOLOv11PoseRunner:
    """YOLO11-pose on ``device`` (a single device or a data-parallel mesh: ``device_batch_size`` images per chip).

    ``reference_model`` is any torch module with Ultralytics' YOLO11-pose state dict layout; its weights are
    preprocessed once. ``run(x)`` takes a (B, 3, H, W) float batch in [0, 1] and returns the device output,
    ``[B, 1, A, 56]`` float32 ROW_MAJOR (box cx, cy, w, h, person score, 17 x (x, y, visibility)); it is the trace's
    output buffer, overwritten by the next ``run``. ``release()`` frees the trace and every buffer.
    """

    def __init__(
        self,
        device: Any,
        device_batch_size: int,
        act_dtype: Any,
        weight_dtype: Any,
        resolution: tuple[int, int],
        *,
        reference_model: torch.nn.Module,
    ) -> None:
        self.device = device
        self.resolution = (int(resolution[0]), int(resolution[1]))
        chips = device.get_num_devices()
        self.batch_size = device_batch_size * chips
        self.input_mapper = ttnn.ShardTensorToMesh(device, dim=2) if chips > 1 else None
        state = {key: value.detach() for key, value in reference_model.state_dict().items()}
        self.model = YoloV11PoseTt(
            device,
            state,
            batch=device_batch_size,
            resolution=self.resolution,
            act_dtype=act_dtype,
            weight_dtype=weight_dtype,
        )
        self.trace_id: Any = None
        self.output: Any = None
        blank = torch.zeros(self.batch_size, 3, *self.resolution)
        self.input = ttnn.to_device(self._host_input(blank), device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
        try:
            for _ in range(2):  # compile, then a run on the program cache
                ttnn.deallocate(self.model(self.input))
            self.trace_id = ttnn.begin_trace_capture(device, cq_id=0)
            self.output = self.model(self.input)
            ttnn.end_trace_capture(device, self.trace_id, cq_id=0)
        except BaseException:
            self.release()
            raise
        self.op_event = ttnn.record_event(device, 0)

    def _host_input(self, images: torch.Tensor) -> Any:
        batch, _, height, width = images.shape
        if (height, width) != self.resolution or batch != self.batch_size:
            raise ValueError(f"expected a ({self.batch_size}, 3, {height}, {width}) batch, got {tuple(images.shape)}")
        nhwc = torch.nn.functional.pad(images.permute(0, 2, 3, 1), (0, INPUT_CHANNELS - 3))
        rows = nhwc.reshape(1, 1, batch * height * width, INPUT_CHANNELS)
        return ttnn.from_torch(rows, dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, mesh_mapper=self.input_mapper)

    def run(self, torch_input_tensor: torch.Tensor) -> Any:
        host = self._host_input(torch_input_tensor)
        ttnn.wait_for_event(1, self.op_event)
        ttnn.copy_host_to_device_tensor(host, self.input, 1)
        write_event = ttnn.record_event(self.device, 1)
        ttnn.wait_for_event(0, write_event)
        ttnn.execute_trace(self.device, self.trace_id, cq_id=0, blocking=False)
        self.op_event = ttnn.record_event(self.device, 0)
        return self.output

    def release(self) -> None:
        """Release the trace, then the input, the output and the model's device weights."""
        ttnn.synchronize_device(self.device)
        if self.trace_id is not None:
            ttnn.release_trace(self.device, self.trace_id)
            self.trace_id = None
        for tensor in (self.output, self.input):
            if tensor is not None and tensor.is_allocated():
                ttnn.deallocate(tensor)
        self.output = self.input = None
        self.model.release()


__all__ = ["YOLOv11PoseRunner"]
