"""Option value parsing (pure): accepted forms, and errors naming option, value and accepted values."""

from __future__ import annotations

import pytest

from pytest_ttpose.harness import settings as s


def test_mesh_shape() -> None:
    assert s.parse_mesh_shape("--m", "4") == s.MeshShape(1, 4)
    assert str(s.parse_mesh_shape("--m", " 2X4 ")) == "2x4"
    with pytest.raises(s.OptionError, match=r"^--m=2x: malformed mesh shape\. Accepted: ROWSxCOLS"):
        s.parse_mesh_shape("--m", "2x")


def test_dtype_pairs() -> None:
    assert s.parse_dtype_pairs("--d", "bfloat16, ttnn.bfloat8_b/bfloat16,bfloat16") == (
        s.DtypePair("bfloat16", "bfloat16"),
        s.DtypePair("bfloat8_b", "bfloat16"),
    )
    with pytest.raises(s.OptionError, match="no dtype pair given"):
        s.parse_dtype_pairs("--d", " , ")


def test_resolutions_batches_scale_tolerance() -> None:
    assert s.parse_resolutions("--r", "640x320,64") == ((640, 320), (64, 64))
    assert s.parse_batch_sizes("--b", "2,1,2") == (2, 1)
    assert s.parse_model_scale("--m", "yolo11s-pose") == "s"
    assert s.parse_tolerance("--t", "0") == 0.0
    with pytest.raises(s.OptionError, match="out of range"):
        s.parse_tolerance("--t", "1")


def test_matrix_ids_and_order() -> None:
    points = s.build_matrix("n", [s.DtypePair("bfloat8_b", "bfloat8_b")], [(640, 640), (320, 320)], [1, 2])
    assert [point.id for point in points] == [
        "n-640x640-b1-bfloat8_b-bfloat8_b",
        "n-640x640-b2-bfloat8_b-bfloat8_b",
        "n-320x320-b1-bfloat8_b-bfloat8_b",
        "n-320x320-b2-bfloat8_b-bfloat8_b",
    ]
    assert not any("dp" in point.id for point in points)


def test_the_old_settings_module_still_imports_and_warns() -> None:
    import importlib
    import sys

    sys.modules.pop("pytest_ttpose.settings", None)
    with pytest.warns(DeprecationWarning, match="pytest_ttpose.harness.settings"):
        old = importlib.import_module("pytest_ttpose.settings")
    assert old.parse_mesh_shape is s.parse_mesh_shape
    assert old.MatrixPoint is s.MatrixPoint
