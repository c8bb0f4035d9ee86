"""Fit one configuration at one fidelity and score it: the function every worker runs.

The task data is written once per search (``save_task_data``) and read once per worker process, so a
trial costs a pipe message, not a copy of the dataset.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import scipy.sparse as sp

from autolearn.components.registry import Fidelity
from autolearn.data.schema import Schema
from autolearn.evaluation.continuation import DIRECTORY as CONTINUATION_DIRECTORY
from autolearn.evaluation.continuation import ContinuationStore, FoldModels, TrialContinuation, folds_fingerprint
from autolearn.evaluation.metrics import Metric, constant_prediction
from autolearn.evaluation.resampling import Split, subsample, validation_rows
from autolearn.evaluation.time_cap import FIT_SHARE, fit_within
from autolearn.records import Outcome, TrialSpec

MAX_WARNINGS = 5  # distinct warning messages kept per trial
REFIT = "refit"  # the TrialSpec.instance of a final fit on all training rows
FOLD_MODELS = "fold_models"  # <run dir>/fold_models/<trial>.pkl: a trial's fitted fold models (refit=False)
FOLD_MODELS_MAX_MB = 4096.0  # one trial's file may take a quarter of it; larger ones are refitted instead


@dataclass
class TaskData:
    X: pd.DataFrame | sp.csr_matrix
    y: np.ndarray  # encoded 0..K-1 for classification
    task: str
    schema: Schema
    metric: Metric
    n_classes: int
    splits: list[Split]


_cache: dict[str, tuple[float, TaskData]] = {}


def save_task_data(data: TaskData, path: str | os.PathLike) -> str:
    with open(path, "wb") as fh:
        cloudpickle.dump(data, fh)  # cloudpickle: a user's metric may be a lambda
    return os.fspath(path)


def load_task_data(path: str) -> TaskData:
    mtime = os.path.getmtime(path)
    hit = _cache.get(path)
    if hit is None or hit[0] != mtime:
        with open(path, "rb") as fh:
            _cache.clear()
            _cache[path] = (mtime, cloudpickle.load(fh))
    return _cache[path][1]


def fold_model_store(run_dir: str | os.PathLike) -> ContinuationStore:
    """Where workers leave the fold models of full-budget trials for ``refit=False``. The search deletes
    those of trials that can no longer enter the ensemble, so the store needs no cap on their count."""
    return ContinuationStore(Path(run_dir) / FOLD_MODELS, max_entries=2**31, max_mb=FOLD_MODELS_MAX_MB)


def train_folds(splits: list[Split]) -> str:
    """Which rows each fold trained on, as a digest: saved fold models fitted on others are not used."""
    return folds_fingerprint([train for train, _ in splits])


def take(X: Any, rows: np.ndarray) -> Any:
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]


def predict(model: Any, X: Any, task: str, n_classes: int) -> np.ndarray:
    """Class probabilities (n, K) for classification, values (n,) for regression."""
    if task == "regression":
        return np.asarray(model.predict(X), dtype=float).ravel()
    proba = np.asarray(model.predict_proba(X), dtype=float)
    if proba.ndim != 2 or proba.shape[1] != n_classes:
        raise ValueError(f"predict_proba returned shape {proba.shape}, expected (n, {n_classes})")
    return proba


def _uses_rows_fidelity(config: dict, fidelity: str) -> bool:
    if fidelity == "rows":
        return True
    if fidelity == "iterations":
        return False
    from autolearn.components import get

    return get(config["model"]).fidelity is None


class Evaluator:
    """``Evaluator(path)(spec)``: the validation loss of ``spec.config`` at ``spec.budget``.

    ``fidelity`` says what a budget below 1 shrinks: "rows" (a stratified subsample of each training
    fold), "iterations" (boosting rounds, trees, epochs, for models that declare them) or "auto"
    (iterations where the model has them, rows otherwise).

    With iterations, a trial below full budget keeps its fitted fold models beside the data file and a
    promoted trial continues its parent's instead of starting over (see
    :mod:`autolearn.evaluation.continuation`); ``info["warm_started"]`` says whether it could.

    A full-budget trial with a time limit trains an iterative model to as many units as fit in that
    limit (:mod:`autolearn.evaluation.time_cap`); ``info["units"]`` says how many it got.

    A full-budget trial of a model named in ``keep_fold_models`` leaves its fitted fold models in the
    run directory (``fold_model_store``), so the final ensemble can average them instead of refitting;
    ``info["fold_models"]`` says whether they were kept.
    """

    def __init__(self, data_path: str, fidelity: str = "auto", components: tuple = (),
                 preload: tuple[str, ...] = (), keep_fold_models: Collection[str] = ()) -> None:
        if fidelity not in ("auto", "rows", "iterations"):
            raise ValueError(f"fidelity must be 'auto', 'rows' or 'iterations', got {fidelity!r}")
        self.data_path = data_path
        self.fidelity = fidelity
        self.components = components  # user-registered components the worker must know
        self.preload = preload  # heavy modules some components need (torch for "nn")
        self.keep_fold_models = frozenset(keep_fold_models)

    def prepare(self) -> None:
        """Once per worker, before its first trial's clock starts: modules, components and the data."""
        import importlib

        for module in self.preload:
            importlib.import_module(module)
        if self.components:
            from autolearn.components import ensure_registered

            ensure_registered(self.components)
        load_task_data(self.data_path)

    def __call__(self, spec: TrialSpec) -> Outcome:
        data = load_task_data(self.data_path)
        # A model's warnings (non-convergence at a low epoch budget, ...) belong to its trial record,
        # not to the user's console, where hundreds of trials would bury the progress display.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcome = self._refit(data, spec) if spec.instance == REFIT else self._validate(data, spec)
        messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        if messages:
            outcome.info["warnings"] = messages[:MAX_WARNINGS]
        return outcome

    def _build(self, data: TaskData, spec: TrialSpec, n_rows: int, budget: float) -> Any:
        from autolearn.pipeline import build_pipeline

        return build_pipeline(dict(spec.config), task=data.task, schema=data.schema, seed=spec.seed,
                              budget=budget, n_rows=n_rows, n_classes=data.n_classes or None)

    def _validate(self, data: TaskData, spec: TrialSpec) -> Outcome:
        started = time.perf_counter()
        config = dict(spec.config)
        by_rows = spec.budget < 1.0 and _uses_rows_fidelity(config, self.fidelity)
        model_budget = 1.0 if by_rows else spec.budget
        carry = None if by_rows else self._continuation(data, spec)
        cap = _time_cap(spec)
        units = None  # set by the first fold of a time-capped trial; the other folds fit as many
        parts, fold_losses, models = [], [], []
        fit_time = predict_time = 0.0
        n_train = 0
        for fold, (train, valid) in enumerate(data.splits):
            if by_rows:
                train = subsample(train, data.y, spec.budget, data.task, spec.seed + fold)
            n_train = len(train)
            t0 = time.perf_counter()
            if cap is not None and units is None:
                assert spec.limits.wall_time is not None
                seconds = (FIT_SHARE * spec.limits.wall_time - (t0 - started)) / (len(data.splits) - fold)
                model, units = fit_within(partial(self._build, data, spec, len(train)), cap,
                                          take(data.X, train), data.y[train], seconds)
            elif carry is None:
                budget = units / cap.full if cap is not None and units is not None else model_budget
                model = self._build(data, spec, len(train), budget).fit(take(data.X, train), data.y[train])
            else:
                model = carry.fit(fold, take(data.X, train), data.y[train],
                                  partial(self._build, data, spec, len(train), model_budget))
            t1 = time.perf_counter()
            pred = predict(model, take(data.X, valid), data.task, data.n_classes)
            predict_time += time.perf_counter() - t1
            fit_time += t1 - t0
            if not np.all(np.isfinite(pred)):
                raise ValueError(f"the model predicted non-finite values on fold {fold}")
            fold_losses.append(data.metric.loss(data.y[valid], pred))
            parts.append(pred)
            models.append(model)
        oof = np.concatenate(parts)
        loss = data.metric.loss(data.y[validation_rows(data.splits)], oof)
        if not np.isfinite(loss):
            raise ValueError(f"the validation loss is not finite ({loss})")
        n_valid = len(oof)
        info = {
            "model": config.get("model", ""),
            "score": data.metric.score_from_loss(loss),
            "fold_losses": [float(v) for v in fold_losses],
            "fit_time": fit_time,
            "predict_time_per_row": predict_time / max(n_valid, 1),
            "n_train": n_train,
            "fidelity": "rows" if by_rows else ("iterations" if spec.budget < 1.0 else "full"),
        }
        if cap is not None:
            info.update(units=units, units_full=cap.full, time_capped=bool(units is not None and units < cap.full))
        if carry is not None:
            info.update(carry.finish(fit_time))
        elif spec.parent is not None:
            info["warm_started"] = False
        if config.get("model") in self.keep_fold_models and spec.budget >= 1.0:
            kept = FoldModels(config, train_folds(data.splits), units or 0, fit_time, models)
            info["fold_models"] = fold_model_store(Path(self.data_path).parent).save(spec.trial_id, kept)
        return Outcome(values=(float(loss),), info=info, artifacts=oof.astype(np.float32))

    def _continuation(self, data: TaskData, spec: TrialSpec) -> TrialContinuation | None:
        """Continuation bookkeeping for trials a scheduler made (below full budget, or promoted) whose
        model can train on; None for everything else, so plain full-budget searches pay nothing."""
        if spec.budget >= 1.0 and spec.parent is None:
            return None
        from autolearn.components import get

        fidelity = get(spec.config["model"]).fidelity
        if fidelity is None or fidelity.warm_start is None:
            return None
        store = ContinuationStore(Path(self.data_path).parent / CONTINUATION_DIRECTORY)
        return TrialContinuation.start(store, spec, fidelity, [train for train, _ in data.splits])

    def _refit(self, data: TaskData, spec: TrialSpec) -> Outcome:
        """All rows at ``spec.budget``: 1, or the units a time-capped trial's models had (``refit_budget``).

        ``info`` also carries the refit's loss on (a sample of) its own training rows and a constant
        predictor's loss there, for :func:`broken_refit` to tell a refit that went wrong.
        """
        rows = np.arange(len(data.y))
        model = self._build(data, spec, len(rows), spec.budget)
        t0 = time.perf_counter()
        model.fit(data.X, data.y)
        info: dict[str, Any] = {"fit_time": time.perf_counter() - t0}
        info.update(training_losses(model, data, spec.seed))
        return Outcome(values=(), info=info, artifacts=model)


REFIT_CHECK_ROWS = 2000  # the in-sample check of a refit predicts at most this many of its training rows


def training_losses(model: Any, data: TaskData, seed: int) -> dict[str, float]:
    """The fitted model's loss on a seeded sample of its training rows and a constant predictor's."""
    n = len(data.y)
    rows = np.sort(np.random.default_rng(seed).choice(n, min(n, REFIT_CHECK_ROWS), replace=False))
    y = data.y[rows]
    constant = constant_prediction(data.y, data.task, len(rows), data.n_classes)
    pred = predict(model, take(data.X, rows), data.task, data.n_classes)
    train_loss = float(data.metric.loss(y, pred)) if np.all(np.isfinite(pred)) else math.inf
    return {"train_loss": train_loss, "constant_loss": float(data.metric.loss(y, constant))}


def broken_refit(info: Mapping[str, Any], validation_loss: float) -> str | None:
    """Why a refit on all rows is not the model that was validated, or None when it looks sane.

    A model scores at least as well on rows it was trained on as on held-out ones; a refit whose
    training-row loss is over twice its configuration's validation loss *and* gives away more than a
    tenth of the way from that loss to a constant predictor's has gone wrong (a histogram gradient
    boosting refit with no L2 that saturated to probabilities of 0 and 1: training-row log loss far
    above the 0.24 it validated at). Such a member would be worse than leaving it out.
    """
    train, constant = info.get("train_loss"), info.get("constant_loss")
    if train is None or constant is None or not math.isfinite(validation_loss):
        return None
    if train <= 2.0 * validation_loss or train - validation_loss <= 0.1 * max(constant - validation_loss, 0.0):
        return None
    return (f"the refit on all rows scores a loss of {train:.4g} on its own training rows, against {validation_loss:.4g} "
            f"validated (a constant predictor: {constant:.4g}); it is left out of the final model")


def _time_cap(spec: TrialSpec) -> Fidelity | None:
    """The model's fidelity when this trial trains it within its time limit (``fit_within``), else None:
    only full-budget trials of their own (a scheduler's lower rungs and promotions have their units set)."""
    if spec.budget < 1.0 or spec.parent is not None or not spec.limits.wall_time:
        return None
    from autolearn.components import get

    component = get(spec.config["model"])
    return component.fidelity if component.time_capped else None


def refit_time_estimate(info: dict, n_folds: int, holdout_fraction: float | None) -> float:
    """Seconds a refit on all rows should take, from the validation fits' measured time (for a
    warm-started trial, the time its models took from scratch: a refit does not continue anything)."""
    fit_time = float(info.get("cumulative_fit_time", info.get("fit_time", 0.0)))
    if holdout_fraction is not None:
        return fit_time / (1.0 - holdout_fraction)
    return fit_time / max(n_folds - 1, 1)
