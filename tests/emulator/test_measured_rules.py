"""The output-spec rules the emulator takes from ttnn 0.81.1, each checked call by call against the real ttnn over a
mocked n150 and p150, and its values against torch.

Each case is a call in ``differential_calls``' JSON form, chosen to tell one rule apart from its neighbours (the
emulator before the rule answered each differently): binary ops' output memory config and broadcast errors,
to_memory_config's dtype, upsample of TILE inputs, concat's placement, layout and dtype rules, and the output spec of
matmul/linear of interleaved inputs into a sharded memory config. The real ttnn runs every case in one subprocess
per arch (``differential_calls.py``, as the differential test does); a case agrees when both accept with equal
output specs or both refuse. Where both accept, the emulator's values must match torch's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
import torch
from differential_calls import DEVICE_PARAMS, Call, Record, _decode, build_tensor, run_call

import pytest_ttpose
import pytest_ttpose.emulator as emulator
from pytest_ttpose.emulator import machine

pytestmark = pytest.mark.requires_ttnn

RUNNER = Path(__file__).with_name("differential_calls.py")
MockArch = Literal["n150", "p150"]
ARCHS: dict[MockArch, str] = {"n150": "wormhole_b0", "p150": "blackhole"}
Reference = Callable[[list[torch.Tensor]], torch.Tensor]
MIN_PCC = 0.99  # bfloat16 / bfloat8_b outputs of O(1) random values


@dataclass(frozen=True)
class Case:
    name: str
    call: Call
    reference: Reference | None = None  # the torch result of an accepted call (None: ttnn refuses it everywhere)


def _tensor(shape: list[int], mem: Any, layout: str = "TILE", dtype: str = "BFLOAT16") -> Any:
    return {"shape": shape, "layout": layout, "dtype": dtype, "mem": mem}


def _shard(kind: str, grid: list[int], shard: list[int], orient: str = "ROW_MAJOR") -> Any:
    return {"kind": kind, "buffer": "L1", "grid": [grid], "shard": shard, "orient": orient}


DRAM = {"kind": "interleaved", "buffer": "DRAM"}
L1 = {"kind": "interleaved", "buffer": "L1"}


def _call(op: str, inputs: list[Any], args: list[Any], **kwargs: Any) -> Call:
    return {"op": op, "inputs": inputs, "args": args, "kwargs": kwargs}


def _binary(op: str, a: Any, b: Any, **kwargs: Any) -> Call:
    return _call(op, [a, b], [{"t": 0}, {"t": 1}], **kwargs)


def _concat(tensors: list[Any], dim: int, memory_config: Any = None) -> Call:
    return _call("concat", tensors, [{"tensors": list(range(len(tensors)))}, dim], memory_config=memory_config)


def _matmul(m: int, k: int, n: int, out: Any, batch: int = 1) -> Call:
    a, b = _tensor([batch, 1, m, k], DRAM), _tensor([1, 1, k, n], DRAM)
    return _call("matmul", [a, b], [{"t": 0}, {"t": 1}], memory_config={"mem": out})


def _upsampled(values: list[torch.Tensor], scale: int, mode: str, padded_width: int | None = None) -> torch.Tensor:
    x = values[0]
    if padded_width is not None:
        x = torch.nn.functional.pad(x, (0, 0, 0, padded_width - x.shape[2]))
    x = x.permute(0, 3, 1, 2)
    out = torch.nn.functional.interpolate(x, scale_factor=scale, mode=mode)
    return out.permute(0, 2, 3, 1)


def _add(v: list[torch.Tensor]) -> torch.Tensor:
    return v[0] + v[1]


def _sub(v: list[torch.Tensor]) -> torch.Tensor:
    return v[0] - v[1]


def _matmul_values(v: list[torch.Tensor]) -> torch.Tensor:
    return v[0] @ v[1]


def _cat(dim: int) -> Reference:
    return lambda v: torch.cat(v, dim=dim)


H4 = _shard("height", [0, 0, 3, 0], [32, 64])  # [1, 1, 128, 64] on 4 cores
H2 = _shard("height", [0, 0, 1, 0], [64, 64])  # [1, 1, 128, 64] on 2 cores
W2 = _shard("width", [0, 0, 1, 0], [128, 32])  # [1, 1, 128, 64] on 2 cores
X = [1, 1, 128, 64]

CASES: list[Case] = [
    # binary_ng's output config: a sharded b over more cores wins, a tie keeps a's, a DRAM-interleaved a yields to a
    # sharded b while an L1-interleaved one does not, and the chosen shard grows with a broadcast
    Case("add: b sharded over more cores", _binary("add", _tensor(X, H2), _tensor(X, H4)), _add),
    Case("add: a's config on a tie of cores", _binary("add", _tensor(X, H2), _tensor(X, W2)), _add),
    Case("subtract: a DRAM interleaved yields to b", _binary("subtract", _tensor(X, DRAM), _tensor(X, H4)), _sub),
    Case("add: a L1 interleaved keeps its config", _binary("add", _tensor(X, L1), _tensor(X, H4)), _add),
    Case(
        "add: b's shard grows with a's batch",
        _binary(
            "add", _tensor([2, 1, 64, 64], DRAM), _tensor([1, 1, 64, 64], _shard("height", [0, 0, 1, 0], [32, 64]))
        ),
        _add,
    ),
    Case(
        "add: a scalar-like sharded a's shard grows to the output",
        _binary(
            "add", _tensor([1, 1, 1, 1], _shard("height", [0, 0, 0, 0], [32, 32])), _tensor([1, 1, 100, 100], DRAM)
        ),
        _add,
    ),
    Case(
        "add: batch dims that do not broadcast",
        _binary("add", _tensor([2, 1, 32, 32], DRAM), _tensor([3, 1, 32, 32], DRAM)),
    ),
    Case(
        "eq: last dims that do not broadcast",
        _binary("eq", _tensor([1, 1, 32, 32], DRAM), _tensor([1, 1, 32, 33], DRAM)),
    ),
    # to_memory_config: a tensor already in the target config comes back as it is; a move takes dtype
    Case(
        "to_memory_config: same config ignores dtype",
        _call(
            "to_memory_config", [_tensor(X, L1, dtype="FLOAT32")], [{"t": 0}, {"mem": L1}], dtype={"dtype": "BFLOAT16"}
        ),
        lambda v: v[0],
    ),
    Case(
        "to_memory_config: a bfloat8_b move takes dtype",
        _call(
            "to_memory_config",
            [_tensor(X, DRAM, dtype="BFLOAT8_B")],
            [{"t": 0}, {"mem": L1}],
            dtype={"dtype": "BFLOAT16"},
        ),
        lambda v: v[0],
    ),
    Case(
        "to_memory_config: a ROW_MAJOR move cannot change dtype",
        _call(
            "to_memory_config",
            [_tensor([1, 1, 64, 32], DRAM, layout="ROW_MAJOR")],
            [{"t": 0}, {"mem": L1}],
            dtype={"dtype": "FLOAT32"},
        ),
    ),
    # upsample: ROW_MAJOR out; a sharded TILE input upsamples at its padded shape in bilinear mode, not in nearest
    Case(
        "upsample: bilinear of a sharded TILE input keeps its tile padding",
        _call(
            "upsample",
            [_tensor([1, 4, 20, 64], _shard("height", [0, 0, 1, 3], [32, 64]))],
            [{"t": 0}, 3],
            mode="bilinear",
        ),
        lambda v: _upsampled(v, 3, "bilinear", padded_width=32),
    ),
    Case(
        "upsample: nearest of a sharded TILE input",
        _call(
            "upsample",
            [_tensor([1, 4, 32, 64], _shard("height", [0, 0, 1, 3], [32, 64]))],
            [{"t": 0}, 2],
            mode="nearest",
        ),
    ),
    Case(
        "upsample: nearest of an interleaved bfloat8_b TILE input is bfloat16 ROW_MAJOR",
        _call("upsample", [_tensor([1, 4, 32, 64], DRAM, dtype="BFLOAT8_B")], [{"t": 0}, 2], mode="nearest"),
        lambda v: _upsampled(v, 2, "nearest"),
    ),
    Case(
        "upsample: bilinear on one column of COL_MAJOR cores spreads the rows evenly",
        _call(
            "upsample",
            [_tensor([1, 20, 5, 64], _shard("height", [0, 0, 0, 7], [13, 64], "COL_MAJOR"), layout="ROW_MAJOR")],
            [{"t": 0}, [2, 1]],
            mode="bilinear",
        ),
        lambda v: torch.nn.functional.interpolate(
            v[0].permute(0, 3, 1, 2), scale_factor=(2, 1), mode="bilinear"
        ).permute(0, 2, 3, 1),
    ),
    # concat: DRAM by default; L1-interleaved inputs may follow an L1-sharded first one, DRAM ones may not
    Case("concat: sharded then L1 interleaved", _concat([_tensor(X, H4), _tensor(X, L1)], 2), _cat(2)),
    Case("concat: sharded then DRAM interleaved", _concat([_tensor(X, H4), _tensor(X, DRAM)], 2)),
    Case("concat: interleaved then sharded", _concat([_tensor(X, L1), _tensor(X, H4)], 2)),
    Case("concat: sharded inputs on two grids", _concat([_tensor(X, H4), _tensor(X, H2)], 2), _cat(2)),
    Case(
        "concat: a sharded output of mixed inputs",
        _concat([_tensor(X, H4), _tensor(X, L1)], 2, {"mem": _shard("height", [0, 0, 7, 0], [32, 64])}),
    ),
    Case(
        "concat: a ROW_MAJOR first input makes the output ROW_MAJOR",
        _concat([_tensor(X, DRAM, layout="ROW_MAJOR"), _tensor(X, DRAM)], 2),
        _cat(2),
    ),
    Case(
        "concat: bfloat8_b turned ROW_MAJOR joins bfloat16",
        _concat([_tensor(X, DRAM, layout="ROW_MAJOR"), _tensor(X, L1, dtype="BFLOAT8_B")], 2),
        _cat(2),
    ),
    Case(
        "concat: a ROW_MAJOR input not in whole tiles makes a TILE first one ROW_MAJOR",
        _concat(
            [_tensor([2, 1, 33, 16], DRAM, dtype="BFLOAT8_B"), _tensor([2, 1, 33, 16], DRAM, layout="ROW_MAJOR")], 1
        ),
        _cat(1),
    ),
    Case(
        "concat: an untilized height-sharded input joins an interleaved one through a transpose",
        _concat([_tensor([1, 3, 64, 45], _shard("height", [0, 0, 1, 3], [32, 64])), _tensor([1, 3, 64, 1], L1)], 3),
        _cat(3),
    ),
    Case("concat: mixed dtypes in TILE", _concat([_tensor(X, DRAM), _tensor(X, DRAM, dtype="BFLOAT8_B")], 2)),
    Case(
        "concat: untilized bfloat8_b and bfloat16 along a padded dim",
        _concat(
            [
                _tensor([1, 1, 33, 31], _shard("width", [0, 0, 0, 0], [64, 32])),
                _tensor([1, 1, 33, 45], DRAM, dtype="BFLOAT8_B"),
            ],
            3,
        ),
        _cat(3),
    ),
    Case(
        "concat: an untilized batched block-sharded input",
        _concat([_tensor([1, 3, 31, 64], _shard("block", [0, 0, 0, 0], [96, 64])), _tensor([1, 3, 31, 1], DRAM)], 3),
    ),
    Case(
        "concat: an untilized height-sharded input with an interleaved one",
        _concat([_tensor([1, 1, 64, 16], _shard("height", [0, 0, 1, 0], [32, 32])), _tensor([1, 1, 64, 32], L1)], 3),
    ),
    # matmul of interleaved inputs into a sharded memory_config: the derived program config's output spec
    Case(
        "matmul: width output over the fewest cores",
        _matmul(128, 64, 64, _shard("width", [0, 0, 0, 7], [64, 32])),
        _matmul_values,
    ),
    Case(
        "matmul: height output over the fewest cores",
        _matmul(128, 64, 64, _shard("height", [0, 0, 7, 0], [32, 64])),
        _matmul_values,
    ),
    Case(
        "matmul: block on one row is width sharded",
        _matmul(128, 64, 64, _shard("block", [0, 0, 7, 0], [128, 32])),
        _matmul_values,
    ),
    Case(
        "matmul: block on a 2D grid is one core per batch",
        _matmul(64, 64, 96, _shard("block", [0, 0, 7, 7], [32, 32]), 2),
        _matmul_values,
    ),
    Case(
        "matmul: a height-sharded input into a width-sharded output",
        _call(
            "matmul",
            [_tensor([1, 1, 64, 64], _shard("height", [0, 0, 1, 0], [32, 64])), _tensor([1, 1, 64, 64], DRAM)],
            [{"t": 0}, {"t": 1}],
            memory_config={"mem": _shard("width", [0, 0, 1, 0], [64, 32])},
        ),
    ),
    Case(
        "matmul: an output grid nine cores wide (past a Wormhole's grid)",
        _matmul(64, 64, 64, _shard("width", [0, 0, 8, 7], [64, 32])),
        _matmul_values,
    ),
    Case("matmul: block too large for one core", _matmul(576, 64, 64, _shard("block", [0, 0, 7, 7], [32, 32]))),
    Case("matmul: width output of a batched input", _matmul(128, 64, 96, _shard("width", [0, 0, 0, 7], [256, 32]), 2)),
]
CASES_BY_ID = {f"rule-{index:03d}": case for index, case in enumerate(CASES)}


def _run_real(arch: MockArch, folder: Path) -> dict[str, Record]:
    calls = [{**case.call, "id": key} for key, case in CASES_BY_ID.items()]
    calls_path, records_path = folder / f"{arch}-calls.json", folder / f"{arch}.jsonl"
    calls_path.write_text(json.dumps(calls), encoding="utf-8")
    package_root = str(Path(pytest_ttpose.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([package_root, *filter(None, [os.environ.get("PYTHONPATH")])]),
        "TT_METAL_LOGGER_LEVEL": os.environ.get("TT_METAL_LOGGER_LEVEL", "error"),
    }
    command = [sys.executable, str(RUNNER), arch, str(calls_path), str(records_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"ttnn on the mocked {arch} failed: {done.stderr[-2000:]}"
    records = [json.loads(line) for line in records_path.read_text(encoding="utf-8").splitlines() if line]
    return {record["id"]: record for record in records}


@pytest.fixture(scope="module")
def real_records(tmp_path_factory: pytest.TempPathFactory) -> dict[MockArch, dict[str, Record]]:
    folder = tmp_path_factory.mktemp("measured_rules")
    return {arch: _run_real(arch, folder) for arch in ARCHS}


@pytest.fixture
def emulated(request: pytest.FixtureRequest) -> Iterator[tuple[MockArch, Any]]:
    arch: MockArch = request.param
    machine.set_machine(ARCHS[arch], 1)
    device = emulator.open_device(**DEVICE_PARAMS)
    yield arch, device
    emulator.close_device(device)
    machine.set_machine("wormhole_b0", 1)


def _spec_or_refusal(record: Record) -> Any:
    return record["outputs"] if record["accepted"] else "refused"


@pytest.mark.parametrize("emulated", list(ARCHS), indirect=True)
@pytest.mark.parametrize("key", list(CASES_BY_ID), ids=[case.name for case in CASES])
def test_the_emulator_answers_as_ttnn_does(
    real_records: dict[MockArch, dict[str, Record]], emulated: tuple[MockArch, Any], key: str
) -> None:
    arch, device = emulated
    case = CASES_BY_ID[key]
    real = real_records[arch][key]
    ours = run_call(emulator, device, {**case.call, "id": key})
    assert _spec_or_refusal(ours) == _spec_or_refusal(real), f"{arch} {case.name}: ttnn {real}, emulator {ours}"
    assert not real["accepted"] or case.reference is not None, f"{case.name}: ttnn accepts it, give it a reference"


def _pcc(actual: torch.Tensor, expected: torch.Tensor) -> float:
    stacked = torch.stack([actual.flatten().double(), expected.flatten().double()])
    return float(torch.corrcoef(stacked)[0, 1])


# on the p150, whose wider grid takes every case with a reference (the n150 refuses the nine-core-wide grid)
@pytest.mark.parametrize("emulated", ["p150"], indirect=True)
@pytest.mark.parametrize(
    "key",
    [key for key, case in CASES_BY_ID.items() if case.reference is not None],
    ids=lambda key: CASES_BY_ID[key].name,
)
def test_accepted_calls_hold_torchs_values(emulated: tuple[MockArch, Any], key: str) -> None:
    _, device = emulated
    case = CASES_BY_ID[key]
    assert case.reference is not None
    inputs = [build_tensor(emulator, device, desc, index) for index, desc in enumerate(case.call["inputs"])]
    args = _decode(emulator, device, case.call["args"], inputs)
    kwargs = {k: _decode(emulator, device, v, inputs) for k, v in case.call["kwargs"].items() if v is not None}
    output = getattr(emulator, case.call["op"])(*args, **kwargs)
    # the values the inputs were built from, as the device stores them (bfloat16 / bfloat8_b rounding included)
    stored = [emulator.to_torch(tensor).float() for tensor in inputs]
    expected = case.reference(stored)
    actual = emulator.to_torch(output).float()
    assert list(actual.shape) == list(expected.shape)
    assert _pcc(actual, expected) >= MIN_PCC
