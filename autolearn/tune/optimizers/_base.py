"""The one interface every optimizer and scheduler implements: ask for a suggestion, tell a result.

The search loop (``autolearn.tune.loop``) never learns which optimizer it drives. Optimizers always
*minimize* ``TrialResult.values`` (losses); studies convert "maximize" directions before telling.

Contract (checked by ``autolearn.testing.check_optimizer``):

* ``ask(pending)`` returns a :class:`Suggestion` whose config is valid in ``space`` (inactive
  hyperparameters absent), or ``None`` when the optimizer must first hear back about a pending
  trial (a synchronous rung) or has nothing left to propose (an exhausted grid).
  ``pending`` are trials asked but not yet told, so parallel workers get different points.
* ``tell(spec, result)`` accepts any trial, including ones it never proposed: warm starts,
  meta-learning and resumed studies feed history this way.
* The same seed and the same sequence of tells give the same suggestions.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace

from autolearn.records import Status, Suggestion, TrialResult, TrialSpec
from autolearn.tune import space as spaces


class Optimizer(ABC):
    """Base class: keeps the history, an initial-design queue and the random generator."""

    name: ClassVar[str] = ""
    multi_objective: ClassVar[bool] = False  # True: uses every objective, not only the first
    # Set by the search loop to a function giving the seconds left, so that schedulers never start a
    # rung that cannot finish; None when the search has no deadline.
    time_left: Callable[[], float] | None = None
    # Maps a configuration to a group whose members cost about the same on the same data (None: no
    # group). When a trial is killed at its time or memory limit, the queued configurations of its group
    # are dropped: a warm start ranked on small tables can queue several kernel SVMs that would each be
    # killed at the limit on a large one. The optimizer's own proposals are not affected (it has seen
    # the kill). None: the queue is never pruned.
    cost_group: Callable[[Mapping[str, Any]], Hashable | None] | None = None

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.space = space
        self.n_objectives = n_objectives
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.history: list[tuple[TrialSpec, TrialResult]] = []
        self._queue: deque[Suggestion] = deque()
        self.enqueue(initial_design, origin="initial")

    # -- the interface -------------------------------------------------------------------------
    def ask(self, pending: Sequence[TrialSpec] = ()) -> Suggestion | None:
        """Next suggestion: queued configurations first, then the optimizer's own proposal."""
        if self._queue:
            return self._queue.popleft()
        return self._propose(pending)

    def tell(self, spec: TrialSpec, result: TrialResult) -> None:
        """Record a finished trial (any trial, proposed here or not)."""
        self.history.append((spec, result))
        if result.status in (Status.TIMEOUT, Status.MEMOUT):
            self._drop_queued_like(spec.config)
        self._observe(spec, result)

    def enqueue(self, configs: Iterable[Mapping[str, Any]], origin: str = "queued", budget: float = 1.0) -> None:
        """Evaluate these configurations before any proposal of the optimizer's own (warm starts)."""
        for config in configs:
            valid = spaces.to_dict(spaces.to_configuration(self.space, config))
            self._queue.append(Suggestion(valid, budget=budget, origin=origin))

    def _drop_queued_like(self, config: Mapping[str, Any]) -> None:
        """Drop the queued configurations of ``config``'s cost group (see ``cost_group``)."""
        group = None if self.cost_group is None else self.cost_group(config)
        if group is not None:
            self._queue = deque(s for s in self._queue if self.cost_group(s.config) != group)

    # -- for subclasses ------------------------------------------------------------------------
    @abstractmethod
    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        """The optimizer's own next suggestion."""

    def _observe(self, spec: TrialSpec, result: TrialResult) -> None:  # noqa: B027 - optional hook
        """Learn from a result; random search has nothing to learn."""

    def sample_random(self, n: int = 1) -> list[dict[str, Any]]:
        return spaces.sample(self.space, n, self.rng)

    def observations(self, budget: float | None = None) -> tuple[list[Mapping[str, Any]], np.ndarray]:
        """Configurations told so far (at ``budget`` when given) and their losses, shape (n, n_objectives).

        Failed trials count as the worst loss seen (as SMAC imputes crash costs), so a model
        learns to avoid regions that crash instead of ignoring them; pruned trials keep their
        last loss. Trials with no loss at all before any success are left out.
        """
        rows = [
            (spec.config, result)
            for spec, result in self.history
            if budget is None or math.isclose(spec.budget, budget)
        ]
        good = [r.values for _, r in rows if r.values and all(math.isfinite(v) for v in r.values)]
        if not good:
            return [], np.empty((0, self.n_objectives))
        worst = np.max(np.asarray(good, dtype=float), axis=0)
        configs, losses = [], []
        for config, r in rows:
            if r.values and all(math.isfinite(v) for v in r.values):
                losses.append(np.asarray(r.values[: self.n_objectives], dtype=float))
            elif r.status is Status.CANCELLED:
                continue
            else:
                losses.append(worst)
            configs.append(config)
        return configs, np.vstack(losses)

    def best(self) -> tuple[Mapping[str, Any], float] | None:
        """Best configuration on the first objective among full-budget results, if any."""
        done = [(s.config, r.loss) for s, r in self.history if r.ok and s.budget >= 1.0]
        if not done:
            return None
        return min(done, key=lambda t: t[1])


def clip_unit(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)
