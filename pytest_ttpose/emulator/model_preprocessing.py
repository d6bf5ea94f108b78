"""``ttnn.model_preprocessing`` for the emulator: turn a torch model's parameters into a tree of emulator tensors.

Names, parameters and results follow ttnn 0.81.1's module, as TT model code (the YOLO family included) uses it:
``preprocess_model_parameters`` walks the module tree and gives a ``ParameterDict`` per module (a ``ParameterList``
per ``nn.ModuleList``), keyed by child name (an int for numeric names); ``infer_ttnn_module_args`` runs the model once
and records the arguments of every Conv2d, ConvTranspose2d, MaxPool2d and GroupNorm it calls, keyed the way ttnn's
tracer names them (the last part of the module's name, under the module whose forward called it).

Differences from ttnn, all on purpose:

* ttnn draws the traced graph with graphviz (``model_graph.svg``); the emulator does not, and logs that once.
* ttnn can cache converted parameters on disk under ``model_name`` when ``ttnn.CONFIG.enable_model_cache`` is set
  (off by default). The emulator never caches: it would have to unpickle what it finds there.
"""

from __future__ import annotations

import inspect
import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import torch

from .device import MeshDevice
from .mesh import MeshMapper
from .tensor import Tensor, from_torch, to_device
from .types import DataType, Layout, MathFidelity

_log = logging.getLogger(__name__)

Preprocessor = Callable[..., "dict[Any, Any] | ParameterDict"]
ConvertToTtnn = Callable[[torch.nn.Module, str], bool]


# ---------------------------------------------------------------- single parameters


def preprocess_linear_weight(
    weight: torch.Tensor,
    *,
    dtype: DataType,
    layout: Layout = Layout.TILE,
    weights_mesh_mapper: MeshMapper | None = None,
) -> Tensor:
    """A Linear weight ``[out, in]`` as the ``[in, out]`` operand ttnn.linear multiplies by."""
    return from_torch(weight.T.contiguous(), dtype=dtype, layout=layout, mesh_mapper=weights_mesh_mapper)  # type: ignore[return-value]


def preprocess_linear_bias(
    bias: torch.Tensor,
    *,
    dtype: DataType,
    layout: Layout = Layout.TILE,
    weights_mesh_mapper: MeshMapper | None = None,
) -> Tensor:
    """A Linear bias as one row ``[1, out]``."""
    return from_torch(bias.reshape(1, -1), dtype=dtype, layout=layout, mesh_mapper=weights_mesh_mapper)  # type: ignore[return-value]


def preprocess_layernorm_parameter(parameter: torch.Tensor, *, dtype: DataType, layout: Layout = Layout.TILE) -> Tensor:
    return from_torch(parameter.reshape(1, -1), dtype=dtype, layout=layout)  # type: ignore[return-value]


def preprocess_embedding_weight(weight: torch.Tensor, *, dtype: DataType) -> Tensor:
    return from_torch(weight, dtype=dtype)  # type: ignore[return-value]


def fold_batch_norm2d_into_conv2d(conv: torch.nn.Conv2d, bn: torch.nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias of one conv that computes ``bn(conv(x))`` with ``bn``'s running statistics."""
    if not bn.track_running_stats:
        raise RuntimeError("BatchNorm2d must have track_running_stats=True to be folded into Conv2d")
    assert bn.running_mean is not None and bn.running_var is not None
    gain = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # per output channel
    weight = conv.weight * gain.reshape(-1, 1, 1, 1)
    conv_bias = conv.bias if conv.bias is not None else 0.0
    bias = (conv_bias - bn.running_mean) * gain + bn.bias
    return weight, bias


# ---------------------------------------------------------------- the parameter tree


class ParameterDict(dict[Any, Any]):
    """A dict whose keys read as attributes too (``parameters.conv.weight``); a missing one raises KeyError, as in
    ttnn."""

    def __getattr__(self, name: str) -> Any:
        return self[name]

    def __delattr__(self, name: str) -> None:
        del self[name]

    def __repr__(self) -> str:
        return _render(self)


class ParameterList(list[Any]):
    """The parameters of an ``nn.ModuleList``, one entry per child; ``i in parameters`` asks for an index."""

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and index < len(self)

    def __repr__(self) -> str:
        return _render(self)


class ModuleArgs(dict[Any, Any]):
    """Arguments of one traced module call (a leaf of ``infer_ttnn_module_args``'s tree)."""

    def __getattr__(self, name: str) -> Any:
        return self[name]

    def __delattr__(self, name: str) -> None:
        del self[name]

    def __repr__(self) -> str:
        return dict.__repr__(self)


class Conv2dArgs(ModuleArgs):
    pass


class ConvTranspose2dArgs(ModuleArgs):
    pass


class MaxPool2dArgs(ModuleArgs):
    pass


class GroupNormArgs(ModuleArgs):
    pass


class DotAccessDict(dict[Any, Any]):
    """A branch of ``infer_ttnn_module_args``'s tree: keys read as attributes too."""

    def __getattr__(self, name: str) -> Any:
        return self[name]

    def __delattr__(self, name: str) -> None:
        del self[name]


def make_parameter_dict(dictionary: dict[Any, Any]) -> ParameterDict:
    """``dictionary`` as a ParameterDict, nested dicts too (module arguments stay as they are)."""
    if isinstance(dictionary, ParameterDict):
        return dictionary
    return ParameterDict(
        {
            key: make_parameter_dict(value) if isinstance(value, dict) and not isinstance(value, ModuleArgs) else value
            for key, value in dictionary.items()
        }
    )


def _render(parameters: Any, indent: str = "") -> str:
    """The indented tree ttnn prints for a ParameterDict or ParameterList."""
    inner = indent + "  "
    if isinstance(parameters, (ParameterDict, ModuleArgs)):
        if not parameters:
            return "{}"
        if isinstance(parameters, ModuleArgs):
            lines = [f"{inner}{key}: {value}" for key, value in parameters.items()]
        else:
            lines = [f"{inner}{key}: {_render(value, inner)}" for key, value in parameters.items()]
        return "{\n" + ",\n".join(lines) + f"\n{indent}}}"
    if isinstance(parameters, ParameterList):
        if not parameters:
            return "[]"
        return "[\n" + ",\n".join(f"{inner}{_render(item, inner)}" for item in parameters) + f"\n{indent}]"
    if isinstance(parameters, Tensor):
        return f"ttnn.Tensor(shape={parameters.shape}, layout={parameters.layout}, dtype={parameters.dtype})"
    if isinstance(parameters, torch.Tensor):
        return f"torch.Tensor(shape={parameters.shape}, dtype={parameters.dtype})"
    return repr(parameters)


def repr_parameters(file: io.TextIOBase, parameters: Any, indentation: str = "") -> None:
    file.write(_render(parameters, indentation))


def move_to_device(object: Any, device: MeshDevice) -> Any:  # noqa: A002 - ttnn's parameter name
    """Every tensor of the tree on ``device`` (the containers are updated in place and returned)."""
    if isinstance(object, ParameterDict):
        for key in list(object):
            object[key] = move_to_device(object[key], device)
    elif isinstance(object, ParameterList):
        for index, item in enumerate(object):
            object[index] = move_to_device(item, device)
    elif isinstance(object, Tensor):
        return to_device(object, device)
    return object


# ---------------------------------------------------------------- converting a model

# ttnn's dtype for a parameter converted without a preprocessor: floats become bfloat16, integers keep their width.
_PARAMETER_DTYPE = {
    torch.uint8: DataType.UINT8,
    torch.int16: DataType.UINT16,
    torch.int32: DataType.INT32,
    torch.int64: DataType.UINT32,
    torch.bfloat16: DataType.BFLOAT16,
    torch.float32: DataType.BFLOAT16,
    torch.float64: DataType.BFLOAT16,
}


def _parameter_dtype(parameter: torch.Tensor) -> DataType:
    if parameter.dtype not in _PARAMETER_DTYPE:
        raise NotImplementedError(f"model_preprocessing: a {parameter.dtype} parameter has no emulated ttnn dtype")
    return _PARAMETER_DTYPE[parameter.dtype]


def default_preprocessor(model: torch.nn.Module, name: str, ttnn_module_args: Any) -> ParameterDict:
    """Linear, LayerNorm and Embedding parameters in the form ttnn's ops take them; nothing for other modules."""
    converted: dict[str, Tensor] = {}
    if isinstance(model, torch.nn.Linear):
        converted["weight"] = preprocess_linear_weight(model.weight, dtype=DataType.BFLOAT16)
        if model.bias is not None:
            converted["bias"] = preprocess_linear_bias(model.bias, dtype=DataType.BFLOAT16)
    elif isinstance(model, torch.nn.LayerNorm):
        converted["weight"] = preprocess_layernorm_parameter(model.weight, dtype=DataType.BFLOAT16)
        converted["bias"] = preprocess_layernorm_parameter(model.bias, dtype=DataType.BFLOAT16)
    elif isinstance(model, torch.nn.Embedding):
        converted["weight"] = preprocess_embedding_weight(model.weight, dtype=DataType.BFLOAT16)
    return make_parameter_dict(converted)


def _own_parameters(model: torch.nn.Module) -> Iterator[tuple[str, torch.nn.Parameter]]:
    """The module's own parameters, not its children's."""
    return model.named_parameters(recurse=False)


def _call_custom(
    custom_preprocessor: Preprocessor, model: torch.nn.Module, name: str, module_args: Any, convert: ConvertToTtnn
) -> Any:
    names = list(inspect.signature(custom_preprocessor).parameters)
    if len(names) < 2:
        raise RuntimeError("Custom preprocessor must have at least two parameters: model and name")
    extra = {"ttnn_module_args": module_args, "convert_to_ttnn": convert}
    unknown = [n for n in names[2:] if n not in extra]
    if unknown:
        raise RuntimeError(f"Unsupported parameter: {unknown[0]}")
    return custom_preprocessor(model, name, **{n: extra[n] for n in names[2:]})


def convert_torch_model_to_ttnn_model(
    model: torch.nn.Module,
    *,
    convert_to_ttnn: ConvertToTtnn,
    custom_preprocessor: Preprocessor | None,
    name: str,
    ttnn_module_args: Any,
) -> Any:
    """The parameter tree of ``model``: the custom preprocessor's answer where it gives one, else the default
    preprocessor's, else every own parameter (as a bfloat16 host tensor where ``convert_to_ttnn`` says so, as the
    torch tensor otherwise) and each child's tree under its name."""

    def convert_child(child: torch.nn.Module, child_name: Any, args: Any) -> Any:
        return convert_torch_model_to_ttnn_model(
            child,
            convert_to_ttnn=convert_to_ttnn,
            custom_preprocessor=custom_preprocessor,
            name=child_name,
            ttnn_module_args=args,
        )

    if isinstance(model, torch.nn.ModuleList):
        return ParameterList(
            convert_child(
                child,
                f"{name}.{index}" if name else f"{index}",
                ttnn_module_args[index] if ttnn_module_args is not None else None,
            )
            for index, child in enumerate(model.children())
        )
    if custom_preprocessor is not None:
        custom = _call_custom(custom_preprocessor, model, name, ttnn_module_args, convert_to_ttnn)
        if custom:
            return make_parameter_dict(custom)

    children = list(model.named_children())
    own = list(_own_parameters(model))
    # ttnn returns this container as it is: a ParameterDict, except a plain dict for a Linear kept in torch
    parameters: dict[int | str, Any] = ParameterDict()
    if convert_to_ttnn(model, name):
        preset = default_preprocessor(model, name, ttnn_module_args)
        if preset:
            if len(preset) != len(children) + len(own):
                raise RuntimeError(
                    "Not all children or parameters were converted using default_preprocessor_parameters!"
                )
            return preset
        for parameter_name, parameter in own:
            parameters[parameter_name] = from_torch(parameter, dtype=_parameter_dtype(parameter))
    elif isinstance(model, torch.nn.Linear):
        parameters = {"weight": model.weight.T.contiguous()}
        if model.bias is not None:
            parameters["bias"] = model.bias
    else:
        parameters.update(own)
    if not children:
        return make_parameter_dict(parameters)
    for child_name, child in children:
        key: int | str = int(child_name) if child_name.isdigit() else child_name
        args = ttnn_module_args.get(key) if ttnn_module_args is not None else None
        # ttnn names a numeric child of the root by its int index, any other child by its dotted path
        child_parameters = convert_child(child, f"{name}.{key}" if name else key, args)
        if child_parameters:
            parameters[key] = child_parameters
    return parameters


# ---------------------------------------------------------------- module arguments from one run


def _module_args(module: torch.nn.Module, input_shape: tuple[int, ...], device: Any) -> ModuleArgs | None:
    """What ttnn records for a call of ``module`` on an input of ``input_shape``, or None for other modules."""
    batch, height, width = input_shape[0], input_shape[-2], input_shape[-1]
    if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
        transposed = isinstance(module, torch.nn.ConvTranspose2d)
        geometry: dict[str, Any] = {
            "in_channels": module.in_channels,
            "out_channels": module.out_channels,
            "kernel_size": module.kernel_size,
            "stride": module.stride,
            "padding": module.padding,
        }
        if transposed:
            geometry["output_padding"] = module.output_padding
        geometry.update(
            dilation=module.dilation,
            groups=module.groups,
            padding_mode=module.padding_mode,
            batch_size=batch,
            input_height=height,
            input_width=width,
            math_fidelity=MathFidelity.HiFi4,
            dtype=DataType.BFLOAT16,
            weights_dtype=DataType.BFLOAT16,
            use_1d_systolic_array=True,
            enable_auto_formatting=False,
            conv_blocking_and_parallelization_config_override={},
            device=device,
        )
        return ConvTranspose2dArgs(geometry) if transposed else Conv2dArgs(geometry)
    if isinstance(module, torch.nn.MaxPool2d):
        return MaxPool2dArgs(
            kernel_size=module.kernel_size,
            stride=module.stride,
            padding=module.padding,
            dilation=module.dilation,
            batch_size=batch,
            input_channels=input_shape[1],
            input_height=height,
            input_width=width,
            dtype=DataType.BFLOAT16,
        )
    if isinstance(module, torch.nn.GroupNorm):
        return GroupNormArgs(
            num_groups=module.num_groups,
            num_channels=module.num_channels,
            eps=module.eps,
            affine=module.affine,
            batch_size=batch,
            input_height=height,
            input_width=width,
            dtype=DataType.BFLOAT16,
        )
    return None


_graph_skip_logged = False


def _say_the_graph_is_not_drawn() -> None:
    global _graph_skip_logged
    if not _graph_skip_logged:
        _log.warning(
            "infer_ttnn_module_args: the emulator does not draw the model graph (ttnn renders model_graph.svg "
            "with graphviz); the module arguments are recorded all the same"
        )
        _graph_skip_logged = True


def _first_tensor_shape(inputs: tuple[Any, ...]) -> tuple[int, ...] | None:
    for value in inputs:
        if isinstance(value, torch.Tensor):
            return tuple(value.shape)
    return None


def infer_ttnn_module_args(
    *, model: torch.nn.Module, run_model: Callable[[torch.nn.Module], Any] | None, device: Any
) -> Any:
    """Run ``run_model(model)`` once and return the argument tree of the modules it called, or None without
    ``run_model``. A call is filed under the module whose forward made it, by the last part of its name (an int
    key is added for a numeric name); a later call of the same module replaces an earlier one."""
    if run_model is None:
        return None
    _say_the_graph_is_not_drawn()
    names = {module: name for name, module in model.named_modules()}
    root = DotAccessDict()
    open_calls: list[DotAccessDict] = []  # the argument dict of each module whose forward is running

    def entering(module: torch.nn.Module, inputs: tuple[Any, ...]) -> None:
        if not open_calls:  # the root call: its children are filed in ``root``
            open_calls.append(root)
            return
        key = names.get(module, "").rsplit(".", 1)[-1]
        shape = _first_tensor_shape(inputs)
        recorded = _module_args(module, shape, device) if shape is not None else None
        entry: Any = recorded if recorded is not None else DotAccessDict()
        parent = open_calls[-1]
        parent[key] = entry
        if key.isdigit():
            parent[int(key)] = entry
        open_calls.append(entry if recorded is None else DotAccessDict())  # what a conv calls is not recorded

    def leaving(module: torch.nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        open_calls.pop()

    handles = []
    for module in names:
        handles.append(module.register_forward_pre_hook(entering))
        handles.append(module.register_forward_hook(leaving))
    try:
        with torch.no_grad():
            run_model(model)
    finally:
        for handle in handles:
            handle.remove()
    return root


def merge_ttnn_module_args_into_parameters(
    parameters: dict[Any, Any], ttnn_module_args: Any, path: list[str] | None = None
) -> dict[Any, Any]:
    """File each module's arguments (without the device) under ``ttnn_module_args`` in its parameter dict."""
    where = path or []
    if isinstance(ttnn_module_args, ModuleArgs):
        ttnn_module_args.pop("device", None)
        parameters["ttnn_module_args"] = ttnn_module_args
        return parameters
    for key in parameters:
        if key not in ttnn_module_args:
            continue
        ours, theirs = parameters[key], ttnn_module_args[key]
        if isinstance(ours, dict) and isinstance(theirs, dict):
            merge_ttnn_module_args_into_parameters(ours, theirs, [*where, str(key)])
        elif ours != theirs:
            raise Exception("Conflict at " + ".".join([*where, str(key)]))  # ttnn raises a bare Exception here
    return parameters


def preprocess_model(
    *,
    model_name: str | None = None,
    version: str | None = None,
    initialize_model: Callable[[], torch.nn.Module] | None = None,
    convert_to_ttnn: ConvertToTtnn | None = None,
    custom_preprocessor: Preprocessor | None = None,
    device: MeshDevice | None = None,
    prefix: str = "",
    run_model: Callable[[torch.nn.Module], Any] | None = None,
    reader_patterns_cache: dict[Any, Any] | None = None,
) -> ParameterDict:
    """The parameter tree of ``initialize_model()`` (put in eval mode), with the module arguments of one
    ``run_model`` call merged in, its tensors on ``device`` when one is given. ``model_name`` and ``version`` name a
    cache ttnn uses only when configured to; the emulator never caches."""
    if initialize_model is None:
        raise TypeError("preprocess_model: initialize_model is required (the emulator keeps no model cache)")
    convert = convert_to_ttnn or (lambda model, name: True)
    model = initialize_model()
    if model.training:
        _log.warning("Putting the model in eval mode")
        model.eval()
    module_args = infer_ttnn_module_args(model=model, run_model=run_model, device=device)
    tree = convert_torch_model_to_ttnn_model(
        model,
        convert_to_ttnn=convert,
        custom_preprocessor=custom_preprocessor,
        name=prefix if prefix is not None else "",
        ttnn_module_args=module_args,
    )
    if module_args is not None:
        tree = merge_ttnn_module_args_into_parameters(tree, module_args)
    parameters = make_parameter_dict(tree)
    if device is not None:
        parameters = move_to_device(parameters, device)
    return _modules_from_args(parameters)


def _modules_from_args(parameters: Any) -> Any:
    """ttnn 0.81 turns a subtree with conv or pool arguments into ``ttnn.Conv2d`` / ``ttnn.MaxPool2d`` modules,
    which 0.81 no longer has: it fails there, unless a conv's weight is still a torch tensor."""
    if isinstance(parameters, ParameterList):
        return ParameterList(_modules_from_args(item) for item in parameters)
    if not isinstance(parameters, ParameterDict):
        return parameters
    if "ttnn_module_args" not in parameters:
        return make_parameter_dict({key: _modules_from_args(value) for key, value in parameters.items()})
    args = parameters["ttnn_module_args"]
    if isinstance(args, Conv2dArgs):
        if isinstance(parameters["weight"], torch.Tensor):
            return parameters
        raise AttributeError("module 'ttnn' has no attribute 'Conv2d'")
    if isinstance(args, MaxPool2dArgs):
        raise AttributeError("module 'ttnn' has no attribute 'MaxPool2d'")
    raise RuntimeError(f"Unsupported ttnn module args: {type(args)}")


def preprocess_model_parameters(
    *,
    model_name: str | None = None,
    version: str | None = None,
    initialize_model: Callable[[], torch.nn.Module] | None = None,
    convert_to_ttnn: ConvertToTtnn | None = None,
    custom_preprocessor: Preprocessor | None = None,
    device: MeshDevice | None = None,
    prefix: str = "",
) -> ParameterDict:
    """The parameter tree of ``initialize_model()``: ``preprocess_model`` without a run of the model."""
    return preprocess_model(
        model_name=model_name,
        version=version,
        initialize_model=initialize_model,
        convert_to_ttnn=convert_to_ttnn,
        custom_preprocessor=custom_preprocessor,
        device=device,
        prefix=prefix,
    )


__all__ = [
    "Conv2dArgs",
    "ConvTranspose2dArgs",
    "GroupNormArgs",
    "MaxPool2dArgs",
    "ModuleArgs",
    "ParameterDict",
    "ParameterList",
    "convert_torch_model_to_ttnn_model",
    "default_preprocessor",
    "fold_batch_norm2d_into_conv2d",
    "infer_ttnn_module_args",
    "make_parameter_dict",
    "merge_ttnn_module_args_into_parameters",
    "move_to_device",
    "preprocess_embedding_weight",
    "preprocess_layernorm_parameter",
    "preprocess_linear_bias",
    "preprocess_linear_weight",
    "preprocess_model",
    "preprocess_model_parameters",
    "repr_parameters",
]
