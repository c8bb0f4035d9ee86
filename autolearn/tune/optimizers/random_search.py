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
        initial = list(initial_design)
        if default_first:
            default = spaces.default_config(space)
            if spaces.config_key(default) not in {spaces.config_key(c) for c in initial}:
                initial.insert(0, default)
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial)

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        return Suggestion(self.sample_random(1)[0], origin=self.name)
