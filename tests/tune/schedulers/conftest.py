"""A simulated clock and workers, so schedulers can be driven asynchronously without processes."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from autolearn.records import Status, Suggestion, TrialResult, TrialSpec
from autolearn.tune.optimizers import Optimizer


@dataclass
class Simulation:
    """What happened: every ask's answer, every trial's start and finish on the simulated clock."""

    asks: list[Suggestion | None] = field(default_factory=list)
    started: list[tuple[float, TrialSpec, float]] = field(default_factory=list)  # (start, spec, duration)
    told: list[tuple[TrialSpec, TrialResult]] = field(default_factory=list)
    clock: float = 0.0

    def finish(self, trial_id: int) -> float:
        return next(start + d for start, spec, d in self.started if spec.trial_id == trial_id)


class Clock:
    def __init__(self, deadline: float) -> None:
        self.now, self.deadline = 0.0, deadline

    def left(self) -> float:
        return self.deadline - self.now


def simulate(
    optimizer: Optimizer,
    loss: Callable[[TrialSpec], float | None],
    *,
    workers: int = 1,
    n_trials: int | None = None,
    duration: Callable[[TrialSpec], float] = lambda spec: spec.budget,
    clock: Clock | None = None,
    on_ask: Callable[[Suggestion | None, Simulation], None] | None = None,
    max_cost: float | None = None,
) -> Simulation:
    """Run ``optimizer`` with ``workers`` parallel simulated workers until it stops or limits are hit.

    ``loss`` returning None makes the trial fail. Trials finish in order of their (simulated)
    duration, so random durations give a random completion order. ``max_cost`` caps the summed
    budgets of started trials.
    """
    clock = clock or Clock(float("inf"))
    sim = Simulation()
    running: list[tuple[float, int, TrialSpec, float]] = []
    cost = 0.0
    while True:
        while len(running) < workers and (n_trials is None or len(sim.started) < n_trials) \
                and (max_cost is None or cost < max_cost) and clock.now < clock.deadline:
            s = optimizer.ask([spec for _, _, spec, _ in running])
            sim.asks.append(s)
            if on_ask is not None:
                on_ask(s, sim)
            if s is None:
                break
            spec = TrialSpec(len(sim.started), dict(s.config), s.budget, s.instance, origin=s.origin, parent=s.parent)
            d = duration(spec)
            cost += spec.budget
            sim.started.append((clock.now, spec, d))
            heapq.heappush(running, (clock.now + d, spec.trial_id, spec, d))
        if not running:
            break
        finish, _, spec, d = heapq.heappop(running)
        clock.now = sim.clock = finish
        value = loss(spec)
        result = (TrialResult(spec.trial_id, Status.SUCCESS, (float(value),), duration=d) if value is not None
                  else TrialResult(spec.trial_id, Status.FAILED, (), duration=d, error="boom"))
        optimizer.tell(spec, result)
        sim.told.append((spec, result))
    return sim


@pytest.fixture
def sim():
    """The driver, as a fixture so tests in this folder share it without a package."""
    return simulate


@pytest.fixture
def make_clock():
    """``make_clock(deadline)``: a simulated clock whose ``left`` serves as a scheduler's ``time_left``."""
    return Clock
