"""Collection: which tests are ttpose cases, their matrix parametrization, the _dp naming rule and the order."""

from __future__ import annotations

import pytest

from pytest_ttpose.harness.report import INTERRUPTED
from pytest_ttpose.harness.session import TtposeSession

DP_MARKER = "ttpose_dp"
MESH_FIXTURE = "ttpose_mesh_device"
MARKER_HELP = f"{DP_MARKER}: data-parallel (mesh) case of pytest-ttpose; -m {DP_MARKER} selects exactly these"


def parametrize(session: TtposeSession, metafunc: pytest.Metafunc) -> None:
    """Parametrize a test that requests ``ttpose_point`` / ``ttpose_dtype_pair`` over the matrix."""
    names = metafunc.fixturenames
    marks = [pytest.mark.ttpose_dp] if MESH_FIXTURE in names else []
    if "ttpose_point" in names:
        metafunc.parametrize(
            "ttpose_point", [pytest.param(point, id=point.id, marks=marks) for point in session.settings.matrix]
        )
    if "ttpose_dtype_pair" in names:
        metafunc.parametrize(
            "ttpose_dtype_pair",
            [pytest.param(pair, id=f"{pair.act}-{pair.weight}", marks=marks) for pair in session.settings.dtype_pairs],
        )


# The plugin's fixtures (pytest_ttpose.harness.fixtures); a test using any of them is a ttpose case.
TTPOSE_FIXTURES = frozenset(
    {
        "ttpose_settings",
        "ttpose_backend",
        "ttpose_devices",
        "ttpose_device",
        "ttpose_mesh_device",
        "ttpose_point",
        "ttpose_dtype_pair",
        "ttpose_reference",
        "ttpose_infra",
        "ttpose_dp_infra",
        "ttpose_runner",
        "ttpose_dp_runner",
        "ttpose_check",
        "ttpose_images",
        "ttpose_input",
        "ttpose_infra_at",
        "ttpose_runner_at",
        "ttpose_new_runner",
        "ttpose_basic_runner",
    }
)


def is_ttpose_item(item: pytest.Item) -> bool:
    return not TTPOSE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def dp_skip_reason(session: TtposeSession) -> str | None:
    settings = session.settings
    if settings.xdist_workers:
        return (
            "data-parallel cases need every device and each pytest-xdist worker owns one; "
            f"run them without -n: pytest -m {DP_MARKER}"
        )
    if settings.device_count < 2:
        return (
            f"data-parallel cases need at least 2 devices; the {settings.backend} backend has {settings.device_count}"
        )
    if settings.mesh_shape.size < 2 and not settings.mesh_shape_explicit:
        return (
            f"data-parallel cases need a mesh, and the {settings.device_count} devices of the {settings.backend} "
            "backend are not ethernet-linked (ttnn's system mesh is 1x1), so ttnn cannot open them as one; "
            f"run the single-device cases on every device at once with pytest -n {settings.device_count}"
        )
    if settings.mesh_shape.size < 2:
        return f"--ttpose-mesh-shape={settings.mesh_shape} is a single device; data-parallel cases need 2 or more"
    return None


def order_items(session: TtposeSession, items: list[pytest.Item]) -> None:
    """Mark and check data-parallel cases, skip them when the mesh is impossible, and run them last.

    Running them last means the single device and the mesh (which share chips) are each opened once.
    """
    problems: list[str] = []
    single: list[pytest.Item] = []
    mesh: list[pytest.Item] = []
    reason = dp_skip_reason(session)
    for item in items:
        if not is_ttpose_item(item):
            single.append(item)
            continue
        if MESH_FIXTURE in item.fixturenames:  # type: ignore[attr-defined]
            if not getattr(item, "originalname", item.name).endswith("_dp"):
                problems.append(f"{item.nodeid}: uses the mesh, so its test name must end in _dp")
            item.add_marker(DP_MARKER)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
            mesh.append(item)
        else:
            if "dp" in item.nodeid.lower():
                problems.append(
                    f"{item.nodeid}: only data-parallel (_dp) cases may contain 'dp', so -k dp selects "
                    "exactly them; rename it"
                )
            single.append(item)
    if problems:
        raise pytest.UsageError("ttpose naming rules:\n  " + "\n  ".join(problems))
    items[:] = single + mesh


def mark_started(session: TtposeSession, item: pytest.Item) -> None:
    """A ttpose case whose setup begins is "interrupted" until a report says how it ended: a Ctrl-C inside it (which
    pytest re-raises before any report) leaves it so, never "passed"."""
    if is_ttpose_item(item):
        session.result(item.nodeid).status = INTERRUPTED


def record_phase(session: TtposeSession, item: pytest.Item, report: pytest.TestReport) -> None:
    """Record one phase's outcome of a ttpose case in its result."""
    if not is_ttpose_item(item):
        return
    result = session.result(item.nodeid)
    params = getattr(getattr(item, "callspec", None), "params", {})
    point = params.get("ttpose_point")
    result.point = None if point is None else point.id
    result.dp = MESH_FIXTURE in item.fixturenames  # type: ignore[attr-defined]
    if report.when == "call" or report.skipped:
        result.status = report.outcome
    elif report.failed:
        result.status = "error"
    if report.skipped and isinstance(report.longrepr, tuple):
        result.messages.append(str(report.longrepr[2]))


__all__ = [
    "DP_MARKER",
    "MARKER_HELP",
    "MESH_FIXTURE",
    "TTPOSE_FIXTURES",
    "dp_skip_reason",
    "is_ttpose_item",
    "mark_started",
    "order_items",
    "parametrize",
    "record_phase",
]
