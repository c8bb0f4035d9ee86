"""Test-set metrics as the AutoML Benchmark reports them.

Main metric per task (AMLB): ROC AUC for binary, log loss for multiclass, RMSE for regression; also
accuracy, balanced accuracy and R². ``score`` is the main metric oriented so that higher is better
(AUC, −log loss, −RMSE), which is what normalization, ranks and win/tie/loss compare.

Class labels are codes 0..K-1 (see ``splits.encode_target``) and probabilities arrive as (n, K)
matrices in that column order, so a system that never saw a rare class still gets a log loss.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

MAIN_METRIC = {"binary": "auc", "multiclass": "logloss", "regression": "rmse"}
HIGHER_IS_BETTER = {"auc": True, "logloss": False, "rmse": False, "acc": True, "balacc": True, "r2": True}
PROBA_EPS = 1e-15


def oriented(metric: str, value: float) -> float:
    """``value`` of ``metric`` turned so that higher is better (AMLB's ``result`` column)."""
    return value if HIGHER_IS_BETTER[metric] else -value


def align_proba(proba: np.ndarray, classes: list, n_classes: int) -> np.ndarray:
    """Put a system's probability columns (in its own ``classes`` order) into columns 0..K-1,
    zero for classes it never predicts, then clip and renormalize so log loss stays finite."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 1:  # P(class 1) only
        proba = np.column_stack([1.0 - proba, proba])
    out = np.zeros((proba.shape[0], n_classes))
    for j, c in enumerate(classes):
        code = int(float(c))
        if not 0 <= code < n_classes:
            raise ValueError(f"class {c!r} is not one of the codes 0..{n_classes - 1}")
        out[:, code] += proba[:, j]
    if not np.isfinite(out).all():
        raise ValueError("probabilities contain NaN or infinity")
    out = np.clip(out, PROBA_EPS, 1.0)
    return out / out.sum(axis=1, keepdims=True)


def evaluate(task: str, y_true: np.ndarray, proba: np.ndarray | None = None,
             pred: np.ndarray | None = None) -> dict[str, float]:
    """All metrics of one prediction. Classification needs ``proba`` ((n, K), columns 0..K-1);
    ``pred`` (labels) defaults to its argmax. Regression needs ``pred``."""
    y_true = np.asarray(y_true)
    if task == "regression":
        pred = np.asarray(pred, dtype=float)
        if not np.isfinite(pred).all():
            raise ValueError("predictions contain NaN or infinity")
        rmse = math.sqrt(mean_squared_error(y_true, pred))
        out = {"rmse": rmse, "r2": float(r2_score(y_true, pred)), "acc": math.nan, "balacc": math.nan,
               "auc": math.nan, "logloss": math.nan}
    else:
        proba = np.asarray(proba, dtype=float)
        n_classes = proba.shape[1]
        pred = proba.argmax(axis=1) if pred is None else np.asarray(pred).astype(int)
        both_classes = len(np.unique(y_true)) == 2
        out = {
            "logloss": float(log_loss(y_true, proba, labels=list(range(n_classes)))),
            "auc": float(roc_auc_score(y_true, proba[:, 1])) if task == "binary" and both_classes else math.nan,
            "acc": float(accuracy_score(y_true, pred)),
            "balacc": float(balanced_accuracy_score(y_true, pred)),
            "rmse": math.nan, "r2": math.nan,
        }
    main = MAIN_METRIC[task]
    out["metric"] = main  # type: ignore[assignment]
    out["score"] = oriented(main, out[main])
    return out


def n_classes(task: str, y_encoded: np.ndarray) -> int:
    """Number of classes of an encoded target (0 for regression)."""
    return 0 if task == "regression" else int(np.max(y_encoded)) + 1


def score_model(task: str, model: Any, X_test: Any, y_test: np.ndarray, n_classes: int) -> dict[str, float]:
    """Every metric of a fitted model on the test rows (labels encoded 0..K-1 for classification):
    ``predict`` for regression, else ``predict_proba`` aligned through the model's ``classes_``."""
    if task == "regression":
        return evaluate(task, y_test, pred=model.predict(X_test))
    proba = align_proba(model.predict_proba(X_test), [int(c) for c in model.classes_], n_classes)
    return evaluate(task, y_test, proba=proba)


def relative_change(value: float, reference: float, higher_is_better: bool) -> float:
    """``(value − reference) / |reference|``, oriented so that positive means better."""
    if not (math.isfinite(value) and math.isfinite(reference)):
        return math.nan
    diff = value - reference if higher_is_better else reference - value
    if abs(reference) < 1e-12:
        return 0.0 if abs(diff) < 1e-12 else math.copysign(math.inf, diff)
    return diff / abs(reference)


def outcome(change: float, tol: float) -> str:
    """``beats`` / ``ties`` / ``loses`` at a relative tolerance ``tol``; no change (NaN) is ``failed``."""
    if math.isnan(change):
        return "failed"
    return "beats" if change > tol else "loses" if change < -tol else "ties"


def constant_prediction(task: str, y_train: np.ndarray, n_test: int, n_classes: int) -> np.ndarray:
    """The constant predictor AMLB normalizes against: class priors of the training rows, or their mean."""
    y_train = np.asarray(y_train)
    if task == "regression":
        return np.full(n_test, float(np.mean(y_train)))
    prior = np.bincount(y_train.astype(int), minlength=n_classes) / len(y_train)
    return np.tile(prior, (n_test, 1))


def constant_score(task: str, y_train: np.ndarray, y_test: np.ndarray, n_classes: int) -> float:
    """Oriented main-metric score of the constant predictor on one split (normalization's zero)."""
    pred = constant_prediction(task, y_train, len(y_test), n_classes)
    if task == "regression":
        return evaluate(task, y_test, pred=pred)["score"]
    return evaluate(task, y_test, proba=align_proba(pred, list(range(n_classes)), n_classes))["score"]
