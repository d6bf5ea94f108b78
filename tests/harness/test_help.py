"""`pytest --help` lists every ttpose option, in the ttpose group, with its explanation; ini keys too."""

from __future__ import annotations

import pytest

from pytest_ttpose.harness.options import OPTIONS


def test_help_lists_every_option_and_ini_key(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest("--help")
    assert result.ret == 0
    text = result.stdout.str()
    assert "pytest-ttpose: YOLO11-pose on Tenstorrent devices" in text
    for spec in OPTIONS:
        assert spec.flag in text, spec.flag
        assert spec.dest.startswith("ttpose_")
        if spec.ini:
            assert f"  {spec.dest} " in text or f"  {spec.dest}\n" in text, spec.dest


def test_every_option_has_a_help_text_and_ttpose_prefix() -> None:
    for spec in OPTIONS:
        assert spec.flag.startswith("--ttpose-")
        assert len(spec.help) > 20, spec.flag
