"""The pose demo: one image through the torch reference and the TT model, persons drawn side by side with their OKS.

Prints one line per person (scores on both sides, OKS) and the mean OKS, and writes the picture of
:func:`pytest_ttpose.pose.picture.render_comparison` (left: reference, right: device). Runs on a TT device when one is
present, else on the package's CPU emulator.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from pytest_ttpose.harness.settings import MODEL_SCALES, OptionError, parse_resolutions
from pytest_ttpose.pose.assets import ASSET_NAMES, AssetError, asset_path

# The dtypes the TT model accepts for activations and weights.
MODEL_DTYPES = ("bfloat16", "bfloat8_b")
# --backend values: ttnn-mock is left out because its dry run computes zeros, which would draw no person.
BACKEND_CHOICES = ("auto", "emulator", "ttnn")
# Short names of the sample images shipped with Ultralytics: "bus" -> "bus.jpg".
SAMPLE_IMAGES = {Path(name).stem: name for name in ASSET_NAMES}
RESOLUTION_ACCEPTED = "SIZE or HEIGHTxWIDTH, positive multiples of 32, such as 640 or 640x480"


def _image_argument(text: str) -> Path:
    name = SAMPLE_IMAGES.get(text, text)
    if name in ASSET_NAMES:
        try:
            return asset_path(name)
        except AssetError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(
            f"no image file {text!r}; give the path of an image, or one of {', '.join(SAMPLE_IMAGES)} for "
            "Ultralytics' sample images"
        )
    return path


def _png_argument(text: str) -> Path:
    path = Path(text).expanduser()
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(f"{text!r}: the picture is written as PNG; give a path ending in .png")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; give a file path ending in .png")
    return path


def _resolution_argument(text: str) -> tuple[int, int]:
    try:
        resolutions = parse_resolutions("--resolution", text)
    except OptionError as error:
        raise argparse.ArgumentTypeError(f"{error.problem}; accepted: {RESOLUTION_ACCEPTED}") from None
    if len(resolutions) != 1:
        raise argparse.ArgumentTypeError(f"one resolution is needed, got {text!r}; accepted: {RESOLUTION_ACCEPTED}")
    return resolutions[0]


def _fraction_argument(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number; give a confidence in (0, 1) such as 0.25"
        ) from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; give a confidence in (0, 1) such as 0.25")
    return value


def _device_id_argument(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a device id; give a non-negative integer such as 0")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_ttpose.demo",
        description=(
            "Run one image through the torch YOLO11-pose reference and the TT model, print the per-person OKS and "
            "write both sides' persons and skeletons side by side (left: reference, right: device)."
        ),
    )
    parser.add_argument(
        "--image",
        required=True,
        type=_image_argument,
        help=f"an image file, or {' / '.join(SAMPLE_IMAGES)} for Ultralytics' sample images",
    )
    parser.add_argument("--out", required=True, type=_png_argument, help="where to write the picture (.png)")
    parser.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default="auto",
        help="auto (default): ttnn when a Tenstorrent device is present, else the CPU emulator",
    )
    parser.add_argument("--device-id", type=_device_id_argument, default=0, help="device to open (default 0)")
    parser.add_argument("--scale", choices=MODEL_SCALES, default="n", help="model scale (default n)")
    parser.add_argument(
        "--weights",
        default=None,
        help="a state-dict file, an Ultralytics .pt (with --trust-weights) or 'seeded'; default: the released "
        "yolo11n-pose weights for n, seeded weights otherwise",
    )
    parser.add_argument(
        "--trust-weights",
        action="store_true",
        help="allow unpickling a full Ultralytics checkpoint (only for files you trust)",
    )
    parser.add_argument("--act-dtype", choices=MODEL_DTYPES, default="bfloat8_b", help="activation dtype")
    parser.add_argument("--weight-dtype", choices=MODEL_DTYPES, default="bfloat8_b", help="weight dtype")
    parser.add_argument(
        "--resolution",
        type=_resolution_argument,
        default=(640, 640),
        help="model input, SIZE or HEIGHTxWIDTH, multiples of 32 (default 640)",
    )
    parser.add_argument(
        "--conf", type=_fraction_argument, default=0.25, help="person score threshold of the NMS (default 0.25)"
    )
    return parser


def _open_backend(parser: argparse.ArgumentParser, requested: str, device_id: int) -> tuple[Any, Any]:
    """The backend object and its opened device; argparse-style errors when it is not there."""
    from pytest_ttpose.harness.backends import (
        BackendRequest,
        BackendUnavailable,
        builtin_backends,
        resolve_backend_name,
    )

    name = resolve_backend_name(requested)
    try:
        backend = builtin_backends()[name](BackendRequest(arch=None, mesh_shape=None))
    except BackendUnavailable as error:
        parser.error(f"argument --backend: {error}")
    if device_id >= backend.device_count:
        parser.error(
            f"argument --device-id: device {device_id} does not exist; the {name} backend has "
            f"{backend.device_count} device(s), ids 0..{backend.device_count - 1}"
        )
    return backend, backend.open_device(device_id, backend.device_params("device"))


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = sys.stdout if stdout is None else stdout

    from pytest_ttpose.pose.assets import load_image
    from pytest_ttpose.pose.compare import compare_pose
    from pytest_ttpose.reference import WeightsError, build_reference
    from pytest_ttpose.seam import api_for
    from pytest_ttpose.tt import build_pose_model
    from pytest_ttpose.tt.run import TtModelForward

    try:
        image = load_image(args.image)
    except AssetError as error:
        parser.error(f"argument --image: {error}")
    try:
        reference = build_reference(args.scale, weights=args.weights, trust_weights=args.trust_weights)
    except (WeightsError, FileNotFoundError) as error:
        parser.error(f"argument --weights: {error}")

    height, width = args.resolution
    backend, device = _open_backend(parser, args.backend, args.device_id)
    try:
        ttnn = api_for(device)
        tt_model = build_pose_model(
            device,
            reference,
            batch_size=1,
            resolution=(height, width),
            act_dtype=getattr(ttnn, args.act_dtype),
            weight_dtype=getattr(ttnn, args.weight_dtype),
        )
        comparison = compare_pose(image, reference, TtModelForward(tt_model), conf=args.conf, picture_path=args.out)
    finally:
        backend.close_device(device)

    print(
        f"{args.image.name} ({image.shape[0]}x{image.shape[1]}) at {height}x{width}: yolo11{args.scale}-pose "
        f"({reference.weights_source}) vs {backend.name} {backend.arch} device {args.device_id}, "
        f"{args.act_dtype}/{args.weight_dtype}, conf {args.conf}",
        file=out,
    )
    for line in comparison.summary_lines():
        print(line, file=out)
    print(f"picture: {comparison.picture}", file=out)
    return 0


__all__ = ["build_parser", "main"]
