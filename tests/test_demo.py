"""The pose demo CLI (``python -m pytest_ttpose.demo``) and the reference-vs-device comparison it is built on."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pytest_ttpose.demo.cli import main
from pytest_ttpose.pose.assets import load_image
from pytest_ttpose.pose.compare import compare_pose_outputs
from pytest_ttpose.pose.processing import preprocess

PANEL_GAP = 8  # white columns render_comparison puts between the two panels
SUMMARY = re.compile(r"persons: reference (\d+), device (\d+), matched (\d+); mean OKS ([0-9.]+)")
PERSON_LINE = re.compile(r"^person ", re.MULTILINE)


@pytest.fixture(autouse=True)
def private_weight_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Prepared TT weights go to a cache of the test session, never to the user's."""
    cache = tmp_path_factory.getbasetemp() / "ttpose-cache"
    monkeypatch.setenv("TTPOSE_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="module")
def bus() -> np.ndarray:
    return load_image("bus.jpg")


@pytest.fixture(scope="module")
def reference_n() -> torch.nn.Module:
    from pytest_ttpose.reference import build_reference

    return build_reference("n")


def _summary(text: str) -> tuple[int, int, int, float]:
    found = SUMMARY.search(text)
    assert found is not None, f"no summary line in the demo output:\n{text}"
    reference, device, matched, mean_oks = found.groups()
    return int(reference), int(device), int(matched), float(mean_oks)


# ------------------------------------------------------------------------------------------------------ the command
def test_module_command_at_320_writes_two_panels(tmp_path: Path, bus: np.ndarray) -> None:
    out = tmp_path / "pictures" / "bus.png"
    command = [sys.executable, "-m", "pytest_ttpose.demo", "--image", "bus", "--out", str(out)]
    command += ["--resolution", "320", "--backend", "emulator"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    import cv2

    picture = cv2.imread(str(out))
    assert picture is not None, f"{out} is not a readable PNG"
    height, width = bus.shape[:2]
    assert picture.shape == (height, 2 * width + PANEL_GAP, 3)
    reference, device, matched, mean_oks = _summary(result.stdout)
    assert reference > 0 and device > 0
    assert len(PERSON_LINE.findall(result.stdout)) == reference + device - matched
    assert 0.0 <= mean_oks <= 1.0
    assert f"picture: {out}" in result.stdout


def test_bus_at_640_finds_the_four_persons_on_both_sides(tmp_path: Path) -> None:
    """The acceptance case of issue 7: bus.jpg, real n weights, bfloat8_b, 640x640 on the emulator."""
    out = tmp_path / "bus640.png"
    text = io.StringIO()
    code = main(["--image", "bus", "--out", str(out), "--resolution", "640", "--backend", "emulator"], stdout=text)
    assert code == 0 and out.is_file()
    reference, device, matched, mean_oks = _summary(text.getvalue())
    assert (reference, device, matched) == (4, 4, 4), text.getvalue()
    assert mean_oks >= 0.95, text.getvalue()


# ----------------------------------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--image", "no/such/image.jpg"], ["--image", "no image file", "bus", "zidane"]),
        (["--act-dtype", "float16"], ["--act-dtype", "invalid choice", "bfloat16", "bfloat8_b"]),
        (["--weight-dtype", "bfloat4_b"], ["--weight-dtype", "invalid choice", "bfloat16", "bfloat8_b"]),
        (["--resolution", "600"], ["--resolution", "multiple of 32", "640x480"]),
        (["--resolution", "640x"], ["--resolution", "malformed"]),
        (["--resolution", "640,320"], ["--resolution", "one resolution"]),
        (["--out", "picture.jpg"], ["--out", ".png"]),
        (["--conf", "1.5"], ["--conf", "out of range", "(0, 1)"]),
        (["--backend", "gpu"], ["--backend", "invalid choice", "emulator", "ttnn"]),
        (["--scale", "q"], ["--scale", "invalid choice", "'n'"]),
        (["--device-id", "-1"], ["--device-id", "non-negative integer"]),
    ],
)
def test_bad_arguments_name_the_option_and_the_accepted_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], expected: list[str]
) -> None:
    defaults = {"--image": "bus", "--out": str(tmp_path / "out.png")}
    for option, value in defaults.items():
        if option not in arguments:
            arguments = [*arguments, option, value]
    with pytest.raises(SystemExit) as raised:
        main(arguments)
    assert raised.value.code == 2
    error = capsys.readouterr().err
    for fragment in expected:
        assert fragment in error, f"{fragment!r} missing from: {error}"
    assert not (tmp_path / "out.png").exists()


def test_missing_weights_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.pt"
    with pytest.raises(SystemExit) as raised:
        main(["--image", "bus", "--out", str(tmp_path / "out.png"), "--weights", str(missing)])
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert "--weights" in error and str(missing) in error


def test_device_id_beyond_the_backend_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--image", "bus", "--out", str(tmp_path / "out.png"), "--backend", "emulator", "--device-id", "64"])
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert "--device-id" in error and "does not exist" in error


def test_undecodable_image_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("not a picture")
    with pytest.raises(SystemExit) as raised:
        main(["--image", str(not_an_image), "--out", str(tmp_path / "out.png")])
    assert raised.value.code == 2
    assert "could not be decoded" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------------ pose_compare
def test_same_model_on_both_sides_gives_oks_one(bus: np.ndarray, reference_n: torch.nn.Module, tmp_path: Path) -> None:
    torch_input, (letterbox,) = preprocess(bus, 320)
    with torch.inference_mode():
        output = reference_n(torch_input)
    comparison = compare_pose_outputs(bus, output, output.clone(), letterbox, picture_path=tmp_path / "same.png")
    assert comparison.reference_count > 0
    assert comparison.same_persons()
    assert all(person.oks == pytest.approx(1.0) for person in comparison.persons)
    assert comparison.mean_oks == pytest.approx(1.0)
    assert comparison.passes(0.95)
    assert comparison.picture is not None and comparison.picture.is_file()


def test_moved_keypoints_lower_the_oks(bus: np.ndarray, reference_n: torch.nn.Module) -> None:
    torch_input, (letterbox,) = preprocess(bus, 320)
    with torch.inference_mode():
        output = reference_n(torch_input)
    moved = output.clone()
    moved[:, 5::3] += 12.0  # every keypoint x shifted by 12 input pixels; boxes and scores unchanged
    comparison = compare_pose_outputs(bus, output, moved, letterbox)
    assert comparison.same_persons()
    assert comparison.mean_oks < 0.95
    assert not comparison.passes(0.95)
    assert len(comparison.summary_lines()) == len(comparison.persons) + len(comparison.borderline) + 1


def test_a_person_only_one_side_found_is_listed_unmatched(bus: np.ndarray, reference_n: torch.nn.Module) -> None:
    torch_input, (letterbox,) = preprocess(bus, 320)
    with torch.inference_mode():
        output = reference_n(torch_input)
    device = output.clone()
    best_anchor = int(device[0, 4].argmax())
    device[0, 4, device[0, 4] > 0.2] = 0.0
    device[0, 4, best_anchor] = 0.9  # the device keeps one person only
    comparison = compare_pose_outputs(bus, output, device, letterbox)
    assert comparison.device_count == 1 < comparison.reference_count
    assert not comparison.same_persons()
    unmatched = [person for person in comparison.persons if not person.matched]
    assert len(unmatched) == comparison.reference_count - 1
    assert all("no device match" in person.summary() for person in unmatched)


def test_outputs_of_different_inputs_are_refused(bus: np.ndarray) -> None:
    _, (letterbox,) = preprocess(bus, 320)
    with pytest.raises(ValueError, match="differ in shape"):
        compare_pose_outputs(bus, torch.zeros(1, 56, 2100), torch.zeros(1, 56, 8400), letterbox)
