"""The TT YOLO11-pose model and its traced runner, dry-run on the real ttnn host stack (mocked clusters).

Each arch runs in one subprocess (``scenarios/model_matrix.py``) that loops over its matrix points, so the points
share ttnn's start-up and the kernel cache. Per point: the TT model is built with the real yolo11n-pose weights, one
forward runs under ``measure_fit`` on the runner's L1-sharded input, then the traced runner does its compile run,
cached run, trace capture (through the validated stand-in) and two replays, and is released. A point passes when
real ttnn accepted every op and every allocation, the L1 fit report says it fits, the runner gave the model's
output shape, and the release left the device's L1 and DRAM as they were before the point.

The second half proves the dry run can fail for the model: a deliberately oversized L1 shard and a conv2d with a
wrong ``in_channels`` injected into a model run each fail the point with ttnn's own message.
"""

from __future__ import annotations

from typing import Any

import pytest
from scenario_runner import run_scenario

pytestmark = pytest.mark.requires_ttnn

DEFAULT_MATRIX: tuple[str, ...] = tuple(
    f"{dtype}/{dtype}:{size}x{size}:b{batch}"
    for dtype in ("bfloat8_b", "bfloat16")
    for size in (640, 320)
    for batch in (2, 1)
)
# One subprocess per arch runs every point of the default matrix; the cost per arch is in the report of issue 8.
DRY_RUN_ARCHS: tuple[str, ...] = ("n150", "p150", "2xp150")
SMALL_POINT = "bfloat16/bfloat16:320x320:b1"
# The whole 640x640 RGB input (2.4 MB) on one core overflows its L1 bank; the small point's (0.6 MB) would fit.
INJECTION_POINTS = {"oversized-l1-shard": "bfloat16/bfloat16:640x640:b1", "wrong-in-channels": SMALL_POINT}
EXPECTED_TRACE_ACTIVITY = {"traces_captured": 1, "trace_executions": 2, "traces_released": 1}


def _anchors(height: int, width: int) -> int:
    return sum((height // stride) * (width // stride) for stride in (8, 16, 32))


def _point_shape(label: str) -> tuple[int, int, int]:
    _, size, batch = label.split(":")
    height, width = (int(v) for v in size.split("x"))
    return int(batch[1:]), height, width


def assert_point_accepted(arch: str, point: dict[str, Any]) -> None:
    """Raise ``AssertionError`` with ttnn's own message unless the point ran through and fits in L1."""
    label = point["point"]
    error = point.get("error")
    if error is not None:
        at = " ".join(str(error[key]) for key in ("layer", "conv", "call") if key in error)
        raise AssertionError(f"{arch} {label}: rejected at the {point['stage']} stage ({at}): {error['message']}")
    fit = point["fit"]
    assert fit["fits"], f"{arch} {label}: the forward does not fit in L1: {point['fit_text']}"
    batch, height, width = _point_shape(label)
    expected = [batch, 1, _anchors(height, width), 56]
    assert point["output_shape"] == expected, f"{arch} {label}: model output {point['output_shape']} != {expected}"
    if "runner_output_shape" in point:
        assert point["runner_output_shape"] == expected, f"{arch} {label}: runner output {point['runner_output_shape']}"
        activity = {key: point["trace_activity"][key] for key in EXPECTED_TRACE_ACTIVITY}
        assert activity == EXPECTED_TRACE_ACTIVITY, f"{arch} {label}: trace calls {activity}"
        # Released runner: nothing of it is left in L1 or DRAM (the program cache keeps its programs' config tensors
        # in DRAM until it is cleared, which the scenario does before this reading).
        left = point["memory_after_program_cache_cleared"]
        assert left == point["memory_before"], f"{arch} {label}: still allocated after release: {left}"


def fit_table(arch: str, points: list[dict[str, Any]]) -> str:
    """One row per point: peak CB, peak L1 tensors, resident, bank size and use, or ttnn's rejection."""
    rows = [f"{'arch':7} {'point':32} {'peak CB':>10} {'peak L1 t':>10} {'resident':>9} {'bank':>10} {'use':>6}  s"]
    for point in points:
        seconds = point["seconds"].get("total", 0.0)
        if "fit" in point:
            fit = point["fit"]
            rows.append(
                f"{arch:7} {point['point']:32} {fit['peak_cb']:>10,} {fit['peak_l1']:>10,} {fit['resident_l1']:>9,} "
                f"{fit['bank_size']:>10,} {fit['utilisation']:>6.1%}  {seconds:.0f}"
            )
        else:
            message = point.get("error", {}).get("message", "no fit report")
            rows.append(f"{arch:7} {point['point']:32} REJECTED at {point['stage']}: {message[:160]}")
    return "\n".join(rows)


@pytest.mark.parametrize("arch", DRY_RUN_ARCHS)
def test_the_tt_model_and_runner_are_accepted_and_fit_on_every_matrix_point(arch: str) -> None:
    run = run_scenario("model_matrix", arch, *DEFAULT_MATRIX, timeout=3600)
    points = run.result["points"]
    print(f"\n{fit_table(arch, points)}\n[{arch}] {run.seconds:.0f} s, weights: {run.result['weights']}")
    assert [point["point"] for point in points] == list(DEFAULT_MATRIX)
    failures = []
    for point in points:
        try:
            assert_point_accepted(arch, point)
        except AssertionError as failure:
            failures.append(str(failure))
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def injected_failures() -> dict[str, dict[str, Any]]:
    """A point run with each injected mistake (the model forward only), on n150."""
    return {
        injection: run_scenario("model_matrix", "n150", point, "--no-runner", "--inject", injection).result["points"][0]
        for injection, point in INJECTION_POINTS.items()
    }


def test_an_oversized_l1_shard_fails_the_model_dry_run_with_ttnns_message(
    injected_failures: dict[str, dict[str, Any]],
) -> None:
    point = injected_failures["oversized-l1-shard"]
    with pytest.raises(
        AssertionError, match=r"Out of Memory: Not enough space to allocate \d+ B L1 buffer across 1 banks"
    ):
        assert_point_accepted("n150", point)
    assert point["stage"] == "forward"


def test_a_conv2d_with_a_wrong_in_channels_fails_the_model_dry_run_with_ttnns_message(
    injected_failures: dict[str, dict[str, Any]],
) -> None:
    point = injected_failures["wrong-in-channels"]
    with pytest.raises(AssertionError, match="Attempting to reshape between two shapes with different volumes"):
        assert_point_accepted("n150", point)
    error = point["error"]
    assert error["layer"] == "model.1", error  # the layer whose conv2d was given the wrong in_channels
