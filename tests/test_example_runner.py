"""The second implementation under examples/, and the README's "Validate your own model" section, followed verbatim.

* the example is independent: it imports ``ttnn`` and torch, never ``pytest_ttpose``;
* the README's emulator command runs as written and passes; its dry-run commands are the ones ``.ci/run`` runs;
* the same runner fed a mirrored image fails its PCC case.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "yolo11_pose_tt"
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
RUNNER = "examples.yolo11_pose_tt:YOLOv11PoseRunner"


def _environment(**extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment.update(extra)
    return environment


def readme_commands() -> list[str]:
    section = README.split("## Validate your own model", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "the README's 'Validate your own model' section has no bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_example_shares_no_code_with_the_package() -> None:
    sources = sorted(EXAMPLE.glob("*.py"))
    assert sources
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(name.startswith("pytest_ttpose") for name in names), f"{path.name} imports {names}"


def test_the_readme_commands_are_what_ci_runs() -> None:
    commands = readme_commands()
    assert all(command.startswith("pytest suites ") and RUNNER in command for command in commands), commands
    for command in commands:
        assert f"./dev suites {command.removeprefix('pytest suites ')}" in CI_RUN, f".ci/run does not run: {command}"


def _run(command: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=_environment(**extra), capture_output=True, text=True, timeout=1800, check=False
    )


def test_the_readme_emulator_command_passes_as_written() -> None:
    (command,) = [line for line in readme_commands() if "--ttpose-backend=emulator" in line]
    arguments = shlex.split(command)
    assert arguments[0] == "pytest"
    # The console script itself, as a reader would type it (not `python -m`, which would put the cwd on sys.path).
    pytest_script = str(Path(sys.executable).parent / "pytest")
    completed = _run([pytest_script, *arguments[1:], "-p", "no:cacheprovider"], YOLO_OFFLINE="1")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    assert "ttpose: model examples.yolo11_pose_tt.runner:YOLOv11PoseRunner (your runner)" in output
    assert re.search(r"\b7 passed, 6 skipped\b", output), output[-2000:]


MIRRORED = """
from examples.yolo11_pose_tt import YOLOv11PoseRunner


class MirroredRunner(YOLOv11PoseRunner):
    def run(self, torch_input_tensor):
        return super().run(torch_input_tensor.flip(-1))
"""


def test_the_example_fed_a_mirrored_image_fails_pcc(tmp_path: Path) -> None:
    (tmp_path / "mirrored_runner.py").write_text(MIRRORED, encoding="utf-8")
    completed = _run(
        [sys.executable, "-m", "pytest", "suites/test_pcc_pose.py", "-k", "not dp", "-p", "no:cacheprovider"]
        + ["--ttpose-backend=emulator", "--ttpose-runner=mirrored_runner:MirroredRunner"]
        + ["--ttpose-resolutions=320", "--ttpose-batch-sizes=1", "--ttpose-dtypes=bfloat16/bfloat16"]
        + [f"--ttpose-baseline-dir={tmp_path}"],
        YOLO_OFFLINE="1",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),  # the mirrored runner, this checkout
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == pytest.ExitCode.TESTS_FAILED, output[-4000:]
    assert "FAIL below threshold" in output, output[-4000:]
