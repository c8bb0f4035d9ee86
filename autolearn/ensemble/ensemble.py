"""The fitted ensemble an AutoML model holds, and the prediction-latency knob.

``Ensemble(members, combiner)`` computes every member's prediction and combines them with either
ensemble-selection weights (a weighted average of probabilities or values) or a fitted
:class:`~autolearn.ensemble.stacking.Stacker`. Members with zero weight are dropped at construction, so
they are never evaluated (and may be passed as ``None``, i.e. never refitted).

Latency: an ensemble predicts with each distinct member in turn, so its cost per row is the *sum* of its
members' costs (the combination itself is negligible). :func:`measure_predict_time` measures a member's
cost and :func:`choose_under_latency` runs ensemble selection in which a model may join only while the
summed cost of the distinct members stays within ``infer_time_limit`` and their number within
``max_ensemble_size`` (re-adding a member is free). This greedy rule is the natural constrained form of
Caruana et al. (2004): at each step the best *affordable* model is added, so a slow model is used only when
it pays for itself before the budget is spent on others.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from autolearn.ensemble.selection import ensemble_selection
from autolearn.ensemble.stacking import Stacker
from autolearn.evaluation.metrics import Metric, widen_proba

_TASKS = ("binary", "multiclass", "regression", "classification")


class Ensemble:
    """Members and how to combine them; picklable when the members are.

    Parameters
    ----------
    members : list of fitted estimators (or None for members with zero weight)
        Classifiers return probabilities over classes encoded 0..C-1 from ``predict_proba`` (a member
        that saw fewer classes is aligned through its ``classes_``); regressors return values.
    combiner : array of weights, or Stacker
        Non-negative weights (normalized to sum to 1) from ensemble selection, one per member, or a
        stacker fitted on the members' predictions in the same order.
    task : "binary" | "multiclass" | "regression" | None
        Inferred when None: the stacker's task, else classification when every member has
        ``predict_proba``.
    n_classes : int or None
        Number of classes; inferred from the stacker or the members' ``classes_``.
    names : list of str or None
        Member names for display (default: the estimator class names).
    """

    def __init__(self, members: Sequence[Any], combiner: Sequence[float] | np.ndarray | Stacker, *,
                 task: str | None = None, n_classes: int | None = None, names: Sequence[str] | None = None):
        if len(members) == 0:
            raise ValueError("an ensemble needs at least one member")
        if task is not None and task not in _TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {_TASKS}")
        if names is not None and len(names) != len(members):
            raise ValueError(f"{len(names)} names for {len(members)} members")
        if isinstance(combiner, Stacker):
            if combiner.n_models != len(members):
                raise ValueError(f"the stacker was fitted on {combiner.n_models} models, got {len(members)} members")
            keep = combiner.members
            self.combiner: np.ndarray | Stacker = combiner.restrict()
            task = task or combiner.task
            n_classes = n_classes or (combiner.n_classes or None)
        else:
            weights = np.asarray(combiner, dtype=np.float64).ravel()
            if weights.shape != (len(members),):
                raise ValueError(f"{len(weights)} weights for {len(members)} members")
            if not np.all(np.isfinite(weights)) or (weights < 0).any() or weights.sum() <= 0:
                raise ValueError("weights must be finite, non-negative and not all zero")
            keep = np.flatnonzero(weights)
            self.combiner = weights[keep] / weights[keep].sum()
        missing = [int(i) for i in keep if members[i] is None]
        if missing:
            raise ValueError(f"members {missing} have non-zero weight but are None")
        self.members = [members[i] for i in keep]
        self.member_index = [int(i) for i in keep]  # positions in the list given
        self.names = [names[i] if names is not None else type(members[i]).__name__ for i in keep]
        if task is None:
            task = "classification" if all(hasattr(m, "predict_proba") for m in self.members) else "regression"
        self.task = task
        self.n_classes = n_classes if n_classes is not None else self._infer_n_classes()

    @property
    def is_classifier(self) -> bool:
        return self.task != "regression"

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n, C): within [0, 1], rows summing to 1."""
        if not self.is_classifier:
            raise AttributeError("a regression ensemble has no predict_proba")
        proba = self._combine(X)
        proba = np.clip(proba, 0.0, 1.0)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Encoded class ids (argmax of :meth:`predict_proba`) or regression values."""
        if self.is_classifier:
            return self.predict_proba(X).argmax(axis=1)
        return self._combine(X)

    def member_predictions(self, X: Any) -> list[np.ndarray]:
        """Each member's probabilities (n, C) or values (n,), in member order."""
        if self.is_classifier:
            return [_aligned_proba(m, X, self.n_classes) for m in self.members]
        return [np.asarray(m.predict(X), dtype=np.float64).ravel() for m in self.members]

    def weights(self) -> list[tuple[str, float]]:
        """(member name, weight) in member order, for display. Stacker weights multiply the member's
        values (regression) or log-probabilities (classification), so they need not sum to 1."""
        w = self.combiner.weights_ if isinstance(self.combiner, Stacker) else self.combiner
        return [(name, float(v)) for name, v in zip(self.names, w)]

    def _combine(self, X: Any) -> np.ndarray:
        predictions = self.member_predictions(X)
        if isinstance(self.combiner, Stacker):
            return self.combiner.predict(predictions, X)
        out = np.zeros_like(predictions[0])
        for w, p in zip(self.combiner, predictions):
            out += w * p
        return out

    def _infer_n_classes(self) -> int | None:
        if not self.is_classifier:
            return None
        known = [int(np.max(m.classes_)) + 1 for m in self.members if hasattr(m, "classes_")]
        return max(known) if known else None  # else each member's predict_proba width

    def __repr__(self) -> str:
        kind = "stacking" if isinstance(self.combiner, Stacker) else "weights"
        return f"Ensemble(task={self.task!r}, members={self.names}, combiner={kind})"


def _aligned_proba(member: Any, X: Any, n_classes: int | None) -> np.ndarray:
    proba = np.asarray(member.predict_proba(X), dtype=np.float64)
    if n_classes is None or proba.shape[1] == n_classes:
        return proba
    classes = getattr(member, "classes_", None)
    if classes is None or len(classes) != proba.shape[1]:
        raise ValueError(f"{type(member).__name__} predicts {proba.shape[1]} classes, the ensemble {n_classes}")
    return widen_proba(proba, classes, n_classes)


def measure_predict_time(estimator: Any, X_sample: Any, *, repeats: int = 3, method: str | None = None) -> float:
    """Seconds per row for ``estimator`` to predict ``X_sample`` (``predict_proba`` when it has one).

    One warm-up call first (lazy initialization, caches), then the *minimum* over ``repeats`` timed calls:
    other processes can only add time, so the minimum is the least noisy estimate of the model's cost.
    Use a sample of a few hundred rows: per-call overhead then counts, as it does in production.
    """
    n = len(X_sample)
    if n == 0:
        raise ValueError("X_sample has no rows")
    predict = getattr(estimator, method or ("predict_proba" if hasattr(estimator, "predict_proba") else "predict"))
    predict(X_sample)
    best = float("inf")
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        predict(X_sample)
        best = min(best, time.perf_counter() - start)
    return best / n


def choose_under_latency(
    predictions: Sequence[np.ndarray],
    y: np.ndarray,
    metric: Metric,
    predict_times: Sequence[float],
    infer_time_limit: float | None = None,
    max_ensemble_size: int | None = None,
    refit_times: Sequence[float] | None = None,
    refit_time_limit: float | None = None,
    **selection: Any,
) -> np.ndarray:
    """Ensemble-selection weights whose members predict within ``infer_time_limit`` seconds per row in
    total and number at most ``max_ensemble_size`` (see the module docstring for the rule).

    ``predict_times[k]`` is model k's cost per row (:func:`measure_predict_time`); further keyword
    arguments go to :func:`~autolearn.ensemble.selection.ensemble_selection` (``size``, ``seed``, ...).
    When no model alone meets the limit, the fastest one is returned (with a warning).

    ``refit_times`` / ``refit_time_limit``: estimated seconds to refit each model on all rows, and what
    the refit may spend in total. An ensemble chosen for members that then miss the refit deadline is
    not the ensemble that was validated; choosing only among what can be refitted keeps it so.
    """
    if len(predict_times) != len(predictions):
        raise ValueError(f"{len(predict_times)} predict times for {len(predictions)} predictions")
    refit = np.zeros(len(predictions)) if refit_times is None else np.asarray(refit_times, dtype=float)
    if refit.shape != (len(predictions),):
        raise ValueError(f"{len(refit)} refit times for {len(predictions)} predictions")
    return ensemble_selection(predictions, y, metric, costs=np.column_stack([predict_times, refit]),
                              max_cost=[infer_time_limit, refit_time_limit], max_members=max_ensemble_size,
                              **selection)
