"""Intensification over instances: race each new configuration against the incumbent on the same instances.

An *instance* is one of several evaluations whose losses are averaged into a configuration's score:
a CV fold, a dataset, a seed. Running every configuration on every instance spends most of the
budget on bad configurations; picking by one instance picks the luckiest. SMAC's intensification sits
between the two, and :class:`Intensifier` follows its idea:

* The *incumbent* is the best configuration so far. Each time a new challenger starts, the incumbent
  earns one more run on an instance it has not seen (in a seeded random order), up to
  ``max_incumbent_runs``, so the confidence in it grows over time.
* A *challenger* (from the sampler) runs on 1 of the incumbent's instances, then on 2, 4, 8, ... of
  them in total. It is *rejected* as soon as its mean loss on the instances both have run is worse
  than the incumbent's mean on exactly those instances, and it *replaces* the incumbent once it has
  run on all of the incumbent's instances with a strictly lower mean. On a tie the incumbent stays:
  it has at least as many runs, and equal configurations then never churn the incumbent.
* Failed runs (failed, crashed, timeout, memout) count as the worst loss, +inf (SMAC's default crash
  cost): a challenger that fails where the incumbent did not is rejected at once. Cancelled runs are
  forgotten, so the same (configuration, instance) may be asked again. Pruned runs keep their loss.

Parallel workers: a (configuration, instance) pair is never handed out twice while pending. When
every race waits on pending results, the intensifier starts another challenger rather than
returning None, so workers stay busy; it returns None only when the sampler has nothing to propose
and the incumbent has nothing left to run (or is running).

What the sampler learns: it is told **once per configuration**, when that configuration's race is
decided (rejected, or promoted to incumbent), with a synthetic trial whose ``instance`` is None and
whose values are the mean over the instances the configuration ran on (status ``SUCCESS``; or the
status of a failed run, without values, so the sampler applies its own failure rule). Telling once
keeps a model-based sampler's history free of duplicates; the price is that the incumbent's later
runs do not update what the sampler knows about it. Told trials whose instance is None or not one
of ``instances`` (warm starts, aggregated history) go to the sampler unchanged and take no part in
races.

Every told run is placed in the race table whether this intensifier proposed it or not, so
``load_study`` rebuilds the state by telling the stored trials again (in trial order; with parallel
workers the order of results may differ from the original, and so may an early tie-break).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ConfigSpace import ConfigurationSpace

from autolearn.records import Status, Suggestion, TrialResult, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers.random_search import sampler_with_design

ROLES = ("incumbent", "challenger", "rejected", "retired")  # retired: a former incumbent


@dataclass(frozen=True)
class _Run:
    """One told run of a configuration on an instance."""

    trial_id: int
    status: Status
    values: tuple[float, ...]
    loss: float  # first objective; +inf for a failed run
    duration: float


@dataclass
class _Racer:
    """A configuration in the race: its told runs by instance and where it stands."""

    key: str
    config: dict[str, Any]
    origin: str
    runs: dict[str, _Run] = field(default_factory=dict)
    role: str = "challenger"
    target: int = 1  # runs this challenger should have before it is judged again (1, 2, 4, ...)
    told_sampler: bool = False

    def mean(self, instances: Iterable[str]) -> float:
        losses = [self.runs[i].loss for i in instances]
        return sum(losses) / len(losses)


class Intensifier(Optimizer):
    """Races configurations from ``sampler`` against the incumbent, instance by instance.

    Parameters
    ----------
    space : the ConfigSpace search space.
    instances : names of the instances (CV folds, datasets, seeds); suggestions carry one of them in
        ``Suggestion.instance`` and the objective reads it (``trial.instance`` in a study).
    sampler : proposes new configurations (any Optimizer); default ``RandomSearch(space, seed=seed)``,
        which proposes the space's default first. It is told aggregated results (see the module doc).
    seed : seeds the instance order, the challengers' instance choice and the default sampler.
    max_incumbent_runs : most instances the incumbent runs on; default all of them. Challengers never
        run on more instances than the incumbent has.
    retries : sampler proposals of already-raced configurations tolerated per ask before falling
        back to a random configuration.
    n_objectives : races use the first objective; the sampler is told the mean of each.
    initial_design : configurations the sampler proposes first; they are raced like any other.

    Examples
    --------
    >>> opt = Intensifier(space, ["fold0", "fold1", "fold2"], sampler=TPE(space, seed=0), seed=0)
    >>> s = opt.ask()          # s.instance == one of the folds
    """

    name = "intensify"

    def __init__(
        self,
        space: ConfigurationSpace,
        instances: Sequence[str],
        *,
        sampler: Optimizer | None = None,
        seed: int | None = None,
        max_incumbent_runs: int | None = None,
        retries: int = 16,
        n_objectives: int = 1,
        initial_design: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        names = list(instances)
        if not names or any(not isinstance(i, str) for i in names) or len(set(names)) != len(names):
            raise ValueError(f"instances must be distinct strings, at least one; got {instances!r}")
        if max_incumbent_runs is None:
            max_incumbent_runs = len(names)
        if not 1 <= max_incumbent_runs <= len(names):
            raise ValueError(f"max_incumbent_runs must be in [1, {len(names)}], got {max_incumbent_runs!r}")
        super().__init__(space, n_objectives=n_objectives, seed=seed)
        self.sampler = sampler_with_design(space, sampler, initial_design, n_objectives, seed)
        self.instances = tuple(names)
        self.max_incumbent_runs = max_incumbent_runs
        self.retries = retries
        # the incumbent runs instances in this order; the first one bootstraps the race
        self._order = [names[i] for i in self.rng.permutation(len(names))]
        self._racers: dict[str, _Racer] = {}  # by config key, in order of first appearance
        self._incumbent: str | None = None
        self._intensify_due = False  # a challenger started since the incumbent's last new run

    # -- the Optimizer hooks ---------------------------------------------------------------------
    def enqueue(self, configs: Iterable[Mapping[str, Any]], origin: str = "queued", budget: float = 1.0) -> None:
        """Queue configurations in the sampler's queue, so they are raced like its proposals (on an instance)."""
        configs = list(configs)
        if configs:  # the base constructor calls this with nothing, before the sampler exists
            self.sampler.enqueue(configs, origin=origin, budget=budget)

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        busy = {(spaces.config_key(p.config), p.instance) for p in pending}
        incumbent = self._racers.get(self._incumbent) if self._incumbent else None
        if incumbent is not None and self._intensify_due:
            suggestion = self._incumbent_run(incumbent, busy)
            if suggestion is not None or not self._running(incumbent, busy):
                self._intensify_due = False  # issued, or nothing left to run: wait for the next challenger
            if suggestion is not None:
                return suggestion
        for racer in self._racers.values():  # oldest race first
            if racer.role == "challenger" and (suggestion := self._race_run(racer, incumbent, busy)):
                return suggestion
        config, origin = self._fresh_config(pending)
        if config is None:  # the sampler has nothing now: spend the run on the incumbent
            return None if incumbent is None else self._incumbent_run(incumbent, busy)
        racer = _Racer(spaces.config_key(config), config, origin)
        self._racers[racer.key] = racer
        self._intensify_due = incumbent is not None
        return self._race_run(racer, incumbent, busy)

    def _observe(self, spec: TrialSpec, result: TrialResult) -> None:
        if spec.instance not in self.instances:
            self.sampler.tell(spec, result)  # an aggregated (or foreign) result: the sampler's alone
            return
        if result.status is Status.CANCELLED:
            return
        key = spaces.config_key(spec.config)
        racer = self._racers.get(key)
        if racer is None:  # not proposed here: a resumed study or another process
            racer = self._racers[key] = _Racer(key, dict(spec.config), spec.origin)
        finished = result.status in (Status.SUCCESS, Status.PRUNED)
        loss = result.loss if finished else math.inf
        racer.runs[spec.instance] = _Run(spec.trial_id, result.status, tuple(result.values), loss,
                                         float(result.duration))
        if self._incumbent is None:
            self._promote(racer)
        elif racer.role == "challenger":
            self._judge(racer)

    # -- racing ----------------------------------------------------------------------------------
    def _incumbent_run(self, incumbent: _Racer, busy: set[tuple[str, str | None]]) -> Suggestion | None:
        """One more instance for the incumbent, one at a time, while under ``max_incumbent_runs``."""
        if self._running(incumbent, busy) or len(incumbent.runs) >= self.max_incumbent_runs:
            return None
        instance = next((i for i in self._order if i not in incumbent.runs), None)
        if instance is None:
            return None
        return Suggestion(dict(incumbent.config), instance=instance, origin="incumbent")

    def _race_run(self, racer: _Racer, incumbent: _Racer | None,
                  busy: set[tuple[str, str | None]]) -> Suggestion | None:
        """The challenger's next run on an instance the incumbent has, up to its current target."""
        pool = [self._order[0]] if incumbent is None else [i for i in self._order if i in incumbent.runs]
        running = {i for k, i in busy if k == racer.key}
        have = set(racer.runs) | running
        free = [i for i in pool if i not in have]
        if not free or len(have) >= min(racer.target, len(pool)):
            return None  # waiting for its pending runs, or for a verdict
        instance = free[int(self.rng.integers(len(free)))]
        return Suggestion(dict(racer.config), instance=instance, origin=racer.origin)

    def _judge(self, racer: _Racer) -> None:
        """Reject, promote or let a challenger go on, from its runs shared with the incumbent."""
        incumbent = self._racers[self._incumbent]  # type: ignore[index]
        shared = [i for i in racer.runs if i in incumbent.runs]
        if not shared:
            return  # it ran elsewhere only (foreign runs); its race goes on on the incumbent's instances
        mine, theirs = racer.mean(shared), incumbent.mean(shared)
        if mine > theirs:
            self._decide(racer, "rejected")
        elif all(i in racer.runs for i in incumbent.runs):
            if mine < theirs:
                self._promote(racer)
            else:
                self._decide(racer, "rejected")  # a tie keeps the incumbent
        elif len(racer.runs) >= racer.target:
            racer.target *= 2

    def _promote(self, racer: _Racer) -> None:
        if self._incumbent is not None:
            self._racers[self._incumbent].role = "retired"
        self._incumbent = racer.key
        self._decide(racer, "incumbent")
        for other in list(self._racers.values()):  # races go on against the new incumbent
            if self._incumbent != racer.key:
                break  # ``other`` dethroned it in a nested verdict, which judged the rest
            if other.role == "challenger":
                self._judge(other)

    def _decide(self, racer: _Racer, role: str) -> None:
        """A race ended: record the verdict and tell the sampler the aggregated result, once."""
        racer.role = role
        if racer.told_sampler:
            return
        racer.told_sampler = True
        spec, result = self._aggregate(racer)
        self.sampler.tell(spec, result)

    def _aggregate(self, racer: _Racer) -> tuple[TrialSpec, TrialResult]:
        """The synthetic trial the sampler learns from: the mean over the instances a config ran on.

        Its ``trial_id`` is the latest run's, ``instance`` is None, ``duration`` the sum of the runs'
        (the cost of the verdict) and ``info`` has the per-instance losses.
        """
        runs = list(racer.runs.values())
        last = max(r.trial_id for r in runs)
        spec = TrialSpec(last, dict(racer.config), 1.0, None, origin=racer.origin)
        info = {"instances": {i: (r.loss if math.isfinite(r.loss) else None) for i, r in racer.runs.items()}}
        duration = sum(r.duration for r in runs)
        failed = next((r for r in runs if not math.isfinite(r.loss)), None)
        if failed is not None or any(len(r.values) < self.n_objectives for r in runs):
            status = failed.status if failed is not None else Status.FAILED
            return spec, TrialResult(last, status, (), duration, info=info)
        means = tuple(sum(r.values[j] for r in runs) / len(runs) for j in range(self.n_objectives))
        return spec, TrialResult(last, Status.SUCCESS, means, duration, info=info)

    def _fresh_config(self, pending: Sequence[TrialSpec]) -> tuple[dict[str, Any] | None, str]:
        """A configuration never raced: the sampler's, else random after ``retries`` duplicates.

        The sampler's pending trials are the configurations it has not heard back about: every
        undecided race (running or not) and whatever else is running, once per configuration.
        """
        waiting = {r.key: TrialSpec(-1, dict(r.config), origin=r.origin)
                   for r in self._racers.values() if not r.told_sampler}
        for p in pending:
            waiting.setdefault(spaces.config_key(p.config), p)
        unique = list(waiting.values())
        for _ in range(self.retries):
            suggestion = self.sampler.ask(unique)
            if suggestion is None:
                return None, ""
            if spaces.config_key(suggestion.config) not in self._racers:
                return dict(suggestion.config), suggestion.origin
        for config in self.sample_random(self.retries):
            if spaces.config_key(config) not in self._racers:
                return config, "random"
        return None, ""

    @staticmethod
    def _running(racer: _Racer, busy: set[tuple[str, str | None]]) -> bool:
        return any(k == racer.key for k, _ in busy)

    # -- results ---------------------------------------------------------------------------------
    def incumbent(self) -> tuple[dict[str, Any], dict[str, float]] | None:
        """The incumbent configuration and its loss on each instance it ran (+inf where it failed)."""
        if self._incumbent is None:
            return None
        racer = self._racers[self._incumbent]
        return dict(racer.config), {i: racer.runs[i].loss for i in self._order if i in racer.runs}

    def best(self) -> tuple[Mapping[str, Any], float] | None:
        """The incumbent and its mean loss: a single lucky run is not the best configuration here."""
        found = self.incumbent()
        if found is None:
            return None
        config, losses = found
        return config, sum(losses.values()) / len(losses)

    def race_table(self) -> list[dict[str, Any]]:
        """One row per told run placed in a race, for reports: who ran where, with what loss and role."""
        rows = [
            {
                "trial_id": run.trial_id,
                "key": racer.key,
                "config": dict(racer.config),
                "instance": instance,
                "loss": run.loss if math.isfinite(run.loss) else None,
                "status": run.status.value,
                "role": racer.role,
            }
            for racer in self._racers.values()
            for instance, run in racer.runs.items()
        ]
        return sorted(rows, key=lambda r: r["trial_id"])


__all__ = ["ROLES", "Intensifier"]
