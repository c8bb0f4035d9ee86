"""Regularized (aging) evolution (Real et al., 2019, "Regularized Evolution for Image Classifier
Architecture Search"), for any mixed, conditional space.

The population is the ``population_size`` most recently *observed* trials, so the oldest member
leaves as each new result arrives, however good it was. Aging is what distinguishes it from
plain tournament selection: a lucky noisy evaluation cannot stay parent forever, which makes the
method robust to noisy losses. Each proposal samples ``sample_size`` members, mutates the best of
them in one (or a few) hyperparameters, and repairs the child (a changed model choice activates
that model's hyperparameters with sampled values).

It needs no model, is cheap per ask and is naturally asynchronous: a proposal only needs the
current population, never a full generation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ConfigSpace import ConfigurationSpace

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._mutation import ConfigOperators, SeenKeys, first_new


class RegularizedEvolution(Optimizer):
    """Aging evolution with tournament selection.

    Parameters
    ----------
    population_size : int, default 10
        How many of the most recent results form the population (P). The first P proposals are
        random (after any queued initial design). Larger P explores more and converges later.
    sample_size : int, default 5
        Tournament size (S): higher means greedier. Real et al. used P=100, S=25 for 20,000 models;
        HPO budgets are tens to hundreds of trials, hence smaller defaults (chosen on quadratic and
        conditional test functions at 60-150 trials; P=20 was clearly worse there).
    n_mutations : int, default 1
        Hyperparameters changed per child. One keeps children close to a good parent.
    mutation_scale : float, default 0.1
        Standard deviation of numeric steps in the normalized (unit, log where log-scaled) vector.
    """

    name = "evolution"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        population_size: int = 10,
        sample_size: int = 5,
        n_mutations: int = 1,
        mutation_scale: float = 0.1,
    ) -> None:
        if population_size < 2:
            raise ValueError(f"population_size must be at least 2, got {population_size}")
        if not 1 <= sample_size:
            raise ValueError(f"sample_size must be at least 1, got {sample_size}")
        if n_mutations < 1:
            raise ValueError(f"n_mutations must be at least 1, got {n_mutations}")
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        self.population_size = population_size
        self.sample_size = sample_size
        self.n_mutations = n_mutations
        self.mutation_scale = mutation_scale
        self._ops = ConfigOperators(space)
        self._seen = SeenKeys()

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        configs, losses = self.observations()
        n = len(configs)
        seen = self._seen(self.history, pending)
        random = lambda: self.sample_random(1)[0]  # noqa: E731
        # the initial population is random; pending trials count toward it so that parallel workers
        # do not all wait for it to fill
        if n < 2 or (n < self.population_size and n + len(pending) < self.population_size):
            return Suggestion(first_new(random, seen, random), origin="random")
        population = list(range(max(0, n - self.population_size), n))  # the youngest P: aging
        loss = losses[:, 0]

        def child() -> dict[str, Any]:
            k = min(self.sample_size, len(population))
            contenders = self.rng.choice(population, size=k, replace=False)
            parent = configs[int(contenders[int(loss[contenders].argmin())])]
            return self._ops.mutate(parent, self.rng, n_changes=self.n_mutations, scale=self.mutation_scale)

        return Suggestion(first_new(child, seen, random, valid=self._ops.valid), origin=self.name)
