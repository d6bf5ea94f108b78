"""``RunnerConfig``: the one declaration of the options the infra, the basic and the performant runner take beyond
the spec's positional ``(device, device_batch_size, act_dtype, weight_dtype, resolution)``.

Each runner accepts ``config=RunnerConfig(...)`` or the same fields as keywords (``scale="s"``), so tt-metal-style
calls keep working while the parameter list is written once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import torch

ModelBuilder = Callable[..., Any]


@dataclass(frozen=True)
class RunnerConfig:
    """What to build and how to check it.

    ``weights``/``trust_weights``/``scale``/``seed`` choose the reference (and so the TT weights);
    ``reference_model``/``model_builder`` replace the reference and the TT model builder; ``torch_input_tensor`` is
    the input of the capture runs (a seeded batch by default); ``pcc_thresholds`` apply to ``check_pcc`` and, with
    ``validate_on_capture``, to the traced runner's compile and cached runs (default: the PCC floor of the dtypes,
    ``pytest_ttpose.pose.acceptance.pcc_floor``).
    """

    weights: str | None = None
    trust_weights: bool = False
    scale: str = "n"
    math_fidelity: Any = None
    cache_dir: str | None = None
    reference_model: torch.nn.Module | None = None
    model_builder: ModelBuilder | None = None
    torch_input_tensor: torch.Tensor | None = None
    pcc_thresholds: Mapping[str, float] | None = None
    validate_on_capture: bool = True
    seed: int = 0

    @classmethod
    def resolve(cls, config: RunnerConfig | None, options: Mapping[str, Any], who: str) -> RunnerConfig:
        """``config`` (or the defaults) with keyword ``options`` applied; an unknown keyword is a ``TypeError``
        that lists the known ones."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(
                f"{who} got unknown option(s) {', '.join(unknown)}; the options are: {', '.join(sorted(known))}"
            )
        return dataclasses.replace(config or cls(), **options)


__all__ = ["ModelBuilder", "RunnerConfig"]
