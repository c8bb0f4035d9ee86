"""NSGA-II (Deb et al., 2002) for multi-objective HPO on mixed, conditional spaces.

Selection is the classic one: non-dominated sorting, then crowding distance to keep the front
spread out, binary tournaments on (front, crowding) to pick parents. Variation is uniform
crossover (each active hyperparameter from either parent, children consistent with the chosen
branch; optionally SBX for numbers both parents share) followed by mutation, both from
:mod:`._mutation`.

Generational NSGA-II would wait for a whole offspring batch; here it runs steady-state: on each ask
the population is updated elitistically with every result that arrived since (the best
``population_size`` of old population + newcomers survive) and one child is bred. Workers never wait
for a generation, and foreign results simply join the competition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._mutation import ConfigOperators, SeenKeys, first_new
from autolearn.tune.pareto import crowding_distance, non_dominated_sort, pareto_front

__all__ = ["NSGA2", "pareto_front"]


def rank_and_crowding(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Front index and within-front crowding distance of every row."""
    ranks = non_dominated_sort(values)
    crowd = np.zeros(len(values))
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        crowd[members] = crowding_distance(values[members])
    return ranks, crowd


def select_survivors(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best rows by (front, -crowding): NSGA-II's elitist truncation."""
    if len(values) <= k:
        return np.arange(len(values))
    ranks, crowd = rank_and_crowding(values)
    order = np.lexsort((np.arange(len(values)), -crowd, ranks))  # ties: older first, deterministic
    return np.sort(order[:k])


class NSGA2(Optimizer):
    """Steady-state NSGA-II.

    Parameters
    ----------
    population_size : int, default 20
        Survivors kept; the first ``population_size`` proposals are random (after any queued design).
    crossover_prob : float, default 0.9
        Probability a child mixes two parents; otherwise it is a mutated copy of one.
    mutation_rate : float or None, default None
        Per-hyperparameter mutation probability; None means 1 / (active hyperparameters), Deb's
        default. At least one hyperparameter always changes.
    crossover : {"uniform", "sbx"}, default "uniform"
        How numbers both parents share are combined; categoricals always use uniform crossover.
    mutation_scale : float, default 0.1
        Standard deviation of numeric mutation steps in the normalized vector.
    """

    name = "nsga2"
    multi_objective = True

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 2,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        population_size: int = 20,
        crossover_prob: float = 0.9,
        mutation_rate: float | None = None,
        crossover: str = "uniform",
        mutation_scale: float = 0.1,
    ) -> None:
        if population_size < 2:
            raise ValueError(f"population_size must be at least 2, got {population_size}")
        if crossover not in ("uniform", "sbx"):
            raise ValueError(f"crossover must be 'uniform' or 'sbx', got {crossover!r}")
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        self.population_size = population_size
        self.crossover_prob = crossover_prob
        self.mutation_rate = mutation_rate
        self.crossover = crossover
        self.mutation_scale = mutation_scale
        self._ops = ConfigOperators(space)
        self._seen = SeenKeys()
        self._population: list[int] = []  # indices into observations()
        self._n_seen = 0

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        configs, values = self.observations()
        n = len(configs)
        seen = self._seen(self.history, pending)
        random = lambda: self.sample_random(1)[0]  # noqa: E731
        if n < 2 or (n < self.population_size and n + len(pending) < self.population_size):
            return Suggestion(first_new(random, seen, random), origin="random")
        # observations() only grows (failures are imputed, cancellations skipped), so indices are stable
        candidates = np.asarray(self._population + list(range(self._n_seen, n)), dtype=int)
        self._population = [int(i) for i in candidates[select_survivors(values[candidates], self.population_size)]]
        self._n_seen = n
        pop = np.asarray(self._population)
        ranks, crowd = rank_and_crowding(values[pop])

        def tournament() -> dict[str, Any]:
            a, b = self.rng.choice(len(pop), size=2, replace=len(pop) < 2)
            better = a if (ranks[a], -crowd[a]) < (ranks[b], -crowd[b]) else b
            if ranks[a] == ranks[b] and crowd[a] == crowd[b]:
                better = a if self.rng.random() < 0.5 else b
            return dict(configs[int(pop[better])])

        def child() -> dict[str, Any]:
            first, second = tournament(), tournament()
            if self.rng.random() < self.crossover_prob:
                first = self._ops.crossover(first, second, self.rng, numeric=self.crossover)
            rate = self.mutation_rate if self.mutation_rate is not None else 1.0 / max(len(first), 1)
            return self._ops.mutate(first, self.rng, rate=rate, scale=self.mutation_scale)

        return Suggestion(first_new(child, seen, random, valid=self._ops.valid), origin=self.name)
