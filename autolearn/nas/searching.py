"""``search(X, y)``: neural architecture search under a time budget, returning a fitted network.

The journey is the package's own: a space (:mod:`autolearn.nas.spaces`) → a strategy behind
ask/tell (:mod:`autolearn.nas.strategies`) → :func:`autolearn.tune.loop.run_search` with isolated
workers (``LocalRunner``: per-trial time and memory limits, crashes are failed trials) or in this
process (``isolate=False``) → storage → the best architecture. Architectures are compared as the
AutoML search compares pipelines (``resampling="auto"``: 5-fold CV under 5,000 rows, where one holdout
is too small to rank hundreds of networks and the winner of a noisy holdout is the luckiest, not the
best; a 20 % holdout above); the validation rows also drive early stopping (the validation loss picks
the epoch and the architecture, as is standard for tabular networks). After cross-validation the
answer is the winner's k fold networks averaged (``refit="auto"``): on the small tables where CV is
used, one network refitted on all rows carries the full variance of its random start and of an epoch
count it cannot validate, and lost to the average by up to 5 AUC points (benchmarks/RESULTS.md). After
a holdout the winner is refitted on all rows for its best epoch count when the time left allows.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

import numpy as np
import pandas as pd

from autolearn.data.types import infer_schema
from autolearn.data.validation import (
    check_budget,
    check_choice,
    check_consistent_length,
    check_X,
    check_y,
)
from autolearn.evaluation.evaluate import TaskData, save_task_data
from autolearn.evaluation.metrics import Metric, get_metric
from autolearn.evaluation.resampling import make_splits, resolve_resampling
from autolearn.execution import Completed, InlineRunner, LocalRunner
from autolearn.nas.objective import NASObjective, update_incumbent
from autolearn.nas.spaces import SPACES, architecture, make_space
from autolearn.nas.strategies import MULTI_FIDELITY, STRATEGIES, make_strategy
from autolearn.records import Limits, Status, TrialRecord
from autolearn.storage import get_storage
from autolearn.tune.budget import Budget
from autolearn.tune.loop import run_search

MIN_ROWS = 10


def search(
    X: Any,
    y: Any,
    task: str | None = None,
    *,
    strategy: str = "evolution",
    space: str = "residual",
    time_budget: float | None = 300.0,
    max_trials: int | None = None,
    max_epochs: int = 50,
    metric: Any = None,
    resampling: str | int | float = "auto",
    seed: int = 0,
    n_jobs: int = 1,
    per_trial_time_limit: float | None = None,
    memory_limit: float | None = None,
    curve_stopping: bool = True,
    refit: bool | str = "auto",
    isolate: bool = True,
    storage: Any = None,
    run_dir: str | None = None,
    verbose: int = 0,
) -> Any:
    """Search ``space`` with ``strategy`` for ``time_budget`` seconds; return the best network, fitted.

    Parameters
    ----------
    X, y : a table (pandas, with categorical columns and missing values) or arrays, and its target.
    task : "binary", "multiclass", "classification" or "regression"; inferred from ``y`` when None.
    strategy : one of :data:`~autolearn.nas.strategies.STRATEGIES` ("random", "evolution", "rl",
        "tpe", "bohb", "hyperband", "darts"; "darts" needs ``space="cell"``).
    space : "residual", "chain" or "cell".
    time_budget : seconds for the whole call, refit included (None: ``max_trials`` bounds it).
    max_epochs : epochs of a full-fidelity trial; multi-fidelity strategies train fractions of it.
    metric : as for :class:`autolearn.AutoClassifier` (ROC AUC, log loss or RMSE by default).
    resampling : how architectures are compared (and early-stopped), as for
        :class:`autolearn.AutoClassifier`: "auto" (5-fold CV under 5,000 rows, else a 20 % holdout),
        "cv", "holdout", a number of folds or a holdout fraction.
    n_jobs : trials in parallel, each in its own worker process.
    per_trial_time_limit : seconds a trial may run (default a third of the budget); training
        stops between epochs before it, so a slow network still reports what it reached.
    curve_stopping : stop runs whose extrapolated learning curve cannot beat the incumbent
        (:mod:`autolearn.nas.curves`); such trials are stored as PRUNED.
    refit : "auto" (the fold networks averaged after cross-validation, a refit after a holdout), True
        (retrain the winner on all rows for its best epoch count, when the time left allows) or False
        (the networks the search validated: after cross-validation their average, after a holdout the
        one network trained on the other rows).
    isolate : False runs trials in this process (no time or memory limits; for debugging).
    storage : None (in memory), a SQLite path or a database URL, as for studies.

    Returns
    -------
    NeuralNetClassifier, NeuralNetRegressor or NetworkAverage (the fold networks averaged)
        Fitted, with ``architecture_`` (describe it with ``str()``; the dict rebuilds it),
        ``history_`` (a DataFrame: every architecture tried, its fidelity, status, score and time)
        and ``search_`` (a summary dict).

    Raises
    ------
    RuntimeError
        When no trial finished (e.g. a budget too small for one epoch); the message says why.
    """
    from autolearn.nas._torch import require_torch

    require_torch()
    start = time.monotonic()
    check_choice("strategy", strategy, STRATEGIES)
    check_choice("space", space, SPACES)
    if strategy == "darts" and space != "cell":
        raise ValueError(f"strategy 'darts' searches the cell space; pass space='cell' (got space={space!r})")
    if time_budget is None and max_trials is None:
        raise ValueError("give time_budget (seconds) or max_trials; with neither the search would never end")
    if time_budget is not None:
        time_budget = check_budget(time_budget)
    if max_trials is not None and (not isinstance(max_trials, (int, np.integer)) or max_trials < 1):
        raise ValueError(f"max_trials must be a positive integer, got {max_trials!r}")
    if not isinstance(max_epochs, (int, np.integer)) or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive integer, got {max_epochs!r}")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")

    X = check_X(X, fit=True)
    y_enc, task, classes = check_y(y, task)
    check_consistent_length(X, y_enc)
    if len(y_enc) < MIN_ROWS:
        raise ValueError(f"a network search needs at least {MIN_ROWS} rows to train and validate on, got {len(y_enc)}")
    metric_ = get_metric(metric, task)
    schema = infer_schema(X)
    n_classes = 0 if classes is None else len(classes)
    plan = resolve_resampling(resampling, len(y_enc))
    splits = make_splits(y_enc, task, plan, seed)
    per_trial = per_trial_time_limit or (time_budget / 3 if time_budget else None)
    if refit not in ("auto", True, False):
        raise ValueError(f"refit must be 'auto', True or False, got {refit!r}")
    refits = refit is True or (refit == "auto" and len(splits) == 1)

    with _workdir(run_dir) as workdir:
        data_path = save_task_data(TaskData(X, y_enc, task, schema, metric_, n_classes, splits), workdir / "data.pkl")
        optimizer = make_strategy(strategy, make_space(space, seed), seed=seed, max_epochs=int(max_epochs))
        objective = NASObjective(data_path, str(workdir), space, int(max_epochs), curve_stopping=curve_stopping,
                                 keep_checkpoints=strategy in MULTI_FIDELITY)
        store = get_storage(storage)
        study = f"nas-{strategy}-{space}-{uuid.uuid4().hex[:8]}"
        store.create_study(study, ("minimize",), {"task": task, "metric": metric_.name, "strategy": strategy,
                                                  "space": space, "max_epochs": int(max_epochs)})
        best: dict[str, Any] = {}

        def on_result(done: Completed) -> None:
            result = done.result
            if result.ok and done.spec.instance is None:
                update_incumbent(workdir, int(result.info.get("epochs", 0)), result.loss)
                if done.artifacts is not None and result.loss < best.get("loss", math.inf):
                    best.update(loss=result.loss, model=done.artifacts, info=dict(result.info))
            if verbose:
                print(f"[nas] trial {done.spec.trial_id:3d} {result.status.value:9s} "
                      f"loss {result.loss:.5g} budget {done.spec.budget:.3g} {result.duration:6.1f}s "
                      f"{result.info.get('description', result.error.strip().splitlines()[-1:] or '')}")

        def reserve() -> float:
            if time_budget is None:
                return 0.0
            refit_seconds = float(best.get("info", {}).get("refit_seconds", 0.0)) if refits else 0.0
            return min(max(0.05 * time_budget, 1.0) + 1.3 * refit_seconds, 0.4 * time_budget)

        budget = Budget(time_budget=time_budget, max_trials=max_trials, reserve=reserve, start=start)
        runner = LocalRunner(n_jobs) if isolate else InlineRunner()
        with runner:
            run_search(optimizer=optimizer, runner=runner, objective=objective, storage=store, study=study,
                       budget=budget, limits=Limits(per_trial, memory_limit), seed=seed, callbacks=[on_result])
        records = store.trials(study)
        store.close()

    history = history_frame(records, metric_)
    model = _final_model(best, records, X, y, task, classes, seed, refits, time_budget, start)
    model.history_ = history
    model.search_ = {
        "strategy": strategy, "space": space, "task": task, "metric": metric_.name, "n_trials": len(records),
        "resampling": plan.describe(),
        "validation_score": metric_.score_from_loss(best["loss"]) if best else None,
        "refit": bool(getattr(model, "_refitted", False)), "n_networks": len(getattr(model, "models", [model])),
        "seconds": time.monotonic() - start,
    }
    return model


def _workdir(run_dir: str | None) -> Any:
    from autolearn.automl import run_directory

    return run_directory(run_dir, prefix="autolearn-nas-")


def _final_model(best: dict[str, Any], records: list[TrialRecord], X: Any, y: Any, task: str,
                 classes: np.ndarray | None, seed: int, refit: bool, time_budget: float | None,
                 start: float) -> Any:
    """The winner refitted on all rows if asked and time allows, else its validated networks averaged.

    Fallback when no full-budget trial returned a network (time ran out between the rungs of a
    multi-fidelity search, or after a DARTS supernet): the best architecture at any fidelity is
    trained on all rows for the epochs it was given, even if that overruns the budget a little.
    """
    left = math.inf if time_budget is None else time_budget - (time.monotonic() - start)
    if not best:
        done = [r for r in records if r.result is not None and r.result.ok and "architecture" in r.result.info]
        if not done:
            raise RuntimeError(_no_result_message(records, time_budget))
        info = dict(min(done, key=lambda r: r.result.loss).result.info)  # type: ignore[union-attr]
        epochs = int(info.get("best_epoch") or info.get("epochs") or 1)
        return _refit(task, info["architecture"], epochs, seed, None, X, y)
    info, networks = best["info"], best["model"]
    needed = float(info.get("refit_seconds", 0.0))
    if refit and left > 1.3 * needed + 1.0:
        return _refit(task, info["architecture"], int(info["best_epoch"]), seed,
                      None if math.isinf(left) else 0.9 * left, X, y)
    from autolearn.nas.estimators import NetworkAverage

    for network in networks:
        if classes is not None:  # trials trained on encoded labels; answer in the user's labels
            network.classes_ = classes[np.asarray(network.classes_, dtype=int)]
        network.set_params(max_time=None)
    return networks[0] if len(networks) == 1 else NetworkAverage(networks)


def _refit(task: str, arch: dict[str, Any], epochs: int, seed: int, max_time: float | None, X: Any, y: Any) -> Any:
    from autolearn.nas.estimators import estimator_for

    model = estimator_for(task)(architecture(arch), epochs=max(1, epochs), seed=seed, early_stopping=False,
                                max_time=max_time)
    model.fit(X, y)
    model.set_params(max_time=None)  # the limit was for this fit, not for a later warm start
    model._refitted = True
    return model


def _no_result_message(records: list[TrialRecord], time_budget: float | None) -> str:
    statuses = pd.Series([r.result.status.value if r.result else "running" for r in records]).value_counts()
    summary = ", ".join(f"{n} {s}" for s, n in statuses.items()) or "no trial started"
    errors = [r.result.error.strip().splitlines()[-1] for r in records
              if r.result is not None and r.result.error and r.result.status is Status.FAILED]
    if errors:
        return f"no network could be trained ({summary}); first error: {errors[0]}"
    return (f"no network finished training within time_budget={time_budget} s ({summary}): the budget is too "
            "small for one epoch of one network (including starting a worker and importing torch); "
            "raise time_budget or per_trial_time_limit")


def history_frame(records: list[TrialRecord], metric: Metric) -> pd.DataFrame:
    """One row per trial: what was tried (architecture, fidelity), how it ended, its score and time."""
    rows = []
    for r in records:
        res, info = r.result, (dict(r.result.info) if r.result else {})
        loss = res.loss if res is not None else math.nan
        rows.append({
            "trial": r.spec.trial_id, "origin": r.spec.origin, "instance": r.spec.instance or "",
            "parent": r.spec.parent,
            "budget": r.spec.budget, "epochs": info.get("epochs"), "epochs_trained": info.get("epochs_trained"),
            "status": res.status.value if res else "running",
            "loss": loss if math.isfinite(loss) else math.nan,
            "score": metric.score_from_loss(loss) if math.isfinite(loss) else math.nan,
            "seconds": res.duration if res else math.nan, "stopped": info.get("stopped", ""),
            "predicted_final": info.get("predicted_final"),
            "architecture": info.get("description", ""), "config": dict(r.spec.config),
            "error": res.error.strip().splitlines()[-1] if res and res.error else "",
        })
    return pd.DataFrame(rows)
