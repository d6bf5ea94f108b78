"""Which YOLO11-pose implementation the session validates: the bundled one, a user's runner class
(``--ttpose-runner=MODULE:CLASS``), a user's TT model factory (``--ttpose-tt-model=MODULE:FACTORY``), or one that a
conftest returns from ``pytest_ttpose_make_runner`` / ``pytest_ttpose_make_tt_model``.

Everything here runs at configure time: the user's module is imported and its constructor or factory signature is
checked against the spec's call before any test runs, so a typo or a misfit is one usage error, not a failure per
case. The user's module is imported after the backend is prepared and the ``ttnn`` import alias is installed, so a
module-level ``import ttnn`` already sees the session's ttnn.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pytest_ttpose.harness.settings import MatrixPoint, OptionError

# What is validated. "bundled": pytest_ttpose.tt driven by pytest_ttpose.runner; "tt-model": a user's model driven
# by pytest_ttpose.runner; "runner": a user's runner with the spec's API, driven by itself.
ModelKind = Literal["bundled", "tt-model", "runner"]

# The spec's constructor, positionally: (device, device_batch_size, act_dtype, weight_dtype, resolution).
RUNNER_POSITIONAL = ("device", "device_batch_size", "act_dtype", "weight_dtype", "resolution")
# Keyword parameters a runner gets when its constructor names them (or takes **kwargs: then none, to stay safe).
RUNNER_KEYWORDS = ("mesh_device", "model_location_generator", "torch_input_tensor", "reference_model")
# The factory of --ttpose-tt-model, positionally.
FACTORY_POSITIONAL = ("device", "reference_model", "act_dtype", "weight_dtype", "resolution", "batch_size")
RUNNER_METHODS = ("run", "release")
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class UserModel:
    """A user-supplied implementation: its kind, the name its baselines are filed under, and what builds it.

    ``target`` is the runner class or the model factory; None when a conftest hook builds it (``hook`` names the
    plugin implementing it). ``output_adapter`` is ``--ttpose-output``'s function, if given.
    """

    kind: ModelKind
    name: str
    target: Callable[..., Any] | None
    output_adapter: Callable[..., Any] | None = None
    keywords: tuple[str, ...] = ()


def load_target(option: str, text: str) -> Callable[..., Any]:
    """Import ``MODULE:NAME`` (``NAME`` may be dotted: ``Outer.Inner``); an ``OptionError`` says what failed."""
    spec = text.strip()
    accepted = "MODULE:NAME, an importable module and a name in it, such as examples.yolo11_pose_tt:PoseRunner"
    if not _TARGET.match(spec):
        raise OptionError(option, text, "not of the form MODULE:NAME", accepted)
    module_name, _, attribute = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as error:  # any error of the user's module: its import is part of what is checked
        raise OptionError(
            option,
            text,
            f"cannot import module {module_name!r} ({type(error).__name__}: {error})",
            accepted + " (the module's folder must be on sys.path: run from it, or set PYTHONPATH / pythonpath)",
        ) from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise OptionError(option, text, f"module {module_name!r} has no attribute {attribute!r}", accepted)
        target = getattr(target, part)
    if not callable(target):
        raise OptionError(
            option, text, f"{attribute!r} is a {type(target).__name__}, not a class or function", accepted
        )
    return target


def _signature(option: str, text: str, target: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(target)
    except (TypeError, ValueError) as error:
        raise OptionError(
            option, text, f"its signature cannot be read ({error})", "a Python class or function"
        ) from None


def _check_bind(
    option: str,
    text: str,
    signature: inspect.Signature,
    names: tuple[str, ...],
    what: str,
    keywords: tuple[str, ...] = (),
) -> None:
    try:
        signature.bind(*names, **dict.fromkeys(keywords))
    except TypeError as error:
        raise OptionError(
            option,
            text,
            f"its {what} {signature} does not fit the call {what.split()[0]}({', '.join(names)}): {error}",
            f"a {what} taking ({', '.join(names)}) positionally, further parameters optional",
        ) from None


def runner_keywords(signature: inspect.Signature) -> tuple[str, ...]:
    """The harness's keyword parameters the constructor names explicitly."""
    return tuple(name for name in RUNNER_KEYWORDS if name in signature.parameters)


def check_runner_class(option: str, text: str, target: Callable[..., Any]) -> tuple[str, ...]:
    """The spec's API: the constructor takes the five positional arguments; ``run`` and ``release`` exist.
    Returns the extra keywords the constructor accepts."""
    signature = _signature(option, text, target)
    keywords = runner_keywords(signature)
    _check_bind(option, text, signature, RUNNER_POSITIONAL, "constructor signature", keywords)
    if isinstance(target, type):
        missing = [name for name in RUNNER_METHODS if not callable(getattr(target, name, None))]
        if missing:
            raise OptionError(
                option,
                text,
                f"class {target.__qualname__} has no {' / '.join(missing)} method",
                "a runner class with run(torch_input_tensor) and release(), as in README_POSE_RUNNER",
            )
    return keywords


def check_factory(option: str, text: str, target: Callable[..., Any]) -> None:
    _check_bind(option, text, _signature(option, text, target), FACTORY_POSITIONAL, "factory signature")


def check_output_adapter(option: str, text: str, target: Callable[..., Any]) -> None:
    signature = _signature(option, text, target)
    try:
        signature.bind("output", "ttnn", "mesh_composer")
    except TypeError as error:
        raise OptionError(
            option,
            text,
            f"its signature {signature} does not fit FUNC(output, ttnn, mesh_composer): {error}",
            "a function (output, ttnn, mesh_composer) -> torch.Tensor of shape (B, 56, A)",
        ) from None


def target_name(target: Callable[..., Any]) -> str:
    """``MODULE:QUALNAME`` of a class or function: the name its baselines are filed under."""
    return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', type(target).__name__)}"


def resolve_user_model(
    runner: str | None, tt_model: str | None, output: str | None, hook_plugins: dict[str, list[str]]
) -> UserModel | None:
    """The user model the options and hooks select, imported and checked; None for the bundled model.

    ``hook_plugins`` maps ``"runner"`` / ``"tt-model"`` to the names of the plugins implementing the make hooks.
    Two selections at once are a usage error: the session validates one implementation.
    """
    chosen = [
        label
        for label, present in (
            ("--ttpose-runner", runner),
            ("--ttpose-tt-model", tt_model),
            ("pytest_ttpose_make_runner", hook_plugins.get("runner")),
            ("pytest_ttpose_make_tt_model", hook_plugins.get("tt-model")),
        )
        if present
    ]
    if len(chosen) > 1:
        raise OptionError(
            chosen[0], runner or tt_model or "hook", f"also given: {', '.join(chosen[1:])}", "one model per session"
        )
    adapter = None
    if output is not None:
        adapter = load_target("--ttpose-output", output)
        check_output_adapter("--ttpose-output", output, adapter)
    if runner is not None:
        target = load_target("--ttpose-runner", runner)
        keywords = check_runner_class("--ttpose-runner", runner, target)
        return UserModel("runner", target_name(target), target, adapter, keywords)
    if tt_model is not None:
        target = load_target("--ttpose-tt-model", tt_model)
        check_factory("--ttpose-tt-model", tt_model, target)
        return UserModel("tt-model", target_name(target), target, adapter)
    for kind in ("runner", "tt-model"):
        plugins = hook_plugins.get(kind)
        if plugins:
            return UserModel(kind, f"hook:{plugins[0]}", None, adapter)
    if adapter is not None:
        raise OptionError(
            "--ttpose-output",
            output,
            "the bundled model reads its own output",
            "--ttpose-output together with --ttpose-runner or --ttpose-tt-model",
        )
    return None


def build_user_runner(
    user: UserModel,
    hook: Any,
    handle: Any,
    point: MatrixPoint,
    reference_model: Any,
    input_for: Callable[[int], Any],
    dry_run: bool,
) -> Any:
    """The user's runner for ``point`` on ``handle`` (a device or a mesh), wrapped as a ``UserRunner``.

    The constructor gets the spec's five positional arguments, plus the keywords it names among
    ``RUNNER_KEYWORDS``: ``mesh_device`` (the same handle), ``model_location_generator`` (None: the weights come
    with ``reference_model``), ``torch_input_tensor`` (the case's letterboxed images) and ``reference_model``.
    """
    from pytest_ttpose.runner.user import UserRunner, device_count
    from pytest_ttpose.seam import api_for

    api = api_for(handle)
    act_dtype, weight_dtype = getattr(api, point.act_dtype), getattr(api, point.weight_dtype)
    torch_input = input_for(point.batch_size * device_count(handle))
    target = user.target

    def construct() -> Any:
        if target is not None:
            offered = {
                "mesh_device": handle,
                "model_location_generator": None,
                "torch_input_tensor": torch_input,
                "reference_model": reference_model,
            }
            keywords = {name: offered[name] for name in user.keywords}
            return target(handle, point.batch_size, act_dtype, weight_dtype, point.resolution, **keywords)
        runner = hook.pytest_ttpose_make_runner(
            device=handle,
            device_batch_size=point.batch_size,
            act_dtype=act_dtype,
            weight_dtype=weight_dtype,
            resolution=point.resolution,
            reference_model=reference_model,
            torch_input_tensor=torch_input,
        )
        if runner is None:
            raise RuntimeError(f"every pytest_ttpose_make_runner returned None for {point.id}: return a runner")
        return runner

    build_fit = None
    if dry_run:
        # A runner runs its model while it is built (compile, capture); its replays run nothing on a mocked device.
        # So the dry run's L1 fit of a user's runner is that of its construction.
        from pytest_ttpose.mock import measure_fit

        runner, build_fit = measure_fit(handle, construct)
    else:
        runner = construct()
    return UserRunner(
        runner,
        handle,
        device_batch_size=point.batch_size,
        resolution=point.resolution,
        reference_model=reference_model,
        adapter=user.output_adapter,
        build_fit=build_fit,
    )


def user_tt_model_builder(user: UserModel, hook: Any) -> Callable[..., Any]:
    """The ``RunnerConfig.model_builder`` of a user's TT model (its factory, or the make hook)."""
    from pytest_ttpose.runner.user import tt_model_builder

    factory = user.target
    if factory is None:

        def factory(
            device: Any,
            reference_model: Any,
            act_dtype: Any,
            weight_dtype: Any,
            resolution: tuple[int, int],
            batch_size: int,
        ) -> Any:
            model = hook.pytest_ttpose_make_tt_model(
                device=device,
                reference_model=reference_model,
                act_dtype=act_dtype,
                weight_dtype=weight_dtype,
                resolution=resolution,
                batch_size=batch_size,
            )
            if model is None:
                raise RuntimeError("every pytest_ttpose_make_tt_model returned None: return a model")
            return model

    return tt_model_builder(factory, user.output_adapter)


__all__ = [
    "FACTORY_POSITIONAL",
    "ModelKind",
    "RUNNER_KEYWORDS",
    "RUNNER_POSITIONAL",
    "UserModel",
    "build_user_runner",
    "user_tt_model_builder",
    "load_target",
    "resolve_user_model",
    "target_name",
]
