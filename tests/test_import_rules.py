"""The import rules of docs/ARCHITECTURE.md, checked on the source: no forbidden edge between layers, no circle.

Every import counts, at module level, inside a function or under ``TYPE_CHECKING``: a function-level import is still a
dependency, and a circle hidden in a function still means no file of it can be read or changed alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_ttpose"

# (importing layer, imported layer or third-party package): the edges docs/ARCHITECTURE.md forbids, with the reason.
FORBIDDEN: list[tuple[str, str, str]] = [
    ("emulator", "pytest_ttpose.", "the emulator stands alone: it is a ttnn, and knows nothing of its users"),
    ("devperf", "pytest_ttpose.", "the device-time model is pure: plain descriptors in, modelled times out"),
    ("devperf", "pytest", "the device-time model knows no pytest"),
    ("devperf", "torch", "the device-time model prices descriptors, not tensors"),
    ("devperf", "ttnn", "the device-time model knows no ttnn"),
    ("tt", "pytest_ttpose.emulator", "TT model code reaches ttnn only through pytest_ttpose.seam"),
    ("tt", "pytest_ttpose.harness", "TT model code knows no pytest plugin"),
    ("runner", "pytest_ttpose.emulator", "runners reach ttnn only through pytest_ttpose.seam"),
    ("runner", "pytest_ttpose.harness", "runners know no pytest plugin"),
    ("pose", "pytest", "pose helpers are plain functions, usable outside pytest"),
    ("pose", "ttnn", "pose helpers know no ttnn"),
    ("pose", "pytest_ttpose.", "pose helpers are the bottom layer (only other pose modules)"),
    ("reference", "pytest_ttpose.harness", "the torch reference knows no pytest plugin"),
    ("reference", "pytest_ttpose.emulator", "the torch reference knows no ttnn"),
    ("reference", "ttnn", "the torch reference knows no ttnn"),
    ("tt", "ttnn", "TT model code gets its ttnn from pytest_ttpose.seam.api_for(device)"),
    ("mock", "pytest_ttpose.harness", "the dry run's runtime knows no pytest plugin"),
    ("mock", "pytest_ttpose.emulator", "the dry run is the real ttnn, never the emulator"),
    ("systems", "pytest_ttpose.", "the systems vocabulary is the bottom: every layer reads it"),
    ("runner", "ttnn", "runners get their ttnn from pytest_ttpose.seam.api_for(device)"),
]
# Imports a layer may make although a broader rule above forbids them.
ALLOWED: dict[str, tuple[str, ...]] = {
    # The emulator records what it runs as the device-time model's plain descriptors.
    "emulator": ("pytest_ttpose.emulator", "pytest_ttpose.devperf"),
    "devperf": ("pytest_ttpose.devperf",),
    "pose": ("pytest_ttpose.pose",),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, as_module: str | None = None) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports, absolute, with its line; relative imports are resolved as if the file were
    the module ``as_module`` (by default, the module it is)."""
    name = as_module or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import module` imports pkg.module; `from pkg import name` imports pkg itself.
            submodules = [f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}")]
            if len(submodules) < len(node.names):
                yield node.lineno, base
            for submodule in submodules:
                yield node.lineno, submodule


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    root = PACKAGE.parent
    return (root / relative).with_suffix(".py").is_file() or (root / relative / "__init__.py").is_file()


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def forbidden_imports_of(path: Path, as_module: str | None = None) -> list[str]:
    """The imports of one file that break a rule, each with its reason."""
    module = as_module or module_name(path)
    layer = layer_of(module)
    problems: list[str] = []
    for line, imported in imports_of(path, module):
        if imported.startswith(ALLOWED.get(layer, ("\0",))):
            continue
        for source_layer, target, reason in FORBIDDEN:
            if layer == source_layer and (imported == target.rstrip(".") or imported.startswith(target)):
                problems.append(f"{module}:{line} imports {imported}: {reason}")
    return problems


def forbidden_imports(paths: list[Path]) -> list[str]:
    return [problem for path in paths for problem in forbidden_imports_of(path)]


def import_graph(paths: list[Path]) -> dict[str, set[str]]:
    """Module -> the package modules it imports (a package's __init__ counts as the package module)."""
    known = {module_name(path) for path in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        module = module_name(path)
        targets = {imported for _, imported in imports_of(path) if imported in known and imported != module}
        # Importing a.b.c runs a/__init__ and a/b/__init__ first, but those edges are not the module's own choice.
        graph[module] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_across_a_forbidden_boundary() -> None:
    problems = forbidden_imports(sources())
    assert not problems, "imports that break docs/ARCHITECTURE.md's layer rules:\n  " + "\n  ".join(problems)


def test_the_package_has_no_import_circle() -> None:
    found = circles(import_graph(sources()))
    assert not found, "import circles (each a set of modules that import one another):\n  " + "\n  ".join(
        " <-> ".join(component) for component in found
    )


@pytest.mark.parametrize(
    ("layer_file", "line", "reason"),
    [
        ("emulator/types.py", "from pytest_ttpose.harness import settings", "the emulator stands alone"),
        ("tt/blocks.py", "from pytest_ttpose.emulator import Tensor", "only through pytest_ttpose.seam"),
        ("runner/basic.py", "import pytest_ttpose.harness.session", "runners know no pytest plugin"),
        ("pose/metrics.py", "import pytest", "usable outside pytest"),
        ("pose/processing.py", "import ttnn", "pose helpers know no ttnn"),
        ("tt/head.py", "import ttnn", "gets its ttnn from pytest_ttpose.seam"),
    ],
)
def test_a_forbidden_import_added_to_a_layer_is_reported(
    tmp_path: Path, layer_file: str, line: str, reason: str
) -> None:
    """The rule test itself can fail: the same source with one forbidden import added is reported, with the reason."""
    original = PACKAGE / layer_file
    planted = original.read_text(encoding="utf-8") + f"\n\ndef _planted() -> None:\n    {line}\n"
    copy = tmp_path / "planted.py"
    copy.write_text(planted, encoding="utf-8")
    # Judge the copy as if it stood where the original does.
    problems = [problem for problem in forbidden_imports_of(copy, module_name(original)) if reason in problem]
    assert problems, f"adding `{line}` to {layer_file} was not reported"


def test_a_planted_circle_is_reported() -> None:
    graph = import_graph(sources())
    graph["pytest_ttpose.emulator.types"] = graph["pytest_ttpose.emulator.types"] | {"pytest_ttpose.emulator.tensor"}
    assert any("pytest_ttpose.emulator.types" in component for component in circles(graph))
