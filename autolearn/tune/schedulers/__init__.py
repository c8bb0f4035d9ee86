"""Multi-fidelity schedulers: optimizers that also decide budgets and promotions.

They implement the same ask/tell interface as every optimizer (the search loop cannot tell them
apart) and wrap a *sampler*, any :class:`~autolearn.tune.optimizers.Optimizer`, that proposes new
configurations. Modules are imported lazily, as optimizers are.
"""

from __future__ import annotations

import importlib
from typing import Any

from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.schedulers._base import RungEntry, Scheduler, rungs

# name -> "module:Class"
_SCHEDULERS: dict[str, str] = {
    "sh": "autolearn.tune.schedulers.successive_halving:SuccessiveHalving",
    "hyperband": "autolearn.tune.schedulers.hyperband:Hyperband",
    "asha": "autolearn.tune.schedulers.asha:ASHA",
    "bohb": "autolearn.tune.schedulers.bohb:BOHB",
}


class _Registry(dict):
    """``SCHEDULERS[name]`` is the class; looking it up imports only that module."""

    def __getitem__(self, name: str) -> type[Scheduler]:
        return get_scheduler_class(name)

    def values(self):  # type: ignore[override]
        return [get_scheduler_class(n) for n in self]

    def items(self):  # type: ignore[override]
        return [(n, get_scheduler_class(n)) for n in self]


def get_scheduler_class(name: str) -> type[Scheduler]:
    if name not in _SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}; expected one of {', '.join(_SCHEDULERS)}")
    module, cls = _SCHEDULERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


SCHEDULERS: dict[str, type[Scheduler]] = _Registry.fromkeys(_SCHEDULERS)  # type: ignore[assignment]


def make_scheduler(name: str, space: Any, sampler: Optimizer | None = None, **kwargs: Any) -> Scheduler:
    """A scheduler by name, e.g. ``make_scheduler("asha", space, sampler=TPE(space), min_budget=1/9)``.

    ``space`` may be a ConfigSpace space or the dict form of :mod:`autolearn.tune.space`.
    """
    from autolearn.tune.space import as_configspace

    return get_scheduler_class(name)(as_configspace(space, seed=kwargs.get("seed")), sampler=sampler, **kwargs)


__all__ = ["SCHEDULERS", "RungEntry", "Scheduler", "get_scheduler_class", "make_scheduler", "rungs"]
