"""The emulator's ``model_preprocessing`` gives what the real ``ttnn.model_preprocessing`` 0.81.1 gives on the same
torch modules: the same parameter tree (keys, int keys for numeric children, ParameterList for ModuleList), the same
tensors (shape, dtype, layout, stored values bit for bit) and the same module-argument tree.

The real ``infer_ttnn_module_args`` renders the traced graph with graphviz's ``dot``, which is not installed here;
the tests replace its ``visualize`` with a no-op (drawing does not change the arguments).
"""

from __future__ import annotations

import enum
import importlib
import logging
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import torch

import pytest_ttpose.emulator as emulator
from pytest_ttpose.emulator import model_preprocessing as emulated

pytestmark = pytest.mark.requires_ttnn


class ConvBnAct(torch.nn.Module):
    """YOLO's Conv block: conv without bias, batch norm, SiLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False)
        self.bn = torch.nn.BatchNorm2d(c_out)
        self.act = torch.nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class TinyYolo(torch.nn.Module):
    """Nested children as YOLO code has them: a Sequential backbone, SPPF's pool, a ModuleList head, a group norm
    and a transposed conv each called twice, a Linear, a module never called, and a parameter of the root."""

    def __init__(self) -> None:
        super().__init__()
        self.model = torch.nn.Sequential(ConvBnAct(3, 16, 3, 2), ConvBnAct(16, 32, 3, 2))
        self.pool = torch.nn.MaxPool2d(5, 1, 2)
        self.head = torch.nn.ModuleList([ConvBnAct(32, 8, 1), ConvBnAct(32, 8, 1)])
        self.norm = torch.nn.GroupNorm(4, 8)
        self.up = torch.nn.ConvTranspose2d(8, 8, 2, 2)
        self.fc = torch.nn.Linear(8, 5)
        self.unused = torch.nn.Conv2d(1, 1, 1)
        self.scale = torch.nn.Parameter(torch.linspace(-1.0, 1.0, 7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.model(x))
        outs = [self.up(self.norm(h(x))) for h in self.head]
        return self.fc(outs[0].mean(dim=(2, 3))) + outs[1].sum()


def _seeded(model: torch.nn.Module) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator))  # type: ignore[union-attr]
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)  # type: ignore[union-attr]
    return model.eval()


def conv_bn() -> torch.nn.Module:
    return _seeded(ConvBnAct(3, 16))


def tiny_yolo() -> torch.nn.Module:
    return _seeded(TinyYolo())


def run_tiny_yolo(model: torch.nn.Module) -> Any:
    return model(torch.randn(2, 3, 64, 48, generator=torch.Generator().manual_seed(1)))


def folding_preprocessor(api: ModuleType, preprocessing: Any) -> Callable[[torch.nn.Module, str], dict[str, Any]]:
    """A YOLO-style custom preprocessor: fold each Conv block's batch norm into its conv, as float32 host tensors."""

    def preprocess(model: torch.nn.Module, name: str) -> dict[str, Any]:
        if not isinstance(model, ConvBnAct):
            return {}
        weight, bias = preprocessing.fold_batch_norm2d_into_conv2d(model.conv, model.bn)
        return {
            "conv": {
                "weight": api.from_torch(weight, dtype=api.float32),
                "bias": api.from_torch(bias.reshape(1, 1, 1, -1), dtype=api.float32),
            }
        }

    return preprocess


def linears_stay_torch(model: torch.nn.Module, name: str) -> bool:
    return not isinstance(model, torch.nn.Linear)


@pytest.fixture(scope="module")
def real_preprocessing(real_host: ModuleType) -> Iterator[Any]:
    module = importlib.import_module("ttnn.model_preprocessing")
    patch = pytest.MonkeyPatch()
    patch.setattr(module, "visualize", lambda *args, **kwargs: None)  # no graphviz here; drawing changes nothing
    try:
        yield module
    finally:
        patch.undo()


def bits(values: torch.Tensor) -> torch.Tensor:
    return values.view(torch.int16) if values.dtype == torch.bfloat16 else values


def plain(value: Any) -> Any:
    """A comparable description of a tree node: container kind and contents, tensors by spec and stored bits."""
    if isinstance(value, dict):
        return (type(value).__name__, {key: plain(item) for key, item in value.items()})
    if isinstance(value, list):
        return (type(value).__name__, [plain(item) for item in value])
    if isinstance(value, torch.Tensor):
        return ("torch", tuple(value.shape), str(value.dtype), bits(value.detach()))
    if isinstance(value, enum.Enum) or type(value).__name__ in ("DataType", "MathFidelity", "Layout"):
        return ("enum", type(value).__name__, value.name)
    if hasattr(value, "padded_shape"):  # a ttnn or emulator tensor
        api = importlib.import_module("ttnn" if type(value).__module__.startswith("ttnn") else emulator.__name__)
        return ("tensor", tuple(value.shape), value.dtype.name, value.layout.name, bits(api.to_torch(value)))
    return value


def assert_same_tree(ours: Any, theirs: Any, path: str = "") -> None:
    kind_ours, kind_theirs = type(ours).__name__, type(theirs).__name__
    if isinstance(ours, dict) or isinstance(theirs, dict):
        assert kind_ours == kind_theirs, f"{path}: {kind_ours} here, {kind_theirs} in ttnn"
        assert list(ours) == list(theirs), f"{path}: keys {list(ours)} here, {list(theirs)} in ttnn"
        for key in ours:
            assert_same_tree(ours[key], theirs[key], f"{path}.{key!r}")
        return
    if isinstance(ours, list) or isinstance(theirs, list):
        assert kind_ours == kind_theirs and len(ours) == len(theirs), f"{path}: {kind_ours} vs {kind_theirs}"
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same_tree(a, b, f"{path}[{index}]")
        return
    a, b = plain(ours), plain(theirs)
    if isinstance(a, tuple) and a and a[0] in ("tensor", "torch"):
        assert a[:-1] == b[:-1], f"{path}: {a[:-1]} here, {b[:-1]} in ttnn"
        assert torch.equal(a[-1], b[-1]), f"{path}: stored values differ"
        return
    assert a == b, f"{path}: {a!r} here, {b!r} in ttnn"


@pytest.mark.parametrize("make_model", [conv_bn, tiny_yolo], ids=["conv-bn", "tiny-yolo"])
def test_default_preprocessing_matches_ttnn(make_model: Callable[[], torch.nn.Module], real_preprocessing: Any) -> None:
    ours = emulated.preprocess_model_parameters(initialize_model=make_model)
    theirs = real_preprocessing.preprocess_model_parameters(initialize_model=make_model)
    assert_same_tree(ours, theirs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make_model", [conv_bn, tiny_yolo], ids=["conv-bn", "tiny-yolo"])
def test_folding_custom_preprocessor_matches_ttnn(
    make_model: Callable[[], torch.nn.Module], real_preprocessing: Any, real_host: ModuleType
) -> None:
    ours = emulated.preprocess_model_parameters(
        initialize_model=make_model, custom_preprocessor=folding_preprocessor(emulator, emulated)
    )
    theirs = real_preprocessing.preprocess_model_parameters(
        initialize_model=make_model, custom_preprocessor=folding_preprocessor(real_host, real_preprocessing)
    )
    assert_same_tree(ours, theirs)


def test_modules_left_in_torch_and_a_prefix_match_ttnn(real_preprocessing: Any) -> None:
    names: dict[str, list[Any]] = {"ours": [], "theirs": []}

    def recording(into: list[Any]) -> Callable[[torch.nn.Module, str], dict[str, Any]]:
        def preprocess(model: torch.nn.Module, name: Any) -> dict[str, Any]:
            into.append(name)
            return {}

        return preprocess

    ours = emulated.preprocess_model_parameters(
        initialize_model=tiny_yolo, convert_to_ttnn=linears_stay_torch, custom_preprocessor=recording(names["ours"])
    )
    theirs = real_preprocessing.preprocess_model_parameters(
        initialize_model=tiny_yolo, convert_to_ttnn=linears_stay_torch, custom_preprocessor=recording(names["theirs"])
    )
    assert_same_tree(ours, theirs)
    assert names["ours"] == names["theirs"]  # the names each module is preprocessed under, ints and dots included
    assert isinstance(ours["fc"]["weight"], torch.Tensor) and ours["fc"]["weight"].shape == (8, 5)


def test_fold_batch_norm_matches_ttnn_and_torch(real_preprocessing: Any) -> None:
    block = conv_bn()
    weight, bias = emulated.fold_batch_norm2d_into_conv2d(block.conv, block.bn)
    real_weight, real_bias = real_preprocessing.fold_batch_norm2d_into_conv2d(block.conv, block.bn)
    torch.testing.assert_close(weight, real_weight, rtol=0, atol=0)
    torch.testing.assert_close(bias, real_bias, rtol=0, atol=0)
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        folded = torch.nn.functional.conv2d(x, weight, bias, padding=1)
        torch.testing.assert_close(folded, block.bn(block.conv(x)), rtol=1e-4, atol=1e-4)


def test_fold_refuses_batch_norm_without_running_stats() -> None:
    block = ConvBnAct(3, 4)
    block.bn = torch.nn.BatchNorm2d(4, track_running_stats=False)
    with pytest.raises(RuntimeError, match="track_running_stats=True"):
        emulated.fold_batch_norm2d_into_conv2d(block.conv, block.bn)


def test_module_args_match_ttnn(real_preprocessing: Any, caplog: pytest.LogCaptureFixture) -> None:
    model = tiny_yolo()
    with caplog.at_level(logging.WARNING):
        ours = emulated.infer_ttnn_module_args(model=model, run_model=run_tiny_yolo, device=None)
    theirs = real_preprocessing.infer_ttnn_module_args(model=model, run_model=run_tiny_yolo, device=None)
    assert_same_tree(ours, theirs)
    assert ours.model[1].conv.input_height == 32 and ours.pool.input_channels == 32  # dot access, int keys
    assert emulated.infer_ttnn_module_args(model=model, run_model=None, device=None) is None


def test_preprocess_model_merges_module_args_as_ttnn_does(real_preprocessing: Any) -> None:
    def run(model: torch.nn.Module) -> Any:
        return model(torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3)))

    # A conv left in torch keeps its arguments; a converted one would need ttnn.Conv2d, which 0.81 lacks.
    keep_convs_torch = {"convert_to_ttnn": lambda model, name: not isinstance(model, torch.nn.Conv2d)}
    ours = emulated.preprocess_model(initialize_model=conv_bn, run_model=run, **keep_convs_torch)
    theirs = real_preprocessing.preprocess_model(initialize_model=conv_bn, run_model=run, **keep_convs_torch)
    assert_same_tree(ours, theirs)
    args = ours["conv"]["ttnn_module_args"]
    assert isinstance(args, emulated.Conv2dArgs) and args.input_height == 32 and "device" not in args


def test_preprocess_model_fails_where_ttnn_would_build_a_module_it_lacks(real_preprocessing: Any) -> None:
    for api in (emulated, real_preprocessing):
        with pytest.raises(AttributeError, match="has no attribute 'Conv2d'"):
            api.preprocess_model(initialize_model=conv_bn, run_model=lambda m: m(torch.zeros(1, 3, 8, 8)))


def test_the_graph_is_not_drawn_and_that_is_said(caplog: pytest.LogCaptureFixture) -> None:
    emulated._graph_skip_logged = False
    with caplog.at_level(logging.WARNING, logger=emulated.__name__):
        emulated.infer_ttnn_module_args(model=conv_bn(), run_model=lambda m: m(torch.zeros(1, 3, 8, 8)), device=None)
        emulated.infer_ttnn_module_args(model=conv_bn(), run_model=lambda m: m(torch.zeros(1, 3, 8, 8)), device=None)
    said = [r for r in caplog.records if "does not draw the model graph" in r.getMessage()]
    assert len(said) == 1


def test_parameters_move_to_the_emulated_device(device: emulator.MeshDevice) -> None:
    parameters = emulated.preprocess_model_parameters(initialize_model=tiny_yolo, device=device)
    assert parameters.fc.weight.storage_type() == "StorageType.DEVICE"
    assert parameters.head[1].conv.weight.device() is device
    assert parameters.scale.device() is device
