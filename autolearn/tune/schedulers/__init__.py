"""Multi-fidelity schedulers: optimizers that also decide budgets and promotions.

They implement the same ask/tell interface as every optimizer (the search loop cannot tell them
apart) and wrap a *sampler*, any :class:`~autolearn.tune.optimizers.Optimizer`, that proposes new
configurations. They need nothing beyond numpy, scipy and ConfigSpace, so they are imported eagerly.
"""

from __future__ import annotations

from typing import Any

from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.schedulers._base import RungEntry, Scheduler, rungs
from autolearn.tune.schedulers.asha import ASHA
from autolearn.tune.schedulers.bohb import BOHB
from autolearn.tune.schedulers.hyperband import Hyperband, hyperband_brackets
from autolearn.tune.schedulers.successive_halving import SuccessiveHalving
from autolearn.tune.space import SpaceLike, as_configspace

SCHEDULERS: dict[str, type[Scheduler]] = {
    "sh": SuccessiveHalving,
    "hyperband": Hyperband,
    "asha": ASHA,
    "bohb": BOHB,
}


def make_scheduler(name: str, space: SpaceLike, sampler: Optimizer | None = None, **kwargs: Any) -> Scheduler:
    """A scheduler by name, e.g. ``make_scheduler("asha", space, sampler=my_tpe, min_budget=1/9)``.

    ``space`` may be a ConfigSpace space or the dict form of :mod:`autolearn.tune.space`; the other
    keywords go to the scheduler (``min_budget``, ``eta``, ``time_left``, ``seed``, ...).
    """
    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}; expected one of {', '.join(SCHEDULERS)}")
    return SCHEDULERS[name](as_configspace(space, seed=kwargs.get("seed")), sampler=sampler, **kwargs)


__all__ = [
    "ASHA", "BOHB", "SCHEDULERS", "Hyperband", "RungEntry", "Scheduler", "SuccessiveHalving",
    "hyperband_brackets", "make_scheduler", "rungs",
]
