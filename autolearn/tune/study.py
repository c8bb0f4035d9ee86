"""A study: a search space, an optimizer and a storage, driven by ask/tell or by ``optimize``.

Values given to ``tell`` (or returned by an objective) are in the user's orientation; the study
turns them into losses for the optimizer and turns them back when it reports.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from autolearn.execution import Completed, InlineRunner, LocalRunner
from autolearn.records import Limits, Outcome, Status, TrialResult, TrialSpec
from autolearn.storage import Storage, get_storage
from autolearn.tune import space as spaces
from autolearn.tune.budget import Budget
from autolearn.tune.loop import run_search, trial_seed
from autolearn.tune.optimizers import Optimizer, make_optimizer

DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True)
class Trial:
    """A trial as users see it: its configuration and, once told, its values in their orientation."""

    spec: TrialSpec
    result: TrialResult | None = None
    directions: tuple[str, ...] = ("minimize",)

    @property
    def number(self) -> int:
        return self.spec.trial_id

    @property
    def config(self) -> Mapping[str, Any]:
        return self.spec.config

    params = config

    def __getitem__(self, name: str) -> Any:
        return self.spec.config[name]

    @property
    def budget(self) -> float:
        return self.spec.budget

    @property
    def instance(self) -> str | None:
        return self.spec.instance

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def status(self) -> str:
        return "running" if self.result is None else self.result.status.value

    @property
    def values(self) -> tuple[float, ...] | None:
        if self.result is None or not self.result.values:
            return None
        return tuple(_orient(v, d) for v, d in zip(self.result.values, self.directions))

    @property
    def value(self) -> float | None:
        values = self.values
        return None if values is None else values[0]


def _orient(value: float, direction: str) -> float:
    return -value if direction == "maximize" else value


class _TrialObjective:
    """Runs a user objective ``fn(trial)`` in a worker and turns what it returns into losses."""

    def __init__(self, fn: Callable[[Trial], Any], directions: tuple[str, ...]) -> None:
        self.fn = fn
        self.directions = directions

    def __call__(self, spec: TrialSpec) -> Outcome:
        out = self.fn(Trial(spec, None, self.directions))
        outcome = out if isinstance(out, Outcome) else Outcome(values=_as_values(out, len(self.directions)))
        outcome.values = tuple(_orient(float(v), d) for v, d in zip(outcome.values, self.directions))
        if any(math.isnan(v) for v in outcome.values):
            raise ValueError(f"the objective returned NaN: {out!r}")
        return outcome


def _as_values(value: Any, n: int) -> tuple[float, ...]:
    values = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value,)
    if len(values) != n:
        raise ValueError(f"expected {n} objective value(s), got {len(values)}: {value!r}")
    try:
        return tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise TypeError(f"objective values must be numbers, got {value!r}") from None


class Study:
    def __init__(self, name: str, space: Any, optimizer: Optimizer, storage: Storage,
                 directions: tuple[str, ...], seed: int | None) -> None:
        self.name = name
        self.space = space
        self.optimizer = optimizer
        self.storage = storage
        self.directions = directions
        self.seed = seed
        self._asked_at: dict[int, float] = {}

    # -- ask / tell ----------------------------------------------------------------------------
    def ask(self) -> Trial:
        """A new trial to evaluate; raises RuntimeError when the optimizer must hear back first."""
        pending = self.storage.running(self.name)
        suggestion = self.optimizer.ask(pending)
        if suggestion is None:
            raise RuntimeError(
                f"optimizer {self.optimizer.name!r} has nothing to propose: tell the {len(pending)} pending trial(s) "
                "first, or the search space is exhausted"
            )
        seed = trial_seed(self.seed, self.storage.n_trials(self.name))
        spec = self.storage.add_trial(self.name, suggestion, seed, Limits())
        self._asked_at[spec.trial_id] = time.time()
        return Trial(spec, None, self.directions)

    def tell(self, trial: Trial | int, values: float | Sequence[float] | None = None, *,
             status: Status | str | None = None, info: Mapping[str, Any] | None = None, error: str = "") -> Trial:
        """Report a trial's values (user orientation), or a failure with ``status="failed"``."""
        number = trial.number if isinstance(trial, Trial) else int(trial)
        record = self.storage.trial(self.name, number)
        if record.result is not None:
            raise ValueError(f"trial {number} was already told ({record.result.status.value})")
        status = Status(status) if status is not None else (Status.SUCCESS if values is not None else Status.FAILED)
        losses: tuple[float, ...] = ()
        if values is not None:
            raw = _as_values(values, len(self.directions))
            if any(math.isnan(v) for v in raw):
                status, error = Status.FAILED, error or f"objective value is NaN: {values!r}"
            else:
                losses = tuple(_orient(v, d) for v, d in zip(raw, self.directions))
        elif status is Status.SUCCESS:
            raise ValueError("a successful trial needs values")
        started = self._asked_at.pop(number, time.time())
        result = TrialResult(number, status, losses, time.time() - started, started, error, dict(info or {}))
        self.storage.set_result(self.name, result)
        self.optimizer.tell(record.spec, result)
        return Trial(record.spec, result, self.directions)

    # -- the loop ------------------------------------------------------------------------------
    def optimize(
        self,
        objective: Callable[[Trial], Any],
        n_trials: int | None = None,
        time_budget: float | None = None,
        n_jobs: int = 1,
        per_trial_time_limit: float | None = None,
        memory_limit: float | None = None,
        isolate: bool = True,
        callbacks: Iterable[Callable[[Trial], None]] = (),
    ) -> Study:
        """Evaluate ``objective(trial)`` until ``n_trials`` or ``time_budget`` seconds are spent.

        With ``isolate`` (the default) each trial runs in a worker process that is killed at
        ``per_trial_time_limit`` seconds or ``memory_limit`` MB; a crash is a failed trial, never
        the end of the study. ``isolate=False`` runs trials in this process (no limits).
        """
        if n_jobs < 1:
            raise ValueError(f"n_jobs must be at least 1, got {n_jobs}")
        budget = Budget(time_budget=time_budget, max_trials=n_trials, min_trial_time=0.0)
        limits = Limits(per_trial_time_limit, memory_limit)
        runner = LocalRunner(n_jobs) if isolate else InlineRunner()
        user_callbacks = list(callbacks)

        def on_result(done: Completed) -> None:
            for cb in user_callbacks:
                cb(Trial(done.spec, done.result, self.directions))

        with runner:
            run_search(optimizer=self.optimizer, runner=runner, objective=_TrialObjective(objective, self.directions),
                       storage=self.storage, study=self.name, budget=budget, limits=limits, seed=self.seed,
                       callbacks=[on_result])
        return self

    # -- results -------------------------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        return [Trial(r.spec, r.result, self.directions) for r in self.storage.trials(self.name)]

    def _complete(self, full_budget: bool = True) -> list[Trial]:
        done = [t for t in self.trials if t.result is not None and t.result.ok]
        return [t for t in done if t.budget >= 1.0] if full_budget and any(t.budget >= 1.0 for t in done) else done

    @property
    def best_trial(self) -> Trial:
        """Best successful trial on the first objective (at full budget where there is one)."""
        done = self._complete()
        if not done:
            raise ValueError(f"study {self.name!r} has no successful trial yet")
        return min(done, key=lambda t: t.result.values[0])  # type: ignore[union-attr]

    @property
    def best_config(self) -> dict[str, Any]:
        return dict(self.best_trial.config)

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    def incumbent(self) -> tuple[dict[str, Any], float, int]:
        """(configuration, mean value, number of instances) of the best configuration.

        With ``instances`` this is the intensifier's incumbent, its value the mean over the instances
        it ran (in the user's orientation); without, every trial is one run and it is ``best_trial``.
        """
        from autolearn.tune.intensify import Intensifier

        if not isinstance(self.optimizer, Intensifier):
            return self.best_config, self.best_value, 1
        found = self.optimizer.incumbent()
        if found is None:
            raise ValueError(f"study {self.name!r} has no incumbent yet")
        config, losses = found
        return config, _orient(sum(losses.values()) / len(losses), self.directions[0]), len(losses)

    def pareto_front(self) -> list[Trial]:
        """Successful trials no other trial dominates (all objectives, full budget where present)."""
        from autolearn.tune.pareto import pareto_front

        done = self._complete()
        if not done:
            return []
        losses = np.array([t.result.values for t in done], dtype=float)  # type: ignore[union-attr]
        mask = pareto_front(losses)
        return [t for t, keep in zip(done, mask) if keep]

    def trials_dataframe(self) -> pd.DataFrame:
        rows = []
        for t in self.trials:
            row: dict[str, Any] = {"number": t.number, "status": t.status, "budget": t.budget,
                                   "instance": t.instance, "origin": t.spec.origin}
            values = t.values or (None,) * len(self.directions)
            if len(self.directions) == 1:
                row["value"] = values[0]
            else:
                row.update({f"values_{i}": v for i, v in enumerate(values)})
            row.update({f"config_{k}": v for k, v in t.config.items()})
            if t.result is not None:
                row.update({"duration": t.result.duration, "started": t.result.started, "error": t.result.error})
            rows.append(row)
        return pd.DataFrame(rows)


def _check_directions(directions: Sequence[str] | str | None) -> tuple[str, ...]:
    if directions is None:
        return ("minimize",)
    directions = (directions,) if isinstance(directions, str) else tuple(directions)
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad or not directions:
        raise ValueError(f"directions must be 'minimize' or 'maximize' for each objective, got {directions!r}")
    return directions


def _build_optimizer(space: Any, optimizer: str | Optimizer, scheduler: str | None, n_objectives: int,
                     seed: int | None, optimizer_kwargs: Mapping[str, Any],
                     instances: Sequence[str] | None = None) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        opt = optimizer
    else:
        opt = make_optimizer(optimizer, space, n_objectives=n_objectives, seed=seed, **optimizer_kwargs)
    if n_objectives > 1 and not opt.multi_objective:
        raise ValueError(
            f"optimizer {opt.name!r} optimizes one objective; for {n_objectives} use 'parego' or 'nsga2'"
        )
    if scheduler is not None:
        from autolearn.tune.schedulers import make_scheduler

        opt = make_scheduler(scheduler, space, sampler=opt, seed=seed)
    return _intensify(space, opt, instances, n_objectives, seed)


def _intensify(space: Any, opt: Optimizer, instances: Sequence[str] | None, n_objectives: int,
               seed: int | None) -> Optimizer:
    """Wrap ``opt`` in an Intensifier when the study has instances (unless it already is one)."""
    from autolearn.tune.intensify import Intensifier

    if instances is None or isinstance(opt, Intensifier):
        return opt
    return Intensifier(space, instances, sampler=opt, seed=seed, n_objectives=n_objectives)


def create_study(
    space: spaces.SpaceLike,
    optimizer: str | Optimizer = "gp",
    *,
    directions: Sequence[str] | str | None = None,
    storage: Storage | str | None = None,
    name: str | None = None,
    seed: int | None = None,
    scheduler: str | None = None,
    instances: Sequence[str] | None = None,
    load_if_exists: bool = False,
    **optimizer_kwargs: Any,
) -> Study:
    """A new study over ``space`` (a ConfigSpace or the dict form of :mod:`autolearn.tune.space`).

    ``optimizer`` is one of :data:`autolearn.tune.OPTIMIZERS`; ``scheduler`` ("sh", "hyperband",
    "asha", "bohb") adds multi-fidelity budgets around it. ``storage`` is None (in memory), a path to
    a SQLite file, or an SQLAlchemy URL; with ``load_if_exists`` an existing study is resumed.
    ``instances`` (CV folds, datasets, seeds) wrap the optimizer in an
    :class:`~autolearn.tune.intensify.Intensifier`: each trial runs one instance (``trial.instance``)
    and :meth:`Study.incumbent` is the configuration with the best mean over the instances it ran.
    """
    if instances is not None and scheduler is not None:
        raise ValueError("instances and scheduler cannot be combined: intensification races configurations "
                         "at full budget; drop one of them")
    cs = spaces.as_configspace(space, seed=seed)
    dirs = _check_directions(directions)
    store = get_storage(storage)
    name = name or f"study-{uuid.uuid4().hex[:8]}"
    opt_name = optimizer if isinstance(optimizer, str) else optimizer.name
    meta = {"space": spaces.space_to_json(cs), "optimizer": opt_name, "optimizer_kwargs": optimizer_kwargs,
            "scheduler": scheduler, "seed": seed}
    if instances is not None:
        meta["instances"] = list(instances)
    json.dumps(meta)  # optimizer_kwargs must be storable to resume; fail now, not at load time
    info = store.create_study(name, dirs, meta, load_if_exists=load_if_exists)
    if info.meta.get("space") and load_if_exists:
        return load_study(store, name, optimizer=optimizer if isinstance(optimizer, Optimizer) else None)
    opt = _build_optimizer(cs, optimizer, scheduler, len(dirs), seed, optimizer_kwargs, instances)
    return Study(name, cs, opt, store, dirs, seed)


def load_study(storage: Storage | str, name: str | None = None, *, optimizer: Optimizer | None = None,
               space: spaces.SpaceLike | None = None) -> Study:
    """Resume a stored study: the optimizer is rebuilt and told every finished trial again.

    ``space`` replaces the stored space, e.g. with more choices for a categorical; every stored
    configuration must still be valid in it.
    """
    store = get_storage(storage)
    if name is None:
        names = store.study_names()
        if len(names) != 1:
            raise ValueError(f"storage holds {len(names)} studies ({', '.join(names) or 'none'}); name one")
        name = names[0]
    info = store.get_study(name)
    seed = info.meta.get("seed")
    records = store.trials(name)
    if space is None:
        cs = spaces.space_from_json(info.meta["space"])
    else:
        cs = spaces.as_configspace(space, seed=seed)
        for record in records:
            spaces.to_configuration(cs, record.spec.config)  # raises naming the configuration
        store.update_meta(name, {"space": spaces.space_to_json(cs)})
    instances = info.meta.get("instances")
    if optimizer is not None:
        opt = _intensify(cs, optimizer, instances, len(info.directions), seed)
    else:
        opt = _build_optimizer(cs, info.meta.get("optimizer", "random"), info.meta.get("scheduler"),
                               len(info.directions), seed, info.meta.get("optimizer_kwargs", {}), instances)
    for record in records:
        if record.result is not None:
            opt.tell(record.spec, record.result)
    return Study(name, cs, opt, store, tuple(info.directions), seed)
