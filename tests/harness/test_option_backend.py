"""--ttpose-backend: auto/ttnn/emulator/ttnn-mock/plug-in names, ini mirror, and no silent fallback to the CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ttpose.harness import backends


@pytest.fixture
def no_tt_devices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "dev-tenstorrent"
    empty.mkdir()
    monkeypatch.setattr(backends, "TT_DEVICE_DIR", empty)
    return empty


def test_auto_without_tt_device_runs_the_emulator(pytester: pytest.Pytester, no_tt_devices: Path) -> None:
    result = pytester.runpytest("--ttpose-backend=auto")
    result.stdout.fnmatch_lines(["ttpose: backend emulator (auto: no Tenstorrent device), arch wormhole_b0*"])


def test_ttnn_without_tt_device_is_a_usage_error(pytester: pytest.Pytester, no_tt_devices: Path) -> None:
    result = pytester.runpytest("--ttpose-backend=ttnn")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ttpose-backend=ttnn: no Tenstorrent device found*--ttpose-backend=emulator*"])


def test_unknown_backend_lists_the_accepted_names(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest("--ttpose-backend=cuda")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--ttpose-backend=cuda: unknown backend. Accepted: auto, ttnn, emulator, ttnn-mock, fake.*"]
    )


def test_cli_wins_over_ini(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest("--ttpose-backend=emulator")
    result.stdout.fnmatch_lines(["ttpose: backend emulator, arch wormhole_b0, device 0 of 2, mesh 1x2*"])


def test_ini_backend_is_used(fake_tester: pytest.Pytester) -> None:
    fake_tester.runpytest().stdout.fnmatch_lines(["ttpose: backend fake, arch fakearch*"])


def test_arch_on_hardware_is_refused(pytester: pytest.Pytester, no_tt_devices: Path) -> None:
    (no_tt_devices / "0").touch()
    result = pytester.runpytest("--ttpose-backend=ttnn", "--ttpose-arch=n150")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --ttpose-arch=n150: applies to the emulator and ttnn-mock backends*"])


def test_emulator_arch_system_sets_devices(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--ttpose-backend=emulator", "--ttpose-arch=p150")
    result.stdout.fnmatch_lines(["ttpose: backend emulator, arch blackhole, device 0 of 1, mesh 1x1*"])


def test_unknown_arch_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--ttpose-backend=emulator", "--ttpose-arch=grayskull")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--ttpose-arch=grayskull: unknown system or arch. Accepted: n150, n300, t3k, galaxy, p150, 2xp150*"]
    )


def test_mock_backend_refuses_a_bare_arch(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--ttpose-backend=ttnn-mock", "--ttpose-arch=blackhole")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --ttpose-arch=blackhole: not a mockable system. Accepted: n150, n300, t3k, galaxy, p150, 2xp150*"]
    )
