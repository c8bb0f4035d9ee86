"""Metrics as losses: every optimizer minimizes, so each metric knows how to turn a score into a loss.

A metric is given by a scikit-learn scorer name (``"roc_auc"``, ``"neg_log_loss"``, ``"r2"``...), one of
the short names below, or a callable ``score(y_true, y_pred) -> float`` (greater is better). Defaults
follow the AutoML Benchmark: ROC AUC for binary, log loss for multiclass, RMSE for regression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn import metrics as skm

from autolearn.data.validation import TASKS

DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


@dataclass(frozen=True)
class Metric:
    """``score(y_true, prediction)``; prediction is class probabilities (n, n_classes) for
    classification (``needs_proba``) or labels (``needs_labels``), and values for regression.
    ``optimum`` is the best possible score, so ``loss = sign * (optimum - score)``-style regret is
    well defined; ``greater_is_better`` orients it."""

    name: str
    score_fn: Callable[..., float]
    greater_is_better: bool
    kind: str  # "proba" | "labels" | "values"
    optimum: float

    def score(self, y_true: np.ndarray, prediction: np.ndarray) -> float:
        return float(self.score_fn(y_true, _adapt(prediction, self.kind)))

    def loss(self, y_true: np.ndarray, prediction: np.ndarray) -> float:
        """Lower is better; 0 at the optimum for bounded metrics."""
        s = self.score(y_true, prediction)
        return float(self.optimum - s) if self.greater_is_better else float(s - self.optimum)

    def score_from_loss(self, loss: float) -> float:
        return self.optimum - loss if self.greater_is_better else self.optimum + loss


def _adapt(prediction: np.ndarray, kind: str) -> np.ndarray:
    prediction = np.asarray(prediction)
    if kind == "labels" and prediction.ndim == 2:
        return prediction.argmax(axis=1)
    return prediction


def _roc_auc(y, p):
    # Ensemble selection scores thousands of candidate averages: the binary case by ranks is ~20x
    # faster than scikit-learn's input checking, with the same value (ties get average ranks).
    p = np.asarray(p)
    if p.ndim == 2 and p.shape[1] == 2:
        y = np.asarray(y)
        pos = y == 1
        n_pos = int(pos.sum())
        n_neg = len(y) - n_pos
        if n_pos == 0 or n_neg == 0:
            raise ValueError("ROC AUC needs both classes in y_true")
        ranks = rankdata(p[:, 1])
        return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return skm.roc_auc_score(y, p, multi_class="ovr", labels=np.arange(p.shape[1]))


def _log_loss(y, p):
    """Multiclass log loss on encoded labels; rows renormalized and clipped as scikit-learn does."""
    p = np.asarray(p, dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    picked = p[np.arange(len(p)), np.asarray(y, dtype=int)]
    return float(-np.mean(np.log(np.clip(picked, np.finfo(float).eps, 1.0))))


def _rmse(y, p):
    return float(np.sqrt(np.mean((np.asarray(y, dtype=float) - np.asarray(p, dtype=float).ravel()) ** 2)))


_BUILTIN: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", _roc_auc, True, "proba", 1.0),
        Metric("log_loss", _log_loss, False, "proba", 0.0),
        Metric("accuracy", skm.accuracy_score, True, "labels", 1.0),
        Metric("balanced_accuracy", skm.balanced_accuracy_score, True, "labels", 1.0),
        Metric("f1", skm.f1_score, True, "labels", 1.0),
        Metric("f1_macro", lambda y, p: skm.f1_score(y, p, average="macro"), True, "labels", 1.0),
        Metric("f1_weighted", lambda y, p: skm.f1_score(y, p, average="weighted"), True, "labels", 1.0),
        Metric("rmse", _rmse, False, "values", 0.0),
        Metric("mse", skm.mean_squared_error, False, "values", 0.0),
        Metric("mae", skm.mean_absolute_error, False, "values", 0.0),
        Metric("r2", skm.r2_score, True, "values", 1.0),
    ]
}
_ALIASES = {
    "auc": "roc_auc",
    "roc_auc_ovr": "roc_auc",
    "neg_log_loss": "log_loss",
    "logloss": "log_loss",
    "neg_root_mean_squared_error": "rmse",
    "neg_mean_squared_error": "mse",
    "neg_mean_absolute_error": "mae",
}
_CLASSIFICATION_ONLY = {"roc_auc", "log_loss", "accuracy", "balanced_accuracy", "f1", "f1_macro", "f1_weighted"}


def constant_prediction(y: np.ndarray, task: str, n_rows: int, n_classes: int) -> np.ndarray:
    """What the best constant predicts for ``n_rows`` rows: the class frequencies of ``y`` (n, K), or
    its mean (n,). The zero of every "better than nothing" comparison."""
    if task == "regression":
        return np.full(n_rows, float(np.mean(y)))
    prior = np.bincount(np.asarray(y).astype(int), minlength=n_classes) / len(y)
    return np.tile(prior, (n_rows, 1))


def widen_proba(proba: Any, columns: Any, n_columns: int) -> np.ndarray:
    """``proba``'s columns at positions ``columns`` (sorted) of an (n, ``n_columns``) matrix, zeros
    elsewhere: a model fitted on rows that missed a class never predicts it, yet ensembles, averages
    and metrics need the same columns, meaning the same classes, from every model."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape[1] == n_columns:
        return proba
    out = np.zeros((len(proba), n_columns))
    out[:, np.asarray(columns, dtype=np.intp)] = proba
    return out


def get_metric(metric: str | Callable[..., float] | Metric | None, task: str) -> Metric:
    """Resolve a metric for ``task``; a clear ValueError names an unknown or unsuitable metric."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    if metric is None:
        return _BUILTIN[DEFAULT_METRIC[task]]
    if isinstance(metric, Metric):
        return metric
    if callable(metric):
        name = getattr(metric, "__name__", "custom")
        kind = "values" if task == "regression" else "labels"
        return Metric(name, metric, True, kind, _optimum_unknown())
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a name or a callable, got {type(metric).__name__}")
    name = _ALIASES.get(metric, metric)
    if name in _BUILTIN:
        m = _BUILTIN[name]
        if task == "regression" and name in _CLASSIFICATION_ONLY:
            raise ValueError(f"metric {metric!r} is for classification, but the task is regression")
        if task != "regression" and m.kind == "values":
            raise ValueError(f"metric {metric!r} is for regression, but the task is {task}")
        if name == "f1" and task == "multiclass":
            raise ValueError("metric 'f1' is for binary tasks; use 'f1_macro' or 'f1_weighted' for multiclass")
        return m
    return _from_sklearn_scorer(metric, task)


def _optimum_unknown() -> float:
    return 0.0  # a callable's range is unknown; losses are then just -score, still monotone


def _from_sklearn_scorer(name: str, task: str) -> Metric:
    try:
        scorer = skm.get_scorer(name)
    except ValueError:
        known = sorted(set(_BUILTIN) | set(_ALIASES))
        raise ValueError(
            f"unknown metric {name!r}; use one of {', '.join(known)} or any scikit-learn scorer name"
        ) from None
    sign = getattr(scorer, "_sign", 1)
    fn: Callable[..., Any] = scorer._score_func
    kwargs = getattr(scorer, "_kwargs", {})
    response = getattr(scorer, "_response_method", "predict")
    needs_proba = response in ("predict_proba", ("decision_function", "predict_proba"))
    if task == "regression":
        kind = "values"
    else:
        kind = "proba" if needs_proba else "labels"

    def score(y, p):
        if kind == "proba" and np.asarray(p).ndim == 2 and np.asarray(p).shape[1] == 2:
            p = np.asarray(p)[:, 1]
        return fn(y, p, **kwargs)

    return Metric(name, score, sign > 0, kind, 0.0)
