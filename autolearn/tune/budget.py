"""Budget accounting: how long and how many trials a search may still run.

Wall-clock time is measured with a monotonic clock from construction; a trial's time limit is clipped
to the time left so that no trial can run past the end of the search.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from autolearn.records import Limits


@dataclass
class Budget:
    time_budget: float | None = None  # seconds for the whole search
    max_trials: int | None = None
    min_trial_time: float = 0.5  # don't start a trial with less than this left
    reserve: Callable[[], float] = lambda: 0.0  # seconds to keep for what follows the search
    start: float = field(default_factory=time.monotonic)
    n_started: int = 0

    def __post_init__(self) -> None:
        if self.time_budget is None and self.max_trials is None:
            raise ValueError("give a time_budget, max_trials or both; an unbounded search would never end")

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        """Seconds left for trials (the reserve already taken off)."""
        if self.time_budget is None:
            return math.inf
        return self.time_budget - self.elapsed() - self.reserve()

    def time_up(self) -> bool:
        return self.remaining() <= 0

    def may_start(self) -> bool:
        if self.max_trials is not None and self.n_started >= self.max_trials:
            return False
        return self.remaining() >= self.min_trial_time

    def clip(self, limits: Limits) -> Limits:
        left = self.remaining()
        if math.isinf(left):
            return limits
        wall = left if limits.wall_time is None else min(limits.wall_time, left)
        return replace(limits, wall_time=max(wall, 0.0))
