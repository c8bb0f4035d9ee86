"""What every multi-fidelity scheduler shares: the budget ladder, rung bookkeeping and cost estimates.

A scheduler is an :class:`~autolearn.tune.optimizers.Optimizer`, so the search loop drives it with
``ask``/``tell`` like any other. It does not invent configurations itself: a *sampler* (any optimizer,
random search by default) proposes new ones, and the scheduler decides at which budget each runs and
which ones are continued at a higher budget ("promoted": same config, ``origin="promoted"``,
``parent=`` the lower-rung trial, so the evaluator can warm-start).

Trial ids are assigned by storage after ``ask``, so a scheduler learns them only at ``tell``: every
suggestion it makes is remembered as an outstanding *job* and matched to the told trial by
(configuration, budget, parent). Told trials that match no job are *foreign* (warm starts, resumed
studies): they feed the sampler and the cost estimates, and subclasses may place them in rungs.

Time awareness is measured, never assumed: ``expected_duration(b)`` is the mean measured duration at
budget ``b``, or scaled linearly from the nearest budget measured below (above if none is). Before
any duration is known every rung counts as affordable.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ConfigSpace import ConfigurationSpace

from autolearn.records import Status, Suggestion, TrialResult, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers.random_search import sampler_with_design

TimeLeft = Callable[[], float]


def rungs(min_budget: float, max_budget: float = 1.0, eta: float = 3) -> list[float]:
    """The budget ladder, ascending: ``max_budget * eta**-i`` for ``i = s_max .. 0``.

    ``s_max = floor(log_eta(max_budget / min_budget))``, so the lowest rung is the smallest power of
    ``1/eta`` (times ``max_budget``) that is still ``>= min_budget``; e.g. ``rungs(1/27)`` is
    ``[1/27, 1/9, 1/3, 1]`` and ``rungs(0.05)`` is ``[1/9, 1/3, 1]``.
    """
    if not 0 < min_budget <= max_budget <= 1:
        raise ValueError(f"need 0 < min_budget <= max_budget <= 1, got {min_budget!r}, {max_budget!r}")
    if eta <= 1:
        raise ValueError(f"eta must be > 1, got {eta!r}")
    s_max = math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9)
    return [max_budget * float(eta) ** -i for i in range(s_max, -1, -1)]


@dataclass
class RungEntry:
    """One told trial in a rung: what promotions are decided on and what ``rung_table`` shows."""

    trial_id: int
    config: Mapping[str, Any]
    key: str
    budget: float
    rung: int  # index into ``Scheduler.budgets``
    bracket: int
    status: Status
    loss: float  # +inf where the trial gave no loss
    parent: int | None = None
    promoted: bool = False

    @property
    def ok(self) -> bool:
        return self.status is Status.SUCCESS and math.isfinite(self.loss)

    def rank(self) -> tuple[int, float, int]:
        """Sort key: successes by loss, then everything else (failed, pruned, ...) last."""
        return (0 if self.ok else 1, self.loss, self.trial_id)


@dataclass
class _Job:
    """A suggestion handed out and not yet told."""

    key: str
    budget: float
    parent: int | None
    rung: int
    bracket: int


def top_k(entries: Iterable[RungEntry], k: int) -> list[RungEntry]:
    """The ``k`` best entries that may advance; failures never do, even when there are too few others."""
    return [e for e in sorted(entries, key=RungEntry.rank)[:k] if e.ok]


class Scheduler(Optimizer):
    """Base class: budget ladder, job matching, the rung table and measured-cost estimates.

    Subclasses implement ``_schedule(pending)`` and usually ``_place(entry)`` (what to do when a trial
    they started is told).

    Parameters
    ----------
    space : the ConfigSpace search space.
    sampler : proposes new configurations (any Optimizer); default ``RandomSearch(space, seed=seed)``,
        which evaluates the space's default configuration first. It is told every result, low
        budgets included (``spec.budget`` says which, ``Optimizer.observations(budget)`` filters), and
        its own budget is ignored. A sampler returning None counts as exhausted.
    min_budget, max_budget : lowest and highest fidelity fraction; rungs are ``rungs(min, max, eta)``.
    eta : reduction factor; the top ``1/eta`` of a rung advance, budgets grow by ``eta``.
    time_left : seconds left for trials (e.g. ``Budget.remaining``); None means no deadline.
    seed : seeds the scheduler and the default sampler.
    initial_design : configurations the sampler proposes first (they start at the lowest rung).
        ``enqueue`` keeps its meaning for every optimizer: run these, at the budget given, first;
        such trials are foreign to the rungs.

    Ranking uses the first objective only.
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        sampler: Optimizer | None = None,
        min_budget: float = 1 / 27,
        max_budget: float = 1.0,
        eta: float = 3,
        time_left: TimeLeft | None = None,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(space, n_objectives=n_objectives, seed=seed)
        self.sampler = sampler_with_design(space, sampler, initial_design, n_objectives, seed)
        self.min_budget = min_budget
        self.max_budget = max_budget
        self.eta = eta
        self.time_left = time_left
        self.budgets = rungs(min_budget, max_budget, eta)
        self.entries: dict[int, RungEntry] = {}
        self._jobs: list[_Job] = []
        self._durations: dict[float, list[float]] = {}
        self._workers = 1  # most trials seen running at once (len(pending) + 1 at an ask)
        self._exhausted = False  # the sampler had nothing more to propose

    # -- the Optimizer hooks ---------------------------------------------------------------------
    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        self._workers = max(self._workers, len(pending) + 1)
        return self._schedule(pending)

    def _observe(self, spec: TrialSpec, result: TrialResult) -> None:
        if result.status is not Status.CANCELLED and result.duration > 0:
            self._durations.setdefault(round(spec.budget, 12), []).append(float(result.duration))
        self.sampler.tell(spec, result)
        key = spaces.config_key(spec.config)
        job = next(
            (j for j in self._jobs
             if j.key == key and math.isclose(j.budget, spec.budget) and j.parent == spec.parent),
            None,
        )
        if job is None:
            self._foreign(spec, result)
            return
        self._jobs.remove(job)
        entry = RungEntry(spec.trial_id, dict(spec.config), key, spec.budget, job.rung, job.bracket,
                          result.status, result.loss, spec.parent)
        self.entries[spec.trial_id] = entry
        self._place(entry)

    @abstractmethod
    def _schedule(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        """The next suggestion: a promotion or a new configuration; None to wait or when done."""

    def _place(self, entry: RungEntry) -> None:  # noqa: B027 - optional hook
        """A trial this scheduler started was told."""

    def _foreign(self, spec: TrialSpec, result: TrialResult) -> None:  # noqa: B027 - optional hook
        """A trial this scheduler did not start was told (it already reached the sampler)."""

    # -- helpers for subclasses ------------------------------------------------------------------
    def _new_config(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        """A fresh configuration (its budget is the scheduler's to set); None once the sampler is exhausted."""
        if self._exhausted:
            return None
        suggestion = self.sampler.ask(pending)
        if suggestion is None:
            self._exhausted = True
        return suggestion

    def _issue(self, config: Mapping[str, Any], rung: int, bracket: int, *, origin: str,
               parent: RungEntry | None = None) -> Suggestion:
        """Hand out a suggestion at ``self.budgets[rung]`` and remember it as an outstanding job."""
        budget = self.budgets[rung]
        if parent is not None:
            parent.promoted = True
        parent_id = None if parent is None else parent.trial_id
        self._jobs.append(_Job(spaces.config_key(config), budget, parent_id, rung, bracket))
        return Suggestion(dict(config), budget=budget, origin=origin, parent=parent_id)

    def _promote(self, entry: RungEntry, bracket: int) -> Suggestion:
        return self._issue(entry.config, entry.rung + 1, bracket, origin="promoted", parent=entry)

    def outstanding(self, bracket: int | None = None, rung: int | None = None) -> int:
        """Jobs handed out and not yet told (optionally of one bracket / rung)."""
        return sum(1 for j in self._jobs
                   if (bracket is None or j.bracket == bracket) and (rung is None or j.rung == rung))

    # -- measured costs --------------------------------------------------------------------------
    def expected_duration(self, budget: float) -> float | None:
        """Mean measured seconds of one trial at ``budget``; None while nothing has been measured."""
        means = {b: sum(d) / len(d) for b, d in self._durations.items() if d}
        if not means:
            return None
        for b, mean in means.items():
            if math.isclose(b, budget):
                return mean
        lower = [b for b in means if b < budget]
        ref = max(lower) if lower else min(means)
        return means[ref] * budget / ref

    def rung_seconds(self, plan: Iterable[tuple[int, float]]) -> float | None:
        """Expected wall time of running ``(n_trials, budget)`` rungs one after the other.

        Each rung takes ``ceil(n / workers)`` waves of its trial duration; ``workers`` is the most
        trials seen running at once. None while no duration has been measured.
        """
        total = 0.0
        for n, budget in plan:
            seconds = self.expected_duration(budget)
            if seconds is None:
                return None
            total += math.ceil(n / self._workers) * seconds
        return total

    def affordable(self, seconds: float | None) -> bool:
        """True when work expected to take ``seconds`` fits in the time left (unknown cost fits)."""
        if self.time_left is None or seconds is None:
            return True
        return seconds <= self.time_left()

    # -- reporting -------------------------------------------------------------------------------
    def rung_table(self) -> list[dict[str, Any]]:
        """One row per told trial this scheduler placed in a rung, for leaderboards and plots."""
        return [
            {
                "trial_id": e.trial_id,
                "key": e.key,
                "config": dict(e.config),
                "budget": e.budget,
                "rung": e.rung,
                "bracket": e.bracket,
                "loss": e.loss if math.isfinite(e.loss) else None,
                "status": e.status.value,
                "promoted": e.promoted,
                "parent": e.parent,
            }
            for e in sorted(self.entries.values(), key=lambda e: e.trial_id)
        ]

    def full_budget_results(self) -> list[tuple[TrialSpec, TrialResult]]:
        """Every told trial at ``max_budget`` (foreign ones too): what ensembles and ``best`` use."""
        return [(s, r) for s, r in self.history
                if s.budget >= self.max_budget or math.isclose(s.budget, self.max_budget)]

    def best(self) -> tuple[Mapping[str, Any], float] | None:
        done = [(s.config, r.loss) for s, r in self.full_budget_results() if r.ok]
        return min(done, key=lambda t: t[1]) if done else None
