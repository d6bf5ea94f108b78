"""The ttnn namespace of a mock-cluster dry run: the real ttnn, except for the calls mock mode cannot survive.

In ttnn 0.81's mock mode the host-side command queues are never initialised, so ``execute_trace``, ``wait_for_event``
and any op issued between ``begin_trace_capture`` and ``end_trace_capture`` crash the process (a segfault, not an
exception). ``MockTtnn`` forwards every name to the real ``ttnn`` module and replaces only those calls with a stand-in
that validates what can be validated without a command queue:

* trace ids and their life cycle (capturing -> captured -> released), per device;
* the command queue: ``cq_id < num_command_queues`` of the device, end/execute on the queue the capture began on,
  one capture per queue at a time;
* the device was opened with ``trace_region_size > 0``, checked where ttnn checks it: ``end_trace_capture`` sizes
  the trace buffer after it has closed the capture, so a failed end leaves the capture closed and a second end
  fails with ttnn's "CQ 0 is not being used for tracing tid 0";
* no device reads on a queue that is capturing (ttnn's own rule: "Reads are not supported during trace capture.");
* no ``synchronize_device`` during a capture (ttnn on hardware: "Event Synchronization is not supported during trace
  capture"; mock-mode ttnn skips its command queues and accepts it);
* ``wait_for_event`` gets an event recorded through this namespace on a device that is still open.

Ops issued "inside a capture" simply run eagerly, so real ttnn still validates their arguments and allocations.
What the stand-in cannot prove is listed in ``UNPROVEN_CLAIMS`` (also ``MockTtnn.unproven_claims``) and announced
once per process with a ``MockStandInWarning``.
"""

from __future__ import annotations

import inspect
import warnings
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pytest_ttpose.seam import bind_api, unbind_api

UNPROVEN_CLAIMS: tuple[str, ...] = (
    "trace capture: ops between begin_trace_capture and end_trace_capture ran eagerly; no trace was recorded, so "
    "the trace's size against trace_region_size and capture-only restrictions beyond device reads are unchecked",
    "trace replay: execute_trace ran nothing; replaying into tensors that were freed or reallocated after capture "
    "(corrupted on hardware) is not detected",
    "events: wait_for_event did not order anything; only the event's origin, its device and the cq range are checked",
    "Tensor methods that read from the device (for example tensor.cpu()) are not intercepted during a capture",
    "numerics: device memory is not kept in mock mode, every value read back is zero",
    "circular buffers next to live L1 tensors: mock ttnn checks the clash (and other program-level limits) only when "
    "it compiles a program; a program-cache hit is not re-checked against the L1 tensors alive at that moment",
)

# Recorded events are remembered by identity (an event may be waited for many times); the newest ones are kept so a
# long runner loop does not grow memory forever.
_MAX_TRACKED_EVENTS = 4096
_warned = False


class MockStandInWarning(UserWarning):
    """Trace and event calls went through the dry-run stand-in: some claims are not proven by this run."""


class MockTraceError(RuntimeError):
    """A trace or event call that real ttnn (or a real device) would reject or crash on."""


@dataclass
class _Trace:
    trace_id: int
    cq_id: int
    state: str = "capturing"  # -> "captured" (or "failed": its end raised) -> "released"


@dataclass
class _DeviceRecord:
    device: Any
    l1_small_size: int
    trace_region_size: int
    num_command_queues: int
    traces: dict[int, _Trace] = field(default_factory=dict)
    capturing: dict[int, int] = field(default_factory=dict)  # cq id -> trace id


@dataclass
class _Event:
    event: Any
    device: Any
    cq_id: int


def _announce_stand_in() -> None:
    global _warned
    if _warned:
        return
    _warned = True
    claims = "\n  - ".join(UNPROVEN_CLAIMS)
    warnings.warn(
        MockStandInWarning(
            "ttnn mock dry run: trace and event calls go through a validated stand-in (mock mode cannot run them). "
            f"This run does NOT prove:\n  - {claims}"
        ),
        stacklevel=3,
    )


class MockTtnn:
    """A ttnn-shaped namespace for dry runs on a mocked cluster; see the module docstring.

    Open devices with its ``open_device`` / ``open_mesh_device``: they remember the device parameters the stand-in
    checks and bind this namespace to the device, so code that calls ``api_for(device)`` runs through it.
    """

    def __init__(self, ttnn_module: ModuleType | None = None) -> None:
        self._module = ttnn_module
        self._records: dict[int, _DeviceRecord] = {}
        self._events: OrderedDict[int, _Event] = OrderedDict()
        self._next_trace_id = 0
        self._activity: Counter[str] = Counter()

    # --- forwarding -------------------------------------------------------------------------------------------

    @property
    def real(self) -> ModuleType:
        """The real ttnn module, imported on first use (after ``activate`` has set the mock environment)."""
        if self._module is None:
            import ttnn

            self._module = ttnn
        return self._module

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_module":  # keep copy/pickle probes from importing ttnn
            raise AttributeError(name)
        return getattr(self.real, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self.real)))

    def __repr__(self) -> str:
        return f"<MockTtnn: real ttnn on a mocked cluster, {len(self._records)} open device(s)>"

    @property
    def unproven_claims(self) -> tuple[str, ...]:
        """What a dry run through this namespace does not prove, for reports."""
        return UNPROVEN_CLAIMS

    def trace_activity(self) -> dict[str, int]:
        """How many trace and event calls the stand-in accepted (over the namespace's life, closed devices too)."""
        names = ("traces_captured", "trace_executions", "traces_released", "events_recorded", "event_waits")
        return {name: self._activity[name] for name in names}

    # --- devices ----------------------------------------------------------------------------------------------

    def open_device(self, **kwargs: Any) -> Any:
        ttnn = self.real
        device = ttnn.open_device(**kwargs)
        self._remember(
            device,
            l1_small_size=kwargs.get("l1_small_size", ttnn.device.DEFAULT_L1_SMALL_SIZE),
            trace_region_size=kwargs.get("trace_region_size", ttnn.device.DEFAULT_TRACE_REGION_SIZE),
            num_command_queues=kwargs.get("num_command_queues", 1),
        )
        return device

    def open_mesh_device(self, *args: Any, **kwargs: Any) -> Any:
        real_open = self.real.open_mesh_device
        bound = inspect.signature(real_open).bind(*args, **kwargs)
        bound.apply_defaults()
        device = real_open(*args, **kwargs)
        self._remember(
            device,
            l1_small_size=bound.arguments["l1_small_size"],
            trace_region_size=bound.arguments["trace_region_size"],
            num_command_queues=bound.arguments["num_command_queues"],
        )
        return device

    def close_device(self, device: Any) -> Any:
        self._forget(device)
        return self.real.close_device(device)

    def close_mesh_device(self, mesh_device: Any) -> Any:
        self._forget(mesh_device)
        return self.real.close_mesh_device(mesh_device)

    def _remember(self, device: Any, *, l1_small_size: int, trace_region_size: int, num_command_queues: int) -> None:
        self._records[id(device)] = _DeviceRecord(device, l1_small_size, trace_region_size, num_command_queues)
        bind_api(device, self)

    def _forget(self, device: Any) -> None:
        self._records.pop(id(device), None)
        for key in [key for key, event in self._events.items() if event.device is device]:
            del self._events[key]
        unbind_api(device)

    def _record_for(self, device: Any, call: str) -> _DeviceRecord:
        record = self._records.get(id(device))
        if record is None or record.device is not device:
            raise MockTraceError(
                f"{call}: the device was not opened through this dry-run namespace (or was closed); open it with "
                "MockTtnn.open_device / open_mesh_device so the stand-in knows its trace region and command queues"
            )
        return record

    @staticmethod
    def _queue(record: _DeviceRecord, cq_id: Any, call: str) -> int:
        queue = 0 if cq_id is None else int(cq_id)
        if not 0 <= queue < record.num_command_queues:
            # Same wording as ttnn's own check (mesh_device.cpp: "cq_id N is out of range").
            raise MockTraceError(
                f"{call}: cq_id {queue} is out of range: the device was opened with "
                f"num_command_queues={record.num_command_queues}"
            )
        return queue

    def _trace(self, record: _DeviceRecord, trace_id: Any, call: str) -> _Trace:
        trace = record.traces.get(int(trace_id))
        if trace is None:
            raise MockTraceError(f"{call}: trace id {int(trace_id)} was never captured on this device")
        return trace

    # --- trace stand-in ---------------------------------------------------------------------------------------

    def begin_trace_capture(self, mesh_device: Any, *, cq_id: Any = None) -> Any:
        record = self._record_for(mesh_device, "begin_trace_capture")
        queue = self._queue(record, cq_id, "begin_trace_capture")
        if queue in record.capturing:
            raise MockTraceError(
                f"begin_trace_capture: CQ {queue} is already being used for tracing tid {record.capturing[queue]}"
            )
        _announce_stand_in()
        trace_id = self._next_trace_id
        self._next_trace_id += 1
        record.traces[trace_id] = _Trace(trace_id, queue)
        record.capturing[queue] = trace_id
        return self.real.MeshTraceId(trace_id)

    def end_trace_capture(self, mesh_device: Any, trace_id: Any, *, cq_id: Any = None) -> None:
        record = self._record_for(mesh_device, "end_trace_capture")
        queue = self._queue(record, cq_id, "end_trace_capture")
        trace = self._trace(record, trace_id, "end_trace_capture")
        if record.capturing.get(queue) != trace.trace_id:
            raise MockTraceError(f"end_trace_capture: CQ {queue} is not being used for tracing tid {trace.trace_id}")
        del record.capturing[queue]  # ttnn ends the recording before it sizes the trace buffer
        if record.trace_region_size <= 0:
            trace.state = "failed"
            raise MockTraceError(
                "end_trace_capture: Creating trace buffers for the captured trace, but only 0B is allocated for trace "
                f"region: the device was opened with trace_region_size={record.trace_region_size}; open it with "
                "trace_region_size > 0"
            )
        trace.state = "captured"
        self._activity["traces_captured"] += 1

    def synchronize_device(self, device: Any, *args: Any, **kwargs: Any) -> None:
        for record in self._records.values():
            if record.capturing and (record.device is device or len(self._records) == 1):
                queue, trace_id = next(iter(record.capturing.items()))
                raise MockTraceError(
                    "synchronize_device: Event Synchronization is not supported during trace capture (CQ "
                    f"{queue} is capturing trace {trace_id}); end_trace_capture first"
                )
        self.real.synchronize_device(device, *args, **kwargs)

    def execute_trace(self, mesh_device: Any, trace_id: Any, *, cq_id: Any = None, blocking: bool = True) -> None:
        record = self._record_for(mesh_device, "execute_trace")
        queue = self._queue(record, cq_id, "execute_trace")
        trace = self._trace(record, trace_id, "execute_trace")
        if trace.state != "captured":
            raise MockTraceError(f"execute_trace: trace {trace.trace_id} is {trace.state}, not captured")
        if trace.cq_id != queue:
            raise MockTraceError(
                f"execute_trace: trace {trace.trace_id} was captured on CQ {trace.cq_id}, executed on CQ {queue}"
            )
        if queue in record.capturing:
            raise MockTraceError(
                f"execute_trace: CQ {queue} is capturing trace {record.capturing[queue]}; end that capture first"
            )
        self._activity["trace_executions"] += 1

    def release_trace(self, mesh_device: Any, trace_id: Any) -> None:
        record = self._record_for(mesh_device, "release_trace")
        trace = self._trace(record, trace_id, "release_trace")
        if trace.state == "capturing":
            raise MockTraceError(
                f"release_trace: trace {trace.trace_id} is still capturing on CQ {trace.cq_id}; end_trace_capture first"
            )
        if trace.state != "released":  # releasing twice is accepted, as ttnn does
            trace.state = "released"
            self._activity["traces_released"] += 1

    # --- events -----------------------------------------------------------------------------------------------

    def record_event(self, mesh_device: Any, cq_id: Any = None, *args: Any, **kwargs: Any) -> Any:
        record = self._record_for(mesh_device, "record_event")
        queue = self._queue(record, cq_id, "record_event")
        event = self.real.record_event(mesh_device, queue, *args, **kwargs)
        self._events[id(event)] = _Event(event, mesh_device, queue)
        self._activity["events_recorded"] += 1
        while len(self._events) > _MAX_TRACKED_EVENTS:
            self._events.popitem(last=False)
        return event

    def wait_for_event(self, cq_id: Any, mesh_event: Any) -> None:
        if not isinstance(mesh_event, self.real.MeshEvent):
            raise MockTraceError(f"wait_for_event: expected a ttnn.MeshEvent, got {type(mesh_event).__name__}")
        tracked = self._events.get(id(mesh_event))  # an event may be waited for more than once
        if tracked is None or tracked.event is not mesh_event:
            raise MockTraceError(
                "wait_for_event: the event was not recorded through this dry-run namespace (ttnn.record_event on a "
                f"device from MockTtnn.open_device), or more than {_MAX_TRACKED_EVENTS} events ago"
            )
        record = self._record_for(tracked.device, "wait_for_event")
        self._queue(record, cq_id, "wait_for_event")
        _announce_stand_in()
        self._activity["event_waits"] += 1

    # --- reads during a capture -------------------------------------------------------------------------------

    def _refuse_read_while_capturing(self, tensor: Any, cq_id: Any, call: str) -> None:
        queue = 0 if cq_id is None else int(cq_id)
        if not any(queue in record.capturing for record in self._records.values()):
            return
        if tensor.storage_type() != self.real.StorageType.DEVICE:
            return
        device = tensor.device()
        for record in self._records.values():
            if queue in record.capturing and (record.device is device or len(self._records) == 1):
                # ttnn's own message (fd_mesh_command_queue.cpp) for the same mistake on a real device.
                raise MockTraceError(
                    f"{call}: Reads are not supported during trace capture. (CQ {queue} is capturing trace "
                    f"{record.capturing[queue]})"
                )

    def to_torch(self, tensor: Any, *args: Any, cq_id: Any = None, **kwargs: Any) -> Any:
        self._refuse_read_while_capturing(tensor, cq_id, "to_torch")
        return self.real.to_torch(tensor, *args, cq_id=cq_id, **kwargs)

    def from_device(self, tensor: Any, *args: Any, queue_id: Any = None, **kwargs: Any) -> Any:
        self._refuse_read_while_capturing(tensor, queue_id, "from_device")
        return self.real.from_device(tensor, *args, queue_id=queue_id, **kwargs)

    def copy_device_to_host_tensor(
        self, device_tensor: Any, host_tensor: Any, blocking: bool = True, cq_id: Any = None
    ) -> None:
        self._refuse_read_while_capturing(device_tensor, cq_id, "copy_device_to_host_tensor")
        self.real.copy_device_to_host_tensor(device_tensor, host_tensor, blocking, cq_id)


__all__ = ["MockStandInWarning", "MockTraceError", "MockTtnn", "UNPROVEN_CLAIMS"]
