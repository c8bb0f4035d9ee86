"""One AutoML search, start to end: space → search loop → ensemble → refit. No scikit-learn plumbing here.

The wall-clock budget covers everything: the search stops early enough to leave time (measured from
the trials' own fit times) for building the ensemble and refitting its members on all rows.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autolearn.data.schema import Schema
from autolearn.evaluation.evaluate import REFIT, Evaluator, TaskData, refit_time_estimate, save_task_data
from autolearn.evaluation.metrics import Metric, get_metric
from autolearn.evaluation.resampling import Resampling, make_splits, resolve_resampling, validation_rows
from autolearn.execution import Completed, LocalRunner, Runner
from autolearn.progress import Progress
from autolearn.records import Limits, Status, Suggestion, TrialRecord
from autolearn.storage import Storage, get_storage
from autolearn.tune.budget import Budget
from autolearn.tune.loop import run_search, trial_seed
from autolearn.tune.optimizers import Optimizer

STUDY = "automl"


@dataclass(frozen=True)
class Settings:
    """Every option of a search; the estimators fill it from their parameters."""

    task: str
    metric: Any = None
    time_budget: float | None = 60.0
    max_trials: int | None = None
    per_trial_time_limit: float | None = None
    memory_limit: float | None = None
    n_jobs: int = 1
    seed: int = 0
    resampling: Any = "auto"
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    strategy: str = "auto"
    ensemble: str | None = "selection"
    max_ensemble_size: int | None = None
    infer_time_limit: float | None = None
    run_dir: str | None = None
    storage: str | None = None
    verbose: int = 0


@dataclass
class SearchResult:
    """What a finished search hands back to the estimator."""

    task: str
    metric: Metric
    schema: Schema
    model: Any  # predict / predict_proba on validated input
    members: list[tuple[float, Any, int]]  # (weight, fitted pipeline, trial id)
    records: list[TrialRecord]
    resampling: Resampling
    timings: dict[str, float] = field(default_factory=dict)
    fallback: bool = False


def default_memory_limit(n_jobs: int) -> float:
    """MB per worker: three quarters of the machine's memory shared among the workers."""
    import psutil

    return 0.75 * psutil.virtual_memory().total / 2**20 / max(n_jobs, 1)


@contextlib.contextmanager
def _run_directory(run_dir: str | None) -> Iterator[Path]:
    if run_dir is not None:
        path = Path(run_dir)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="autolearn-") as tmp:
        yield Path(tmp)


def make_strategy(strategy: str, space: Any, seed: int) -> Optimizer:
    """The optimizer or scheduler behind ``strategy=`` (an optimizer name, a scheduler name or "auto")."""
    from autolearn.tune.optimizers import OPTIMIZERS, make_optimizer

    if strategy == "auto":
        return make_optimizer("random", space, seed=seed)
    if strategy in OPTIMIZERS:
        return make_optimizer(strategy, space, seed=seed)
    from autolearn.tune.schedulers import SCHEDULERS, make_scheduler

    if strategy in SCHEDULERS:
        return make_scheduler(strategy, space, seed=seed)
    raise ValueError(f"unknown strategy {strategy!r}; expected 'auto', one of {', '.join(OPTIMIZERS)} "
                     f"or one of {', '.join(SCHEDULERS)}")


def run_automl(X: Any, y: np.ndarray, schema: Schema, settings: Settings, start: float | None = None) -> SearchResult:
    """Search, ensemble and refit within ``settings.time_budget`` seconds counted from ``start``."""
    start = time.monotonic() if start is None else start
    task = settings.task
    metric = get_metric(settings.metric, task)
    plan = resolve_resampling(settings.resampling, len(y))
    splits = make_splits(y, task, plan, settings.seed)
    n_classes = int(y.max()) + 1 if task != "regression" else 0
    deadline = math.inf if settings.time_budget is None else start + settings.time_budget
    memory = settings.memory_limit or default_memory_limit(settings.n_jobs)
    per_trial = settings.per_trial_time_limit or (settings.time_budget / 10 if settings.time_budget else None)
    timings: dict[str, float] = {}

    from autolearn.space import build_space

    space = build_space(task, include=settings.include, exclude=settings.exclude, schema=schema, seed=settings.seed)
    optimizer = make_strategy(settings.strategy, space, settings.seed)

    with _run_directory(settings.run_dir) as run_dir:
        data_path = save_task_data(TaskData(X, y, task, schema, metric, n_classes, splits), run_dir / "data.pkl")
        storage = get_storage(settings.storage or run_dir / "history.sqlite")
        storage.create_study(STUDY, ("minimize",), {"task": task, "metric": metric.name}, load_if_exists=False)
        evaluator = Evaluator(data_path)
        oof: dict[int, np.ndarray] = {}
        records: dict[int, Completed] = {}

        def keep(done: Completed) -> None:
            records[done.spec.trial_id] = done
            if done.result.ok and done.spec.budget >= 1.0 and done.artifacts is not None:
                oof[done.spec.trial_id] = done.artifacts

        def reserve() -> float:
            return _reserve_seconds(records.values(), plan, settings, len(y))

        progress = Progress(settings.time_budget, settings.max_trials, metric.name, metric.greater_is_better,
                            settings.verbose)
        budget = Budget(time_budget=None if math.isinf(deadline) else settings.time_budget,
                        max_trials=settings.max_trials, reserve=reserve, start=start)
        runner: Runner = LocalRunner(settings.n_jobs)
        with runner, progress:
            run_search(optimizer=optimizer, runner=runner, objective=evaluator, storage=storage, study=STUDY,
                       budget=budget, limits=Limits(per_trial, memory), seed=settings.seed,
                       callbacks=[keep, progress])
            timings["search"] = time.monotonic() - start
            progress.set_phase("ensembling")
            y_valid = y[validation_rows(splits)]
            weights = _ensemble_weights(oof, records, y_valid, metric, settings)
            timings["ensemble"] = time.monotonic() - start - timings["search"]
            progress.set_phase("refitting")
            members = _refit(weights, records, runner, evaluator, storage, deadline, memory, settings)
        timings["refit"] = time.monotonic() - start - timings["search"] - timings["ensemble"]
        stored = storage.trials(STUDY)
        storage.close()

    fallback = not members
    if fallback:
        members = [(1.0, _fallback_model(task, X, y), -1)]
    model = _combine(members, task, n_classes)
    return SearchResult(task, metric, schema, model, members, stored, plan, timings, fallback)


def _reserve_seconds(done: Any, plan: Resampling, settings: Settings, n_rows: int) -> float:
    """Time to keep after the search: refitting the best few models (in parallel) plus a margin."""
    if settings.time_budget is None:
        return 0.0
    margin = max(0.03 * settings.time_budget, 1.0)
    good = sorted((c for c in done if c.result.ok and c.spec.budget >= 1.0), key=lambda c: c.result.loss)
    holdout = plan.holdout_fraction if plan.kind == "holdout" else None
    top = good[: max(5, settings.n_jobs)]
    refit = sum(refit_time_estimate(dict(c.result.info), plan.n_folds, holdout) for c in top)
    refit = 1.3 * refit / max(settings.n_jobs, 1)
    return min(margin + refit, 0.4 * settings.time_budget)


def _ensemble_weights(oof: dict[int, np.ndarray], records: dict[int, Completed], y_valid: np.ndarray,
                      metric: Metric, settings: Settings) -> dict[int, float]:
    """Trial id → weight; the single best model when ensembling is off or impossible."""
    if not oof:
        return {}
    ranked = sorted(oof, key=lambda t: records[t].result.loss)
    if settings.ensemble is None or len(ranked) == 1:
        return {ranked[0]: 1.0}
    from autolearn.ensemble.selection import ensemble_selection

    candidates = ranked[:50]
    weights = ensemble_selection([oof[t] for t in candidates], y_valid, metric, size=50, seed=settings.seed)
    return {t: float(w) for t, w in zip(candidates, weights) if w > 0}


def _refit(weights: dict[int, float], records: dict[int, Completed], runner: Runner, evaluator: Evaluator,
           storage: Storage, deadline: float, memory: float, settings: Settings) -> list[tuple[float, Any, int]]:
    """Fit the chosen configurations on all rows, heaviest weight first; drop those that don't finish."""
    if not weights:
        return []
    order = sorted(weights, key=lambda t: -weights[t])
    specs = {}
    for tid in order:
        left = deadline - time.monotonic() - min(0.02 * (settings.time_budget or 0), 1.0)
        if left <= 0.2:
            break
        parent = records[tid].spec
        suggestion = Suggestion(parent.config, 1.0, REFIT, "refit", tid)
        spec = storage.add_trial(STUDY, suggestion, trial_seed(settings.seed, tid), Limits(left, memory))
        specs[spec.trial_id] = tid
        runner.submit(evaluator, spec)
    fitted: list[tuple[float, Any, int]] = []
    while runner.running():
        left = deadline - time.monotonic()
        if left <= 0:
            for done in runner.cancel_all():
                storage.set_result(STUDY, done.result)
            break
        for done in runner.wait(timeout=min(left, 1.0)):
            storage.set_result(STUDY, done.result)
            if done.result.status is Status.SUCCESS and done.artifacts is not None:
                tid = specs[done.spec.trial_id]
                fitted.append((weights[tid], done.artifacts, tid))
    total = sum(w for w, _, _ in fitted)
    return sorted(((w / total, m, t) for w, m, t in fitted), key=lambda m: -m[0])


def _fallback_model(task: str, X: Any, y: np.ndarray) -> Any:
    """When nothing finished in time: the class prior or the mean, which never fails and costs nothing."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    model = DummyRegressor() if task == "regression" else DummyClassifier(strategy="prior")
    return model.fit(np.zeros((len(y), 1)), y)


def _combine(members: list[tuple[float, Any, int]], task: str, n_classes: int) -> Any:
    from autolearn.ensemble.ensemble import Ensemble

    return Ensemble([m for _, m, _ in members], np.array([w for w, _, _ in members]))
