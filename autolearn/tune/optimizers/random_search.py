"""Random search, with the space's default configuration evaluated first.

The baseline every other optimizer must beat, and the fallback they use for interleaved
exploration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ConfigSpace import ConfigurationSpace

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer


def default_first_design(space: ConfigurationSpace, initial_design: Iterable[Mapping[str, Any]]) -> list:
    """``initial_design`` led by the space's default configuration (unless it already holds it): the
    defaults are the configuration a user would try first, so a search never does worse than that."""
    initial = list(initial_design)
    default = spaces.default_config(space)
    if spaces.config_key(default) not in {spaces.config_key(c) for c in initial}:
        initial.insert(0, default)
    return initial


def sampler_with_design(space: ConfigurationSpace, sampler: Optimizer | None,
                        initial_design: Iterable[Mapping[str, Any]], n_objectives: int,
                        seed: int | None) -> Optimizer:
    """The sampler a racing or multi-fidelity wrapper proposes from, with the initial design queued in
    it: random search when none is given."""
    initial = list(initial_design)
    if sampler is None:
        return RandomSearch(space, n_objectives=n_objectives, seed=seed, initial_design=initial)
    if initial:
        sampler.enqueue(initial, origin="initial")
    return sampler


class RandomSearch(Optimizer):
    name = "random"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        default_first: bool = True,
    ) -> None:
        initial = default_first_design(space, initial_design) if default_first else list(initial_design)
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial)

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        return Suggestion(self.sample_random(1)[0], origin=self.name)
