"""Every public name of the emulator exists in the real ttnn 0.81 and accepts nothing the real one would reject.

One test per name in ``pytest_ttpose.emulator.__all__``. For a function: each parameter it takes by keyword is a
keyword of the real callable (nanobind signatures, merged with docstring names where the signature is hand-written),
each parameter it takes by position sits at the same position in a real call form, and where both state a
default the defaults agree. For a class: the same for its constructor, its enum members exist in the real enum,
and each public method or property it defines exists on the real class (methods compared like functions). The
checker itself is tested below against deliberately wrong fakes, so a pass means something.
"""

from __future__ import annotations

import enum
import importlib
import inspect
from types import ModuleType
from typing import Any

import pytest

from pytest_ttpose.emulator.introspect import (
    REQUIRED,
    UNKNOWN_DEFAULT,
    ParamKind,
    call_forms,
    conformance_problems,
    parse_nb_signature,
    signature_of,
    signature_problems,
)

EMULATOR_MODULE = "pytest_ttpose.emulator"


def _emulator_api_names() -> list[str]:
    """The emulator's public ttnn names; empty when it does not import (``test_emulator_exports`` then fails)."""
    try:
        module = importlib.import_module(EMULATOR_MODULE)
    except Exception:  # reported by test_emulator_exports, not at collection time
        return []
    names = getattr(module, "__all__", [])
    return sorted(n for n in names if not inspect.ismodule(getattr(module, n, None)))


@pytest.fixture(scope="module")
def emulator() -> ModuleType:
    return importlib.import_module(EMULATOR_MODULE)


def test_emulator_exports(emulator: ModuleType) -> None:
    names = getattr(emulator, "__all__", None)
    assert names, f"{EMULATOR_MODULE} must list its public ttnn names in __all__"
    missing = [n for n in names if not hasattr(emulator, n)]
    assert not missing, f"{EMULATOR_MODULE}.__all__ names attributes it does not define: {missing}"


@pytest.mark.parametrize("name", _emulator_api_names())
def test_emulator_name_conforms_to_real_ttnn(name: str, emulator: ModuleType, real_ttnn: ModuleType) -> None:
    assert hasattr(real_ttnn, name), f"ttnn.{name} does not exist in the real ttnn 0.81; the emulator must not add it"
    real = getattr(real_ttnn, name)
    problems = conformance_problems(getattr(emulator, name), real)
    forms = "".join(f"\n    {form}" for form in call_forms(real))
    assert not problems, (
        f"emulator's ttnn.{name} departs from the real ttnn:\n  " + "\n  ".join(problems) + f"\n  real forms:{forms}"
    )


PREPROCESSING_MODULE = "pytest_ttpose.emulator.model_preprocessing"


def _preprocessing_names() -> list[str]:
    try:
        module = importlib.import_module(PREPROCESSING_MODULE)
    except Exception:  # reported by the test below, not at collection time
        return ["<does not import>"]
    return sorted(module.__all__)


@pytest.mark.parametrize("name", _preprocessing_names())
def test_model_preprocessing_name_conforms_to_real_ttnn(name: str, real_ttnn: ModuleType) -> None:
    ours_module = importlib.import_module(PREPROCESSING_MODULE)
    real_module = importlib.import_module("ttnn.model_preprocessing")
    assert hasattr(real_module, name), f"ttnn.model_preprocessing.{name} does not exist in the real ttnn 0.81"
    problems = conformance_problems(getattr(ours_module, name), getattr(real_module, name))
    assert not problems, f"emulator's model_preprocessing.{name} departs from the real ttnn:\n  " + "\n  ".join(
        problems
    )


# ---------------------------------------------------------------- the checker rejects what it must (real ttnn)


def _concat_wrong_name(input_tensor: Any, dim: int = 0) -> None:
    """ttnn.concat's docstring says input_tensor; the real parameter is tensors."""


def _concat_right(tensors: Any, dim: int = 0, *, memory_config: Any = None) -> None:
    """A correct subset of ttnn.concat."""


def _execute_trace_wrong(mesh_device: Any, trace_id: Any, cq_id: int = 0, blocking: bool = False) -> None:
    """cq_id is keyword-only in ttnn, and blocking defaults to True."""


def _open_device_right(*, device_id: int, l1_small_size: int = 0, num_command_queues: int = 1) -> None:
    """num_command_queues appears only in open_device's docstring; the hand-written signature omits it."""


def _conv2d_wrong_default(*, input_tensor: Any, weight_tensor: Any, device: Any, stride: Any = (2, 2)) -> None:
    """conv2d's stride defaults to [1, 1]."""


def _matmul_kwargs(input_tensor_a: Any, input_tensor_b: Any, **kwargs: Any) -> None:
    """Swallowing unknown keywords would silently ignore arguments; ttnn.matmul takes no **kwargs."""


@pytest.mark.parametrize(
    ("fake", "real_name", "expected"),
    [
        (_concat_wrong_name, "concat", ["'input_tensor' is not a parameter name"]),
        (
            _execute_trace_wrong,
            "execute_trace",
            ["keyword-only in real ttnn: cq_id, blocking", "'cq_id' defaults to 0", "'blocking' defaults to False"],
        ),
        (_conv2d_wrong_default, "conv2d", ["'stride' defaults to (2, 2)"]),
        (_matmul_kwargs, "matmul", ["takes **kwargs"]),
    ],
    ids=["wrong-name", "keyword-only-and-default", "default", "var-keyword"],
)
def test_checker_rejects_wrong_fakes(fake: Any, real_name: str, expected: list[str], real_ttnn: ModuleType) -> None:
    problems = conformance_problems(fake, getattr(real_ttnn, real_name))
    for fragment in expected:
        assert any(fragment in p for p in problems), f"expected a problem containing {fragment!r}, got {problems}"
    assert len(problems) == len(expected), problems


@pytest.mark.parametrize(
    ("fake", "real_name"),
    [(_concat_right, "concat"), (_open_device_right, "open_device")],
    ids=["concat", "open_device-doc-only-keyword"],
)
def test_checker_accepts_right_fakes(fake: Any, real_name: str, real_ttnn: ModuleType) -> None:
    assert conformance_problems(fake, getattr(real_ttnn, real_name)) == []


def test_checker_tells_positional_only_parameters(real_ttnn: ModuleType) -> None:
    class CoreCoord:  # ttnn binds CoreCoord(arg0, arg1, /): CoreCoord(x=1, y=2) fails on hardware
        def __init__(self, x: int, y: int) -> None:
            pass

    problems = conformance_problems(CoreCoord, real_ttnn.CoreCoord)
    assert problems == [
        "constructor: 'x' can be passed by keyword here; real ttnn takes it only by position",
        "constructor: 'y' can be passed by keyword here; real ttnn takes it only by position",
    ]

    class PositionalCoreCoord:
        def __init__(self, x: int, y: int, /) -> None:
            pass

    assert conformance_problems(PositionalCoreCoord, real_ttnn.CoreCoord) == []


def test_checker_compares_enum_members_and_values(real_ttnn: ModuleType) -> None:
    class DataType(enum.Enum):
        BFLOAT16 = 0
        BFLOAT8_B = 1
        BFLOAT3 = 2

    problems = conformance_problems(DataType, real_ttnn.DataType)
    assert len(problems) == 1 and "BFLOAT3" in problems[0] and "BFLOAT16" not in problems[0].split("(")[0]
    assert conformance_problems(DataType.BFLOAT16, real_ttnn.bfloat16) == []
    problems = conformance_problems(DataType.BFLOAT8_B, real_ttnn.bfloat16)
    assert problems and "BFLOAT8_B" in problems[0]


def test_checker_compares_class_constructor_methods_and_properties(real_ttnn: ModuleType) -> None:
    class Conv2dConfig:
        def __init__(self, *, weights_dtype: Any = None, deallocate_activation: bool = False, bogus: int = 0) -> None:
            pass

    problems = conformance_problems(Conv2dConfig, real_ttnn.Conv2dConfig)
    assert problems == [p for p in problems if "'bogus'" in p] and len(problems) == 1, problems

    class Tensor:
        def __init__(self, data: Any) -> None:  # real ttnn.Tensor binds constructors; this is not one of them
            pass

        @property
        def padded_shape(self) -> Any:
            return None

        def memory_config(self) -> Any:
            return None

        def shape(self) -> Any:  # a property in ttnn
            return None

        def invented(self) -> None:
            pass

    problems = conformance_problems(Tensor, real_ttnn.Tensor)
    assert any("'shape' is a method here, a property" in p for p in problems), problems
    assert any("'invented' does not exist" in p for p in problems), problems
    assert not any("padded_shape" in p or "memory_config" in p for p in problems), problems

    class MeshDevice:  # real ttnn binds no constructor; only the members are compared
        def __init__(self, anything: int) -> None:
            pass

        def compute_with_storage_grid_size(self) -> Any:
            return None

    assert conformance_problems(MeshDevice, real_ttnn.MeshDevice) == []


# ---------------------------------------------------------------- the parser, on texts copied from ttnn 0.81.1


def test_parse_generated_signature_with_default_after_required() -> None:
    text = (
        "def wait_for_event(cq_id: ttnn._ttnn.types.QueueId | None = \\0, "
        "mesh_event: ttnn._ttnn.events.MeshEvent) -> None"
    )
    overload = parse_nb_signature(text, (None,))
    assert overload.positional == ("cq_id", "mesh_event")
    assert overload.required == ("mesh_event",)
    cq_id = overload.param("cq_id")
    assert cq_id is not None and cq_id.default is None
    assert not overload.hand_written


def test_parse_hand_written_signature_with_escaped_star_and_literal_defaults() -> None:
    text = (
        "def execute_trace(mesh_device: ttnn.MeshDevice, trace_id: ttnn.MeshTraceId, \\*, "
        "cq_id: Optional[ttnn.QueueId] = None, blocking: bool = True) -> None"
    )
    overload = parse_nb_signature(text, None)
    assert overload.positional == ("mesh_device", "trace_id")
    assert overload.keyword_only == ("cq_id", "blocking")
    assert [p.default for p in overload.params] == [REQUIRED, REQUIRED, None, True]
    assert overload.hand_written


def test_parse_quoted_types_with_commas_and_unreadable_defaults() -> None:
    text = (
        'def __call__(self, a: ttnn._ttnn.tensor.Tensor, *, program_config: "ns::Config<int, int>" | None = \\0, '
        "extra: int = \\7, **kwargs) -> None"
    )
    overload = parse_nb_signature(text, (None,))
    assert [p.name for p in overload.params] == ["a", "program_config", "extra", "kwargs"]
    extra = overload.param("extra")
    assert extra is not None and extra.default is UNKNOWN_DEFAULT
    assert overload.params[-1].kind is ParamKind.VAR_KEYWORD and overload.accepts_any_keyword


def test_signature_problems_without_ttnn() -> None:
    real = signature_of(lambda tensors, dim=0, *, memory_config=None: None)
    assert signature_problems(inspect.signature(lambda tensors, dim=0: None), real) == []
    problems = signature_problems(inspect.signature(lambda tensors, dim=1, *, groups=1: None), real)
    assert len(problems) == 2 and "'dim' defaults to 1" in problems[0] and "'groups'" in problems[1]
    moved = signature_problems(inspect.signature(lambda dim, tensors: None), real)
    assert moved == [
        "'dim' is positional argument #0 here, not in real ttnn",
        "'tensors' is positional argument #1 here, not in real ttnn",
    ]
    extra = signature_problems(inspect.signature(lambda tensors, dim, axis, /: None), real)
    assert extra == ["takes positional argument #2 ('axis'); real ttnn has no such slot"]
