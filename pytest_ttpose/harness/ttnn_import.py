"""``import ttnn`` in the user's code gets the session's ttnn: the emulator, or the dry run's namespace.

A TT model written for real hardware does ``import ttnn`` (``import ttnn.model_preprocessing``, ``from ttnn import
...``). Under ``--ttpose-backend=emulator`` the session's devices are the emulator's, so that code must call the
emulator's functions. :class:`EmulatorTtnnAlias` is a ``sys.meta_path`` finder, installed when the session is
configured and removed when it ends, that answers every import of ``ttnn`` or ``ttnn.X`` with
``pytest_ttpose.emulator`` or ``pytest_ttpose.emulator.X`` (the same module objects, so the emulator's own
``isinstance`` checks hold). A submodule the emulator does not have is a ``ModuleNotFoundError`` that says so, never
a fall-through to the installed package.

Limits: the alias takes effect at configure time, after pytest has loaded the initial conftests (the rootdir's
and those of the folders named on the command line) and plugins: a module those import ``ttnn`` into keeps the
installed package (the session header says when that happened). Modules imported later (test modules, their
conftests, ``--ttpose-runner``/``--ttpose-tt-model`` targets) see the emulator. Under the ``ttnn`` and ``ttnn-mock``
backend, or with ``--ttpose-import-ttnn=installed``, nothing is aliased.

Under ``ttnn-mock`` the installed package runs, but mock mode crashes the process on trace replay, events and ops
inside a capture; the harness's own code goes through the dry run's namespace (``pytest_ttpose.mock.api.MockTtnn``),
which forwards every name to the real ttnn and stands in for those calls. :class:`NamespaceTtnnAlias` makes
``import ttnn`` give user code that same namespace, as a module whose submodules (``ttnn.X``) are the real ones.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any, Literal, Protocol

# What `import ttnn` gives in the session: the session's backend's ttnn, or always the installed package.
TtnnImport = Literal["backend", "installed"]
TTNN_IMPORTS: tuple[TtnnImport, ...] = ("backend", "installed")
EMULATOR_PACKAGE = "pytest_ttpose.emulator"
TTNN = "ttnn"


def _is_ttnn(name: str) -> bool:
    return name == TTNN or name.startswith(TTNN + ".")


class EmulatorTtnnAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``ttnn[.X]`` to ``pytest_ttpose.emulator[.X]`` while installed."""

    description = "pytest_ttpose.emulator"

    def __init__(self) -> None:
        self._hidden: dict[str, ModuleType] = {}
        self.installed = False

    @staticmethod
    def target(name: str) -> str:
        return EMULATOR_PACKAGE + name[len(TTNN) :]

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec:
        if not _is_ttnn(fullname):
            return None  # type: ignore[return-value]  # not ours: the next finder decides
        emulated = self.target(fullname)
        if emulated not in sys.modules and importlib.util.find_spec(emulated) is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: this session runs on the ttpose emulator "
                f"(--ttpose-backend=emulator), which has no {emulated}; run on the ttnn or ttnn-mock backend, or "
                "pass --ttpose-import-ttnn=installed to import the installed ttnn",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target(spec.name))

    def exec_module(self, module: ModuleType) -> None:
        """The emulator module is already executed."""

    def install(self) -> list[str]:
        """Put the finder first and hide ttnn modules imported so far; returns their names (they stay in use by
        whoever imported them)."""
        self._hidden = {name: module for name, module in sys.modules.items() if _is_ttnn(name)}
        for name in self._hidden:
            del sys.modules[name]
        sys.meta_path.insert(0, self)
        self.installed = True
        return sorted(self._hidden)

    def uninstall(self) -> None:
        """Remove the finder and the aliases; the hidden modules come back."""
        if not self.installed:
            return
        self.installed = False
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for name in [name for name in sys.modules if _is_ttnn(name)]:
            del sys.modules[name]
        sys.modules.update(self._hidden)
        self._hidden = {}


class TtnnAlias(Protocol):
    """What ``import ttnn`` gives user code during a session; installed at configure, removed at unconfigure."""

    installed: bool
    description: str

    def install(self) -> list[str]: ...

    def uninstall(self) -> None: ...


class _NamespaceModule(ModuleType):
    """A module named ``ttnn`` whose attributes come from a ttnn-shaped namespace object; its ``__path__`` is the
    real package's, so ``import ttnn.X`` finds the real submodules."""

    def __init__(self, namespace: Any, real: ModuleType) -> None:
        super().__init__(TTNN, real.__doc__)
        self.__path__ = list(getattr(real, "__path__", []))
        self.__file__ = getattr(real, "__file__", None)
        self.__spec__ = real.__spec__
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._namespace, name)


class NamespaceTtnnAlias:
    """``import ttnn`` gives ``namespace`` (over the already imported ``real`` ttnn) while installed."""

    def __init__(self, namespace: Any, real: ModuleType, description: str) -> None:
        self._module = _NamespaceModule(namespace, real)
        self._previous: ModuleType | None = None
        self.description = description
        self.installed = False

    def install(self) -> list[str]:
        self._previous = sys.modules.get(TTNN)
        sys.modules[TTNN] = self._module
        self.installed = True
        return []

    def uninstall(self) -> None:
        if not self.installed:
            return
        self.installed = False
        if sys.modules.get(TTNN) is self._module:
            if self._previous is None:
                del sys.modules[TTNN]
            else:
                sys.modules[TTNN] = self._previous


__all__ = [
    "EMULATOR_PACKAGE",
    "TTNN_IMPORTS",
    "EmulatorTtnnAlias",
    "NamespaceTtnnAlias",
    "TtnnAlias",
    "TtnnImport",
]
