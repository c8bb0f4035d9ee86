"""One AutoML search, start to end: space → search loop → ensemble → refit. No scikit-learn plumbing here.

The wall-clock budget covers everything: the search stops early enough to leave time (measured from
the trials' own fit times) for building the ensemble and refitting its members on all rows.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autolearn.data.schema import Schema
from autolearn.ensemble import PredictionStore
from autolearn.evaluation.continuation import ContinuationStore
from autolearn.evaluation.evaluate import (
    REFIT,
    Evaluator,
    TaskData,
    broken_refit,
    fold_model_store,
    refit_time_estimate,
    save_task_data,
    train_folds,
)
from autolearn.evaluation.metrics import Metric, get_metric
from autolearn.evaluation.resampling import Resampling, make_splits, resolve_resampling, validation_rows
from autolearn.evaluation.time_cap import refit_budget
from autolearn.execution import Completed, LocalRunner, Runner
from autolearn.progress import Progress
from autolearn.records import Limits, Status, Suggestion, TrialRecord, TrialResult
from autolearn.storage import Storage, get_storage
from autolearn.strategy import make_strategy
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
    refit: bool | str = "auto"  # see models_kept_validated
    run_dir: str | None = None
    storage: str | None = None
    resume: bool = False
    warm_start: bool = True
    backend: str = "local"
    dask_client: Any = None
    dask_address: str | None = None
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


def prediction_memory_mb() -> float:
    """Memory for validation predictions kept for ensembling; the rest spills to disk."""
    import psutil

    return min(2048.0, 0.1 * psutil.virtual_memory().total / 2**20)


def default_memory_limit(n_jobs: int) -> float:
    """MB per worker: three quarters of the machine's memory shared among the workers."""
    import psutil

    return 0.75 * psutil.virtual_memory().total / 2**20 / max(n_jobs, 1)


@contextlib.contextmanager
def run_directory(run_dir: str | None, prefix: str = "autolearn-") -> Iterator[Path]:
    """The user's run directory (created), or a temporary one removed afterwards."""
    if run_dir is not None:
        path = Path(run_dir)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def make_runner(settings: Settings) -> Runner:
    if settings.backend == "dask":
        from autolearn.execution.dask import DaskRunner

        return DaskRunner(client=settings.dask_client, address=settings.dask_address,
                          n_workers=settings.n_jobs if settings.dask_client is None and not settings.dask_address
                          else None)
    return LocalRunner(settings.n_jobs)


def data_fingerprint(X: Any, y: np.ndarray, task: str, metric: str, plan: Resampling, seed: int) -> str:
    """What a resumed search must share with the one it continues."""
    import joblib

    return joblib.hash((X, y, task, metric, plan, seed))


def _open_history(settings: Settings, fingerprint: str) -> Storage | None:
    """The run history named by ``storage`` or found in ``run_dir``; checks that resuming is what was asked."""
    path = settings.storage or (Path(settings.run_dir) / "history.sqlite" if settings.run_dir else None)
    if path is None or (settings.storage is None and not Path(path).exists()):
        if settings.resume:
            raise ValueError(f"resume=True, but there is no search to resume in run_dir={settings.run_dir!r}")
        return None
    storage = get_storage(path)
    if STUDY not in storage.study_names():
        if settings.resume:
            raise ValueError(f"resume=True, but {path} holds no AutoML search")
        return storage
    if not settings.resume:
        raise ValueError(f"{path} already holds a search; pass resume=True to continue it, or use a new run_dir")
    stored = storage.get_study(STUDY).meta.get("fingerprint")
    if stored != fingerprint:
        raise ValueError(f"{path} holds a search on different data or settings (task, metric, resampling, seed); "
                         "it cannot be resumed with these")
    return storage


def _replay(storage: Storage, optimizer: Optimizer, oof_dir: Path | None, keep: Any) -> float:
    """Feed a stored search back: the optimizer learns every result, predictions are reloaded, and trials
    that were running when the process died are closed as cancelled. Returns the seconds it had spent."""
    info = storage.get_study(STUDY)
    end = float(info.meta.get("started_at", time.time()))
    for record in storage.trials(STUDY):
        result = record.result
        if result is None:
            result = TrialResult(record.spec.trial_id, Status.CANCELLED, error="interrupted: the search was stopped")
            storage.set_result(STUDY, result)
        end = max(end, result.started + result.duration)
        if record.spec.instance == REFIT:
            continue
        optimizer.tell(record.spec, result)
        path = oof_dir / f"{record.spec.trial_id}.npy" if oof_dir is not None else None
        artifacts = np.load(path) if path is not None and path.exists() else None
        keep(Completed(record.spec, result, artifacts), persist=False)
    return max(end - float(info.meta.get("started_at", end)), 0.0)


def run_automl(X: Any, y: np.ndarray, schema: Schema, settings: Settings, start: float | None = None) -> SearchResult:
    """Search, ensemble and refit within ``settings.time_budget`` seconds counted from ``start``."""
    start = time.monotonic() if start is None else start
    task = settings.task
    metric = get_metric(settings.metric, task)
    plan = resolve_resampling(settings.resampling, len(y))
    splits = make_splits(y, task, plan, settings.seed)
    n_classes = int(y.max()) + 1 if task != "regression" else 0
    deadline = math.inf if settings.time_budget is None else start + settings.time_budget
    # fit may overrun by max(5 %, 5 s); refits may use half of that before they are given up
    refit_deadline = deadline + 0.5 * max(0.05 * (settings.time_budget or 0), 5.0)
    memory = settings.memory_limit or default_memory_limit(settings.n_jobs)
    per_trial = settings.per_trial_time_limit or (settings.time_budget / 10 if settings.time_budget else None)
    timings: dict[str, float] = {}

    from autolearn.space import build_space

    space = build_space(task, include=settings.include, exclude=settings.exclude, schema=schema, seed=settings.seed,
                        sparse=not isinstance(X, pd.DataFrame))
    recommended: list[dict] = []
    if settings.warm_start and settings.strategy not in ("grid",):
        from autolearn.meta import warm_start_configs

        recommended = warm_start_configs(X, y, task, space, n=WARM_START_CONFIGS, seed=settings.seed,
                                         time_limit=min(5.0, 0.05 * (settings.time_budget or 100)))
    optimizer = make_strategy(settings.strategy, space, settings.seed, recommended)

    fingerprint = data_fingerprint(X, y, task, metric.name, plan, settings.seed)
    storage = _open_history(settings, fingerprint)  # before any file is written: a clash changes nothing
    with run_directory(settings.run_dir) as run_dir:
        data_path = save_task_data(TaskData(X, y, task, schema, metric, n_classes, splits), run_dir / "data.pkl")
        storage = storage or get_storage(run_dir / "history.sqlite")
        oof_dir = run_dir / "oof" if settings.run_dir is not None else None  # kept only where a resume can use it
        from autolearn.components import custom_components

        preload = ("torch",) if "nn" in space["model"].choices else ()
        evaluator = Evaluator(data_path, components=custom_components(), preload=preload,
                              keep_fold_models=models_kept_validated(settings.refit, plan, space["model"].choices))
        fold_models = fold_model_store(run_dir)
        with_fold_models: set[int] = set()  # told trials whose fold models are on disk
        store = PredictionStore(prediction_memory_mb(), run_dir / "predictions")
        records: dict[int, Completed] = {}

        def keep(done: Completed, persist: bool = True) -> None:
            records[done.spec.trial_id] = done
            if done.result.ok and done.spec.budget >= 1.0 and done.artifacts is not None:
                store.add(done.spec.trial_id, str(done.spec.config.get("model", "")), done.result.loss, done.artifacts)
                if done.result.info.get("fold_models"):
                    with_fold_models.add(done.spec.trial_id)
                    _discard_non_candidates(fold_models, store, with_fold_models)
                if oof_dir is not None and persist:
                    oof_dir.mkdir(exist_ok=True)
                    np.save(oof_dir / f"{done.spec.trial_id}.npy", done.artifacts)

        spent = 0.0
        if STUDY in storage.study_names():
            spent = _replay(storage, optimizer, oof_dir, keep)
        else:
            storage.create_study(STUDY, ("minimize",), {"task": task, "metric": metric.name,
                                                        "fingerprint": fingerprint, "started_at": time.time()})
        if spent and settings.time_budget is not None:
            # a resumed search gets what is left of its budget (at least a tenth, to ensemble and refit)
            start -= min(spent, 0.9 * settings.time_budget)
            deadline = start + settings.time_budget
            refit_deadline = deadline + 0.5 * max(0.05 * settings.time_budget, 5.0)

        def reserve() -> float:
            return _reserve_seconds(records.values(), plan, settings, len(y))

        progress = Progress(settings.time_budget, settings.max_trials, metric.name, metric.greater_is_better,
                            settings.verbose)
        budget = Budget(time_budget=None if math.isinf(deadline) else settings.time_budget,
                        max_trials=settings.max_trials, reserve=reserve, start=start)
        runner = make_runner(settings)
        with runner, progress:
            run_search(optimizer=optimizer, runner=runner, objective=evaluator, storage=storage, study=STUDY,
                       budget=budget, limits=Limits(per_trial, memory), seed=settings.seed,
                       callbacks=[keep, progress])
            timings["search"] = time.monotonic() - start
            progress.set_phase("ensembling")
            y_valid = y[validation_rows(splits)]
            candidates, combiner = _choose_ensemble(store, records, y_valid, metric, settings,
                                                    _refit_costs(plan, refit_deadline))
            timings["ensemble"] = time.monotonic() - start - timings["search"]
            progress.set_phase("refitting")
            weights = _member_weights(candidates, combiner)
            fitted = _fold_averages(weights, records, fold_models, train_folds(splits))
            fitted |= _refit({t: w for t, w in weights.items() if t not in fitted}, records, runner, evaluator,
                             storage, refit_deadline, memory, settings)
            model, members = (None, []) if not fitted else _final_model(
                candidates, combiner, fitted, store, y_valid, metric, settings, n_classes)
        timings["refit"] = time.monotonic() - start - timings["search"] - timings["ensemble"]
        # what the run history alone cannot say, for reports and dashboards reading the run directory
        storage.update_meta(STUDY, {"members": [[t, w] for w, _, t in members], "timings": timings})
        stored = storage.trials(STUDY)
        storage.close()
        store.close()

    fallback = model is None
    if fallback:
        from autolearn.ensemble import Ensemble

        dummy = _fallback_model(task, X, y)
        model, members = Ensemble([dummy], np.ones(1), task=task, n_classes=n_classes or None), [(1.0, dummy, -1)]
    return SearchResult(task, metric, schema, model, members, stored, plan, timings, fallback)


WARM_START_CONFIGS = 16  # the meta-database's cheap-first portfolio covers ~5-10 median evaluation times


def models_kept_validated(refit: bool | str, plan: Resampling, models: Sequence[str]) -> frozenset[str]:
    """The models whose final form is the validated fits (fold models averaged, or the holdout model)
    instead of a refit on all rows. ``"auto"``: all of them after a holdout, which is chosen for large
    data, where 25 % more rows change a model least and a refit costs most, and where ensemble weights
    fitted to the validated models' errors describe those models, not a refit, which for unstable
    learners (an MLP stopped at its epoch limit) is a different model (mv in ``benchmarks/RESULTS.md``);
    after cross-validation only the models registered with ``average_folds`` (networks)."""
    if refit is False or (refit == "auto" and plan.kind == "holdout"):
        return frozenset(models)
    if refit is True:
        return frozenset()
    from autolearn.components import get

    return frozenset(m for m in models if get(m).average_folds)


def _reserve_seconds(done: Any, plan: Resampling, settings: Settings, n_rows: int) -> float:
    """Time to keep after the search: refitting the best few models (in parallel) plus a margin."""
    if settings.time_budget is None:
        return 0.0
    margin = max(0.05 * settings.time_budget, 1.0)
    good = sorted((c for c in done if c.result.ok and c.spec.budget >= 1.0), key=lambda c: c.result.loss)
    top = good[: max(5, settings.n_jobs)]
    refit = sum(_refit_seconds(c, plan) for c in top) / max(settings.n_jobs, 1)
    return min(margin + refit, 0.4 * settings.time_budget)


REFIT_SAFETY = 1.3  # a refit on all rows takes up to this much longer than the fit times predict


def _refit_seconds(done: Completed, plan: Resampling) -> float:
    """Seconds to allow for refitting a trial's configuration on all rows (none: its fold models are kept)."""
    if done.result.info.get("fold_models"):
        return 0.0
    holdout = plan.holdout_fraction if plan.kind == "holdout" else None
    return REFIT_SAFETY * refit_time_estimate(dict(done.result.info), plan.n_folds, holdout)


def _refit_costs(plan: Resampling, deadline: float) -> Callable[[Completed], float] | None:
    """Each candidate's share of the time left for refitting (None: no deadline). The workers refit in
    parallel, so the shares of the chosen members may sum to one per worker; a member whose refit alone
    would outlast the deadline costs infinity."""
    if math.isinf(deadline):
        return None
    left = deadline - time.monotonic()

    def cost(done: Completed) -> float:
        seconds = _refit_seconds(done, plan)
        if seconds == 0:
            return 0.0
        return seconds / left if seconds <= left else math.inf

    return cost


STACKING_METHODS = {"stacking": "ridge", "stacking-lasso": "lasso", "stacking-elasticnet": "elasticnet"}


def _choose_ensemble(store: PredictionStore, records: dict[int, Completed], y_valid: np.ndarray, metric: Metric,
                     settings: Settings, refit_cost: Callable[[Completed], float] | None = None,
                     selection: dict[str, Any] | None = None) -> tuple[list[int], Any]:
    """Candidate trial ids and how to combine them: selection weights, a Stacker, or the best alone.
    Selection chooses only members that ``refit_cost`` says can be refitted in time (see _refit_costs);
    ``selection``: further options of ``ensemble_selection`` (the ensemble benchmark compares them)."""
    candidates = _candidates(store)
    if not candidates:
        best = _best_below_full_budget(records)
        return ([best], np.ones(1)) if best is not None else ([], np.empty(0))
    if settings.ensemble is None or len(candidates) == 1:
        return candidates[:1], np.ones(1)
    predictions = [store.get(t) for t in candidates]
    if settings.ensemble in STACKING_METHODS:
        from autolearn.ensemble import fit_stacker

        # penalties by cross-validation: BIC picks sparse member sets well but refits them almost
        # unpenalized, which overfits near-separable validation predictions
        stacker = fit_stacker(predictions, y_valid, settings.task, method=STACKING_METHODS[settings.ensemble],
                              penalty_selection="cv", seed=settings.seed)
        return candidates, stacker
    from autolearn.ensemble import choose_under_latency

    times = [_predict_seconds(records[t]) for t in candidates]
    refit = None if refit_cost is None else [refit_cost(records[t]) for t in candidates]
    weights = choose_under_latency(predictions, y_valid, metric, times, infer_time_limit=settings.infer_time_limit,
                                   max_ensemble_size=settings.max_ensemble_size, size=50, seed=settings.seed,
                                   refit_times=refit, refit_time_limit=None if refit is None else settings.n_jobs,
                                   **(selection or {}))
    return candidates, weights


def _candidates(store: PredictionStore) -> list[int]:
    """The trials an ensemble is chosen from: the best few of each model family, the best overall."""
    return [int(t) for t in store.candidates(n_best_per_family=10, n_best=50)]


def _predict_seconds(done: Completed) -> float:
    """Seconds per row the trial's final model takes to predict: k fold models when they are averaged."""
    info = done.result.info
    folds = len(info.get("fold_losses", ())) if info.get("fold_models") else 1
    return float(info.get("predict_time_per_row", 0.0)) * max(folds, 1)


def _discard_non_candidates(fold_models: ContinuationStore, store: PredictionStore, kept: set[int]) -> None:
    """Delete the fold models of ``kept`` trials that are not (or no longer) candidates: a trial only
    leaves the candidates when better ones of its family or overall arrive, so it never comes back.
    Only trials whose results are in: a file a worker just wrote may belong to a trial not yet told."""
    candidates = set(_candidates(store))
    for tid in kept - candidates:
        fold_models.discard(tid)
    kept &= candidates


def _fold_averages(weights: dict[int, float], records: dict[int, Completed], fold_models: ContinuationStore,
                   folds: str) -> dict[int, Any]:
    """The members whose fold models were kept, as their averages (the others are refitted)."""
    from autolearn.ensemble.fold_average import FoldAverage

    out = {}
    for tid in weights:
        if not records[tid].result.info.get("fold_models"):
            continue  # its worker kept none (too large): nothing to read
        kept = fold_models.load(tid, dict(records[tid].spec.config), folds, value=2**31)
        if kept is not None:
            out[tid] = FoldAverage(kept.pipelines)
    return out


def _best_below_full_budget(records: dict[int, Completed]) -> int | None:
    """The documented exception to "only full-fidelity results enter the final model": when no trial
    finished at full budget (a short budget spent on low rungs, or every full trial over its limit), the
    best trial of the highest budget reached is refitted at full budget alone, instead of falling back
    to the class prior or the mean."""
    done = [c for c in records.values() if c.result.ok and c.spec.instance != REFIT]
    if not done:
        return None
    top = max(c.spec.budget for c in done)
    return min((c for c in done if c.spec.budget == top), key=lambda c: c.result.loss).spec.trial_id


def _member_weights(candidates: list[int], combiner: Any) -> dict[int, float]:
    if isinstance(combiner, np.ndarray):
        return {t: float(w) for t, w in zip(candidates, combiner) if w > 0}
    return {candidates[i]: float(combiner.weights_[i]) for i in combiner.members}


def _refit(weights: dict[int, float], records: dict[int, Completed], runner: Runner, evaluator: Evaluator,
           storage: Storage, deadline: float, memory: float, settings: Settings) -> dict[int, Any]:
    """Fit the chosen configurations on all rows, heaviest weight first; those that don't finish are left out."""
    specs = {}
    for tid in sorted(weights, key=lambda t: -abs(weights[t])):
        left = deadline - time.monotonic()
        if left <= 0.2:
            break
        parent = records[tid].spec
        suggestion = Suggestion(parent.config, refit_budget(records[tid].result.info), REFIT, "refit", tid)
        spec = storage.add_trial(STUDY, suggestion, trial_seed(settings.seed, tid), Limits(left, memory))
        specs[spec.trial_id] = tid
        runner.submit(evaluator, spec)
    fitted: dict[int, Any] = {}
    while runner.running():
        left = deadline - time.monotonic()
        if left <= 0:
            for done in runner.cancel_all():
                storage.set_result(STUDY, done.result)
            break
        for done in runner.wait(timeout=min(left, 1.0)):
            tid = specs[done.spec.trial_id]
            result = done.result
            broken = broken_refit(result.info, records[tid].result.loss) if result.ok else None
            if broken is not None:  # recorded as failed, with the reason, and left out like a refit that timed out
                result = replace(result, status=Status.FAILED, error=broken)
            storage.set_result(STUDY, result)
            if result.ok and done.artifacts is not None:
                fitted[tid] = done.artifacts
    return fitted


def _final_model(candidates: list[int], combiner: Any, fitted: dict[int, Any], store: PredictionStore,
                 y_valid: np.ndarray, metric: Metric, settings: Settings, n_classes: int) -> tuple[Any, list]:
    """The ensemble over refitted members; when a stacked member failed to refit, selection over the rest."""
    from autolearn.ensemble import Ensemble, ensemble_selection

    task = settings.task
    kwargs = {"task": task, "n_classes": n_classes or None}
    weights = _member_weights(candidates, combiner)
    if not isinstance(combiner, np.ndarray) and all(t in fitted for t in weights):
        members = [fitted.get(t) for t in candidates]
        return Ensemble(members, combiner, **kwargs), [(w, fitted[t], t) for t, w in weights.items()]
    usable = [t for t in candidates if t in fitted]
    if isinstance(combiner, np.ndarray) and all(t in fitted for t in weights):
        w = np.array([weights.get(t, 0.0) for t in usable])
    elif len(usable) == 1:
        w = np.ones(1)
    else:
        w = ensemble_selection([store.get(t) for t in usable], y_valid, metric, size=50, seed=settings.seed)
    w = w / w.sum()
    model = Ensemble([fitted[t] for t in usable], w, **kwargs)
    members = sorted(((float(wi), fitted[t], t) for t, wi in zip(usable, w) if wi > 0), key=lambda m: -m[0])
    return model, members


def _fallback_model(task: str, X: Any, y: np.ndarray) -> Any:
    """When nothing finished in time: the class prior or the mean, which never fails and costs nothing."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    model = DummyRegressor() if task == "regression" else DummyClassifier(strategy="prior")
    return model.fit(np.zeros((len(y), 1)), y)
