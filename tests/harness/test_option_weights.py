"""--ttpose-weights and --ttpose-trust-weights reach the settings; a missing file is a usage error."""

from __future__ import annotations

import pytest

SETTINGS_TEST = """
def test_settings(ttpose_settings):
    print("WEIGHTS", ttpose_settings.weights.name if ttpose_settings.weights else None, ttpose_settings.trust_weights)
"""


def test_weights_and_trust(fake_tester: pytest.Pytester) -> None:
    fake_tester.path.joinpath("custom.pt").write_bytes(b"not read here")
    fake_tester.makepyfile(SETTINGS_TEST)
    result = fake_tester.runpytest("-s", "--ttpose-weights=custom.pt", "--ttpose-trust-weights")
    result.stdout.fnmatch_lines(["*WEIGHTS custom.pt True*"])


def test_default_is_bundled_weights_untrusted(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(SETTINGS_TEST)
    fake_tester.runpytest("-s").stdout.fnmatch_lines(["*WEIGHTS None False*"])


def test_ini_weights_are_relative_to_the_ini_file(fake_tester: pytest.Pytester) -> None:
    fake_tester.path.joinpath("w").mkdir()
    fake_tester.path.joinpath("w", "ini.pt").write_bytes(b"x")
    fake_tester.makeini("[pytest]\nttpose_backend = fake\nttpose_weights = w/ini.pt\n")
    fake_tester.makepyfile(SETTINGS_TEST)
    fake_tester.runpytest("-s").stdout.fnmatch_lines(["*WEIGHTS ini.pt False*"])


def test_missing_weights_file_is_a_usage_error(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest("--ttpose-weights=nowhere.pt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ttpose-weights=*nowhere.pt: no such file*"])
