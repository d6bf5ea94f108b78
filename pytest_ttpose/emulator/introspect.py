"""Read the parameters the real ttnn API accepts, and compare a ttnn-shaped object against them.

ttnn mixes three kinds of callables, and ``inspect.signature`` only understands one of them:

* plain Python functions (``create_sharded_memory_config``, ``open_mesh_device``, ``from_torch.function``);
* ``FastOperation`` wrappers (``conv2d``, ``matmul``, ``from_torch``...), whose own signature is
  ``(*function_args, **function_kwargs)``; the real callable is ``op.function``, often a nanobind op object whose
  signature lives in ``type(op.function).__call__.__nb_signature__``;
* bare nanobind functions, methods and constructors, which carry ``__nb_signature__``: one
  ``(text, doc, defaults)`` tuple per overload. In the text a default shows as ``\\N`` (an index into ``defaults``)
  and the keyword-only marker as ``\\*``.

Some nanobind signatures are hand-written (``nb::sig``): they contain no ``\\N`` placeholder and may leave out
parameters the binding accepts (``open_device`` omits ``num_command_queues``). For those, and only for those,
the names documented under ``Args:``/``Keyword Args:`` are merged in as keyword parameters. Generated signatures
are authoritative, because docstrings can be wrong (``concat`` documents ``input_tensor``; the parameter is
``tensors``).

Everything here is pure: it reads attributes of the objects it is given and imports nothing of ttnn.
"""

from __future__ import annotations

import ast
import enum
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class ParamKind(enum.Enum):
    POSITIONAL_ONLY = "positional-only"
    POSITIONAL_OR_KEYWORD = "positional-or-keyword"
    KEYWORD_ONLY = "keyword-only"
    VAR_POSITIONAL = "*args"
    VAR_KEYWORD = "**kwargs"


class _Marker:
    def __init__(self, label: str) -> None:
        self._label = label

    def __repr__(self) -> str:
        return self._label


REQUIRED = _Marker("<required>")
"""Default of a parameter whose signature states no default."""
UNKNOWN_DEFAULT = _Marker("<default not readable>")
"""Default of a parameter whose signature states a default this module cannot evaluate."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    default: Any = REQUIRED

    @property
    def has_stated_default(self) -> bool:
        return self.default is not REQUIRED and self.default is not UNKNOWN_DEFAULT


@dataclass(frozen=True)
class Overload:
    """One accepted call form. ``text`` is the signature as the source states it (for messages)."""

    params: tuple[Param, ...]
    text: str
    hand_written: bool = False

    @property
    def positional(self) -> tuple[str, ...]:
        kinds = (ParamKind.POSITIONAL_ONLY, ParamKind.POSITIONAL_OR_KEYWORD)
        return tuple(p.name for p in self.params if p.kind in kinds)

    @property
    def keyword_only(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.kind is ParamKind.KEYWORD_ONLY)

    @property
    def required(self) -> tuple[str, ...]:
        variadic = (ParamKind.VAR_POSITIONAL, ParamKind.VAR_KEYWORD)
        return tuple(p.name for p in self.params if p.default is REQUIRED and p.kind not in variadic)

    @property
    def accepts_any_keyword(self) -> bool:
        return any(p.kind is ParamKind.VAR_KEYWORD for p in self.params)

    @property
    def accepts_extra_positionals(self) -> bool:
        return any(p.kind is ParamKind.VAR_POSITIONAL for p in self.params)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class ApiSignature:
    """Every call form of one ttnn callable, plus keyword names known only from its docstring."""

    overloads: tuple[Overload, ...]
    doc_only: tuple[str, ...] = field(default=())

    @property
    def names(self) -> frozenset[str]:
        named = {p.name for o in self.overloads for p in o.params if p.kind not in _VARIADIC}
        return frozenset(named | set(self.doc_only))


_VARIADIC = (ParamKind.VAR_POSITIONAL, ParamKind.VAR_KEYWORD)


def unwrap_operation(obj: Any) -> Any:
    """The callable behind a ttnn ``FastOperation`` (its ``function`` attribute), else ``obj`` itself."""
    inner = getattr(obj, "function", None)
    if inner is not None and type(obj).__name__ == "FastOperation":
        return inner
    return obj


def _nb_signature_entries(obj: Any) -> list[tuple[str, str | None, tuple[Any, ...] | None]]:
    candidates: list[Any] = [obj]
    if isinstance(obj, type):
        candidates.append(getattr(obj, "__init__", None))
    else:
        candidates.append(vars(type(obj)).get("__call__"))  # nanobind op objects keep the signature on the type
    for candidate in candidates:
        entries = getattr(candidate, "__nb_signature__", None)
        if entries:
            return [(e[0], e[1], e[2]) for e in entries]
    return []


def _scan(text: str, depth: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, character, bracket depth after it)`` for every character of ``text`` outside quotes."""
    quote: str | None = None
    for index, ch in enumerate(text):
        if quote is not None:
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        yield index, ch, depth


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are outside brackets and quotes."""
    cuts = [index for index, ch, depth in _scan(text) if ch == "," and depth == 0]
    parts = [text[a + 1 : b].strip() for a, b in zip([-1, *cuts], [*cuts, len(text)], strict=True)]
    return parts if parts[-1] else parts[:-1]


def _parameter_list_text(signature_text: str) -> str:
    """The text between the parentheses of ``def name(...)``."""
    start = signature_text.index("(") + 1
    for index, ch, depth in _scan(signature_text[start:], depth=1):
        if depth == 0 and ch in ")]}":
            return signature_text[start : start + index]
    return signature_text[start:]  # some hand-written texts lack the closing parenthesis


def _top_level_index(text: str, char: str) -> int:
    return next((index for index, ch, depth in _scan(text) if ch == char and depth == 0), -1)


def _default_from_text(text: str, defaults: tuple[Any, ...] | None) -> Any:
    placeholder = re.fullmatch(r"\\(\d+)", text)
    if placeholder is not None:
        index = int(placeholder.group(1))
        if defaults is not None and index < len(defaults):
            return defaults[index]
        return UNKNOWN_DEFAULT
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return UNKNOWN_DEFAULT


def parse_nb_signature(signature_text: str, defaults: tuple[Any, ...] | None = None) -> Overload:
    """Parse one nanobind signature text such as ``def f(a: int, \\*, b: int = \\0) -> None``."""
    params: list[Param] = []
    keyword_only = False
    for raw in _split_top_level(_parameter_list_text(signature_text)):
        part = raw.replace("\\*", "*")
        if part == "/":
            params = [Param(p.name, ParamKind.POSITIONAL_ONLY, p.default) for p in params]
            continue
        if part == "*":
            keyword_only = True
            continue
        if part.startswith("**"):
            params.append(Param(part[2:].split(":")[0].strip(), ParamKind.VAR_KEYWORD))
            continue
        if part.startswith("*"):
            params.append(Param(part[1:].split(":")[0].strip(), ParamKind.VAR_POSITIONAL))
            keyword_only = True
            continue
        equals = _top_level_index(part, "=")
        head = part if equals < 0 else part[:equals]
        name = head.split(":")[0].strip()
        if name == "self":
            continue
        default = REQUIRED if equals < 0 else _default_from_text(part[equals + 1 :].strip(), defaults)
        kind = ParamKind.KEYWORD_ONLY if keyword_only else ParamKind.POSITIONAL_OR_KEYWORD
        params.append(Param(name, kind, default))
    return Overload(tuple(params), signature_text, hand_written=_looks_hand_written(signature_text))


def _looks_hand_written(signature_text: str) -> bool:
    """nanobind renders generated signatures with ``\\N`` default placeholders, a plain ``*`` and fully qualified
    ``ttnn._ttnn.`` types; hand-written ``nb::sig`` texts in ttnn use ``\\*`` or short type names instead."""
    if "\\*" in signature_text:
        return True
    return re.search(r"\\\d+", signature_text) is None and "ttnn._ttnn." not in signature_text


_KIND_FROM_INSPECT = {
    inspect.Parameter.POSITIONAL_ONLY: ParamKind.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: ParamKind.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.KEYWORD_ONLY: ParamKind.KEYWORD_ONLY,
    inspect.Parameter.VAR_POSITIONAL: ParamKind.VAR_POSITIONAL,
    inspect.Parameter.VAR_KEYWORD: ParamKind.VAR_KEYWORD,
}


def _overload_from_inspect(signature: inspect.Signature) -> Overload:
    params = tuple(
        Param(
            p.name,
            _KIND_FROM_INSPECT[p.kind],
            REQUIRED if p.default is inspect.Parameter.empty else p.default,
        )
        for p in signature.parameters.values()
    )
    return Overload(params, f"({', '.join(str(p) for p in signature.parameters.values())})")


_SECTION_START = re.compile(r"^(Args|Arguments|Keyword Args|Keyword Arguments|Parameters):$", re.IGNORECASE)
_SECTION_END = re.compile(r"^(Returns?|Examples?|Notes?|Raises|Yields|Example usage|Usage)\b:?", re.IGNORECASE)
_DOC_PARAM = re.compile(r"^\*{0,2}(\w+)\s*\(")


def _doc_param_lines(doc: str | None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    in_section = False
    for line in (doc or "").splitlines():
        stripped = line.strip()
        if _SECTION_START.match(stripped):
            in_section = True
            continue
        if in_section and _SECTION_END.match(stripped):
            in_section = False
        match = _DOC_PARAM.match(stripped) if in_section else None
        if match is not None:
            found.append((match.group(1), stripped))
    return found


def doc_param_names(doc: str | None) -> tuple[str, ...]:
    """Names listed under ``Args:`` / ``Keyword Args:`` sections of a Google-style docstring, in order."""
    names: list[str] = []
    for name, _ in _doc_param_lines(doc):
        if name not in names:
            names.append(name)
    return tuple(names)


def doc_optional_names(doc: str | None) -> frozenset[str]:
    """Documented parameters whose type note says ``optional``, as in ``name (int, optional): ...``."""
    return frozenset(
        name for name, line in _doc_param_lines(doc) if re.match(r"^\*{0,2}\w+\s*\([^)]*\boptional\b", line)
    )


def _docs_of(obj: Any, target: Any, entries: Iterable[tuple[str, str | None, Any]]) -> list[str]:
    docs = [getattr(obj, "__doc__", None), getattr(target, "__doc__", None)]
    docs.extend(doc for _, doc, _ in entries)
    return [d for d in docs if d]


def signature_of(obj: Any) -> ApiSignature:
    """The accepted call forms of a ttnn callable; for a class, of its constructor (``self`` left out).

    Raises ``TypeError`` when ``obj`` is not callable or carries no readable signature.
    """
    target = unwrap_operation(obj)
    if not callable(target):
        raise TypeError(f"{obj!r} is not callable, so it has no signature")
    entries = _nb_signature_entries(target)
    if entries:
        overloads = tuple(parse_nb_signature(text, defaults) for text, _, defaults in entries)
    else:
        try:
            overloads = (_overload_from_inspect(inspect.signature(target)),)
        except (ValueError, TypeError) as error:
            raise TypeError(f"no readable signature for {obj!r}: {error}") from error
    doc_only: tuple[str, ...] = ()
    if any(o.hand_written for o in overloads) and entries:
        docs = _docs_of(obj, target, entries)
        in_signatures = {p.name for o in overloads for p in o.params}
        documented: list[str] = []
        for doc in docs:
            documented.extend(n for n in doc_param_names(doc) if n not in in_signatures and n not in documented)
        doc_only = tuple(documented)
        optional = frozenset().union(*(doc_optional_names(doc) for doc in docs))
        overloads = tuple(_with_documented_defaults(o, optional) if o.hand_written else o for o in overloads)
    return ApiSignature(overloads, doc_only)


def _with_documented_defaults(overload: Overload, optional: frozenset[str]) -> Overload:
    """A hand-written signature may omit defaults; a parameter its docs call optional has one (value unknown)."""
    params = tuple(
        Param(p.name, p.kind, UNKNOWN_DEFAULT) if p.default is REQUIRED and p.name in optional else p
        for p in overload.params
    )
    return Overload(params, overload.text, hand_written=True)


def enum_members(cls: type) -> tuple[str, ...]:
    """Member names of a Python or nanobind enum class (ttnn's enums are ``enum.Enum`` subclasses)."""
    members = getattr(cls, "__members__", None)
    if members is None:
        raise TypeError(f"{cls!r} is not an enum")
    return tuple(members)


def is_enum(obj: Any) -> bool:
    return isinstance(obj, type) and isinstance(getattr(obj, "__members__", None), Mapping)


# ---------------------------------------------------------------- comparing a ttnn-shaped object with the real one


def _same_default(ours: Any, theirs: Any) -> bool | None:
    """True/False when the two defaults are comparable, None when they are not (opaque ttnn objects)."""
    if isinstance(theirs, enum.Enum) or isinstance(ours, enum.Enum):
        return (type(ours).__name__, getattr(ours, "name", ours)) == (
            type(theirs).__name__,
            getattr(theirs, "name", theirs),
        )
    if ours is None and isinstance(theirs, list | tuple) and not theirs:
        return True
    numbers = (int, float)
    if all(isinstance(v, numbers) and not isinstance(v, bool) for v in (ours, theirs)):
        return bool(ours == theirs)
    plain = (type(None), bool, int, float, str)
    if isinstance(theirs, plain) or isinstance(ours, plain):
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(theirs, list | tuple) and isinstance(ours, list | tuple):
        return len(ours) == len(theirs) and all(
            _same_default(a, b) is not False for a, b in zip(ours, theirs, strict=True)
        )
    return None


def _accepts_keyword(name: str, overload: Overload, doc_only: Sequence[str]) -> bool:
    real = overload.param(name)
    if real is not None:
        return real.kind in (ParamKind.POSITIONAL_OR_KEYWORD, ParamKind.KEYWORD_ONLY)
    return overload.accepts_any_keyword or (overload.hand_written and name in doc_only)


def signature_problems(ours: inspect.Signature, real: ApiSignature) -> list[str]:
    """What a caller written against ``ours`` could do that ``real`` rejects or does differently.

    * every parameter ``ours`` takes by keyword is a keyword the real callable takes;
    * a parameter ``ours`` takes by position is positional in a real call form, at the same index when the real
      form has that name (a name real ttnn lacks is reported once, as a keyword problem);
    * where both state a default, the defaults agree (opaque ttnn objects are not compared; ``None`` stands for
      an empty list, the Python idiom for a mutable default);
    * ``*args``/``**kwargs`` in ``ours`` are accepted only if the real callable has them too.
    """
    problems: list[str] = []
    keyword_only_in_real: list[str] = []
    position = 0
    for param in ours.parameters.values():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            if not any(o.accepts_extra_positionals for o in real.overloads):
                problems.append(f"takes *{param.name}; real ttnn takes no extra positional arguments")
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            if not any(o.accepts_any_keyword for o in real.overloads):
                problems.append(f"takes **{param.name}; real ttnn takes no arbitrary keywords")
            continue
        by_position = param.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        by_keyword = param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        if by_keyword and not any(_accepts_keyword(param.name, o, real.doc_only) for o in real.overloads):
            named_positional_only = any(
                (p := o.param(param.name)) is not None and p.kind is ParamKind.POSITIONAL_ONLY for o in real.overloads
            )
            only_positional = named_positional_only or (by_position and _positional_only_at(position, real.overloads))
            problems.append(
                f"{param.name!r} can be passed by keyword here; real ttnn takes it only by position"
                if only_positional
                else f"{param.name!r} is not a parameter name real ttnn accepts"
            )
        if by_position:
            verdict = _positional_verdict(param.name, position, real.overloads)
            if verdict == "keyword-only":
                keyword_only_in_real.append(param.name)
            elif verdict == "moved":
                problems.append(f"{param.name!r} is positional argument #{position} here, not in real ttnn")
            elif verdict == "extra" and not by_keyword:
                problems.append(f"takes positional argument #{position} ({param.name!r}); real ttnn has no such slot")
            position += 1
        if param.default is inspect.Parameter.empty:
            continue
        stated = [o.param(param.name) for o in real.overloads]
        real_defaults = [p.default for p in stated if p is not None and p.has_stated_default]
        verdicts = [_same_default(param.default, d) for d in real_defaults]
        if real_defaults and False in verdicts and True not in verdicts and None not in verdicts:
            problems.append(f"{param.name!r} defaults to {param.default!r}, in real ttnn to {real_defaults[0]!r}")
    if keyword_only_in_real:
        problems.insert(0, f"positional here but keyword-only in real ttnn: {', '.join(keyword_only_in_real)}")
    return problems


def _positional_only_at(index: int, overloads: Sequence[Overload]) -> bool:
    kinds = (ParamKind.POSITIONAL_ONLY, ParamKind.POSITIONAL_OR_KEYWORD)
    for overload in overloads:
        positional = [p for p in overload.params if p.kind in kinds]
        if index < len(positional) and positional[index].kind is ParamKind.POSITIONAL_ONLY:
            return True
    return False


def _positional_verdict(name: str, index: int, overloads: Sequence[Overload]) -> str:
    """'ok', 'keyword-only' (real takes it, never by position), 'moved' (at another index in every real form) or
    'extra' (real ttnn has neither the name nor a free position)."""
    kinds = (ParamKind.POSITIONAL_ONLY, ParamKind.POSITIONAL_OR_KEYWORD)
    for overload in overloads:
        positional = [p for p in overload.params if p.kind in kinds]
        if index < len(positional):
            if positional[index].name == name or positional[index].kind is ParamKind.POSITIONAL_ONLY:
                return "ok"
            if all(p.name != name for p in overload.params):
                return "ok"  # a name real ttnn lacks: reported once, by the keyword check
        elif overload.accepts_extra_positionals:
            return "ok"
    if all(p.name != name for o in overloads for p in o.params):
        return "extra"  # real ttnn has no such parameter and no free position for it
    in_real_positional = any(p.name == name and p.kind in kinds for o in overloads for p in o.params)
    return "moved" if in_real_positional else "keyword-only"


def call_forms(real: Any) -> list[str]:
    """The real callable's signatures as it states them (for error messages); empty if it has none."""
    try:
        return [o.text for o in signature_of(real).overloads]
    except TypeError:
        return []


def _public_members(cls: type) -> dict[str, Any]:
    """Public attributes a class defines itself or inherits from non-builtin bases (int, tuple, Enum excluded)."""
    skip: set[str] = set(dir(object))
    if issubclass(cls, enum.Enum):
        skip |= set(dir(enum.Enum)) | set(cls.__members__)
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__ in ("builtins", "enum"):  # int, tuple, Enum: not the emulator's own API
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and name not in skip:
                members[name] = value
    return members


def _signature_for_compare(obj: Any) -> inspect.Signature:
    signature = inspect.signature(obj)
    params = list(signature.parameters.values())
    if params and params[0].name in ("self", "cls"):
        signature = signature.replace(parameters=params[1:])
    return signature


def conformance_problems(ours: Any, real: Any) -> list[str]:
    """Ways ``ours`` (a name of a ttnn-shaped namespace) departs from ``real`` (the same name in ttnn).

    Callables are compared with ``signature_problems``; a class's constructor likewise, plus its enum members and
    the public methods and properties it defines (each must exist on the real class; methods are compared too).
    Other values must have a type of the same name, and enum values the same member name.
    """
    real_target = unwrap_operation(real)
    if isinstance(ours, type):
        return _class_problems(ours, real_target)
    if isinstance(ours, enum.Enum):
        if not isinstance(real_target, enum.Enum):
            return [f"is the enum value {ours!r}, real ttnn's is {real_target!r}"]
        if (type(ours).__name__, ours.name) != (type(real_target).__name__, real_target.name):
            return [
                f"is {type(ours).__name__}.{ours.name}, real ttnn's is {type(real_target).__name__}.{real_target.name}"
            ]
        return []
    if callable(ours):
        if not callable(real_target):
            return [f"is callable, real ttnn's is {type(real_target).__name__}"]
        return signature_problems(_signature_for_compare(ours), signature_of(real_target))
    if type(ours).__name__ != type(real_target).__name__:
        return [f"is a {type(ours).__name__}, real ttnn's is a {type(real_target).__name__}"]
    return []


def _class_problems(ours: type, real: Any) -> list[str]:
    if not callable(real):
        return [f"is a class, real ttnn's is {type(real).__name__}"]
    problems: list[str] = []
    if issubclass(ours, enum.Enum):
        if not is_enum(real):
            return [f"is an enum, real ttnn's {real!r} is not"]
        missing = [m for m in ours.__members__ if m not in enum_members(real)]
        if missing:
            problems.append(f"enum members not in real ttnn: {missing} (real has {list(enum_members(real))})")
    elif ours.__init__ is not object.__init__:
        try:
            real_constructor: ApiSignature | None = signature_of(real)
        except TypeError:
            real_constructor = None  # real ttnn binds no constructor (MeshDevice, MeshEvent): users never call it
        if real_constructor is not None:
            ours_constructor = _signature_for_compare(ours)
            problems.extend(f"constructor: {p}" for p in signature_problems(ours_constructor, real_constructor))
    if not isinstance(real, type):
        return problems
    for name, value in _public_members(ours).items():
        if not hasattr(real, name):
            problems.append(f"attribute {name!r} does not exist on real ttnn's {real.__name__}")
            continue
        function: Callable[..., Any] | None = None
        if isinstance(value, staticmethod | classmethod):
            function = value.__func__
        elif inspect.isfunction(value):
            function = value
        real_attr = inspect.getattr_static(real, name)
        if function is None:
            continue
        if isinstance(real_attr, property):
            problems.append(f"{name!r} is a method here, a property on real ttnn's {real.__name__}")
            continue
        try:
            real_signature = signature_of(getattr(real, name))
        except TypeError:
            continue
        ours_signature = inspect.signature(function)
        if not isinstance(value, staticmethod):
            params = list(ours_signature.parameters.values())[1:]
            ours_signature = ours_signature.replace(parameters=params)
        problems.extend(f"{name}(): {p}" for p in signature_problems(ours_signature, real_signature))
    for name, value in _public_members(ours).items():
        if isinstance(value, property) and hasattr(real, name):
            real_attr = inspect.getattr_static(real, name)
            if callable(real_attr) and not isinstance(real_attr, property):
                problems.append(f"{name!r} is a property here, a method on real ttnn's {real.__name__}")
    return problems


__all__ = [
    "REQUIRED",
    "UNKNOWN_DEFAULT",
    "ApiSignature",
    "Overload",
    "Param",
    "ParamKind",
    "call_forms",
    "conformance_problems",
    "doc_optional_names",
    "doc_param_names",
    "enum_members",
    "is_enum",
    "parse_nb_signature",
    "signature_of",
    "signature_problems",
    "unwrap_operation",
]
