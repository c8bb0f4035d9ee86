"""Search strategies for networks: the package's optimizers and schedulers, plus DARTS.

Nothing here re-implements a search method. Random search, regularized evolution ("evolution", Real
et al.'s NAS method), the REINFORCE controller ("rl", Zoph & Le's) and TPE are the optimizers of
:mod:`autolearn.tune.optimizers`; BOHB and Hyperband are its schedulers, with epochs as the fidelity
(a budget fraction ``b`` trains ``round(b * max_epochs)`` epochs, and a promoted trial continues its
parent's network). Only DARTS (:mod:`autolearn.nas.darts`) is specific to networks.
"""

from __future__ import annotations

from ConfigSpace import ConfigurationSpace

from autolearn.data.validation import check_choice
from autolearn.tune.optimizers import Optimizer, make_optimizer

OPTIMIZER_STRATEGIES = ("random", "evolution", "rl", "tpe")
SCHEDULER_STRATEGIES = ("bohb", "hyperband")
STRATEGIES: tuple[str, ...] = (*OPTIMIZER_STRATEGIES, *SCHEDULER_STRATEGIES, "darts")
MULTI_FIDELITY = frozenset(SCHEDULER_STRATEGIES)


def min_budget_for(max_epochs: int, eta: int = 3) -> float:
    """The lowest rung: a ninth of the epochs, but never a rung under 3 epochs (a curve needs a few)."""
    fraction = 1 / eta**2
    while fraction < 1 and fraction * max_epochs < 3:
        fraction *= eta
    return min(fraction, 1.0)


def make_strategy(name: str, space: ConfigurationSpace, *, seed: int | None, max_epochs: int) -> Optimizer:
    """The optimizer behind ``strategy=name`` for a network ``space`` (see :data:`STRATEGIES`)."""
    check_choice("strategy", name, STRATEGIES)
    if name == "darts":
        from autolearn.nas.darts import DARTS

        return DARTS(space, seed=seed)
    if name in MULTI_FIDELITY:
        from autolearn.tune.schedulers import make_scheduler

        return make_scheduler(name, space, seed=seed, min_budget=min_budget_for(max_epochs), eta=3)
    return make_optimizer(name, space, seed=seed)
