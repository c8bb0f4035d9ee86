"""Penalized stacking: a sparse linear meta-model over the base models' out-of-fold predictions.

The ensemble is ``f(x) = g(b + sum_k w_k phi_k(x))`` with ``phi_k`` member k's prediction (Wolpert 1992;
Breiman 1996, *Stacked regressions*). The weights are fitted on out-of-fold predictions, penalized so that
the highly correlated members of an AutoML library don't get wild, offsetting weights, and — with the
lasso or the elastic net — *sparse*: a member with weight 0 is dropped, and never refitted or evaluated
at prediction time.

Regression: ``phi_k`` is the predicted value and ``g`` the identity; ridge, lasso or elastic net on the
standardized predictions (``positive=True`` gives non-negative weights, Breiman's recommendation).

Classification: ``phi_k`` is member k's **log-probability vector** and ``g`` the softmax, with **one weight
per member shared by all classes** (a log-linear pool / product of experts). Why, instead of a multinomial
logistic regression on all K·C probabilities:

* with two classes it *is* logistic regression on the members' logits, i.e. Platt scaling of a weighted
  vote, and any single member is reproduced exactly (``w_k = 1``); a linear model on raw probabilities
  cannot reproduce even one calibrated member;
* K + C parameters instead of C·K·C: fitted on the rows the members were tuned on, the full model is
  prone to overfit, and a member's C·C coefficients don't say whether it matters; here a member is
  selected or dropped as a whole, which is what pruning the ensemble needs;
* the constraint ``w >= 0`` (via L-BFGS-B bounds, see ``_penalized.py``) means "use or don't use a
  member", which scikit-learn's LogisticRegression cannot express.
Probabilities are clipped at 1e-6 before the log, so an overconfident member's 0 costs a finite -13.8.

The penalty strength is chosen by K-fold CV on the meta-model's own loss (squared error or cross-entropy),
or by AIC / BIC with effective degrees of freedom (the number of non-zero weights for the lasso, Zou,
Hastie & Tibshirani 2007; the ridge trace formula otherwise). With CV, the lasso and the elastic net are
*relaxed* (Meinshausen 2007): the members are those of the sparsest model within one standard error of
the best (Hastie, Tibshirani & Friedman, ESL §7.10 — every dropped member saves prediction time, and the
CV-minimum lasso keeps noise members with small weights), and their weights are then refitted at the
CV-minimum penalty of that smaller problem, so selection does not also shrink the weights: a shrunk
softmax pool is a badly calibrated one. AIC / BIC are relaxed the same way: each member set along the
path is scored refitted at the smallest penalty of the grid, with its effective degrees of freedom.
BIC, consistent for model selection, drops pure-noise members most reliably; CV predicts best.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from autolearn.ensemble._penalized import PathPoint, SoftmaxPooling, SquaredLoss

METHODS = {"ridge": (0.0,), "lasso": (1.0,), "elasticnet": (0.25, 0.5, 0.75)}
PENALTY_SELECTION = ("cv", "aic", "bic")
_EPS = 1e-6  # probability floor before the log


class Stacker:
    """A fitted meta-model (use :func:`fit_stacker`); picklable.

    Attributes
    ----------
    task : "binary" | "multiclass" | "regression"
    n_models : int
        How many predictions :meth:`predict` expects (entries of non-members may be ``None``).
    members : ndarray of int
        Indices of the predictions with a non-zero weight; the others can be dropped.
    weights_ : ndarray of shape (n_models,)
        Weight of each member's prediction (regression) or log-probabilities (classification), for display.
    intercept_ : ndarray of shape (1,) for regression, (C,) for classification
    lam_, l1_ratio_ : float
        The selected penalty (glmnet scale, on standardized features).
    """

    def __init__(self, task: str, weights: np.ndarray, intercept: np.ndarray, passthrough_coef: np.ndarray,
                 numeric: _NumericColumns | None, n_classes: int, lam: float, l1_ratio: float, method: str) -> None:
        self.task = task
        self.weights_ = weights
        self.intercept_ = intercept
        self.passthrough_coef_ = passthrough_coef
        self.numeric = numeric
        self.n_classes = n_classes
        self.lam_, self.l1_ratio_, self.method = lam, l1_ratio, method

    @property
    def n_models(self) -> int:
        return len(self.weights_)

    @property
    def members(self) -> np.ndarray:
        return np.flatnonzero(self.weights_)

    @property
    def passthrough(self) -> bool:
        return self.numeric is not None

    def predict(self, predictions: Sequence[np.ndarray | None], X: Any = None) -> np.ndarray:
        """Class probabilities (n, C), rows summing to 1, or values (n,). ``X`` is needed with passthrough
        (and tells the row count when there are no members)."""
        if len(predictions) != self.n_models:
            raise ValueError(f"expected {self.n_models} predictions, got {len(predictions)}")
        n = _row_count(predictions, self.members, X)
        if self.task == "regression":
            out = np.full(n, float(self.intercept_[0]))
            for k in self.members:
                out += self.weights_[k] * np.asarray(predictions[k], dtype=np.float64).reshape(n)
            if self.numeric is not None:
                out += self.numeric.transform(X) @ self.passthrough_coef_.ravel()
            return out
        z = np.tile(self.intercept_, (n, 1))
        for k in self.members:
            z += self.weights_[k] * _log_proba(predictions[k], self.n_classes)
        if self.numeric is not None:
            rows = [1] if self.n_classes == 2 else list(range(self.n_classes))
            z[:, rows] += self.numeric.transform(X) @ self.passthrough_coef_.T
        z -= z.max(axis=1, keepdims=True)
        proba = np.exp(z)
        return proba / proba.sum(axis=1, keepdims=True)

    def restrict(self) -> Stacker:
        """The same meta-model over its members only (``n_models == len(members)``)."""
        restricted = copy.copy(self)
        restricted.weights_ = self.weights_[self.members].copy()
        return restricted

    def __repr__(self) -> str:
        return (f"Stacker(task={self.task!r}, method={self.method!r}, members={self.members.tolist()}, "
                f"passthrough={self.passthrough})")


def fit_stacker(
    predictions: Sequence[np.ndarray],
    y: np.ndarray,
    task: str,
    method: str = "ridge",
    positive: bool = False,
    penalty_selection: str = "cv",
    seed: int = 0,
    *,
    passthrough: bool = False,
    X: Any = None,
    cv: int = 5,
    support_rule: str = "1se",
    n_lambdas: int = 20,
    l1_ratios: Sequence[float] | None = None,
) -> Stacker:
    """Fit a penalized meta-model on out-of-fold ``predictions`` (one per model, (n,) or (n, C)).

    Parameters
    ----------
    task : "binary" | "multiclass" | "regression"
    method : "ridge" | "lasso" | "elasticnet"
        The penalty (l2 / l1 / both); the lasso and the elastic net drop members.
    positive : bool
        Non-negative member weights (passed-through features stay free).
    penalty_selection : "cv" | "aic" | "bic"
        How the penalty strength is chosen; BIC drops noise members most reliably.
    passthrough, X :
        Also give the meta-model the numeric columns of ``X`` (the original features of the same rows),
        standardized, missing values at the mean; :meth:`Stacker.predict` then needs ``X`` too.
    cv, support_rule :
        Folds for ``"cv"``, and which penalty picks the members of a lasso or elastic net under CV:
        ``"1se"`` (the sparsest within one SE of the best, then weights refitted, see above) or ``"min"``.
    n_lambdas, l1_ratios :
        Penalty grid size; the elastic net's mixing values (default 0.25, 0.5, 0.75).
    """
    if task not in ("binary", "multiclass", "regression"):
        raise ValueError(f"unknown task {task!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if penalty_selection not in PENALTY_SELECTION:
        raise ValueError(f"penalty_selection must be one of {PENALTY_SELECTION}, got {penalty_selection!r}")
    if support_rule not in ("1se", "min"):
        raise ValueError(f"support_rule must be '1se' or 'min', got {support_rule!r}")
    if passthrough and X is None:
        raise ValueError("passthrough=True needs X, the original features of the validation rows")
    if len(predictions) == 0:
        raise ValueError("fit_stacker needs at least one prediction")
    y = np.asarray(y)
    if any(len(p) != len(y) for p in predictions):
        raise ValueError(f"every prediction needs one row per target value ({len(y)})")
    numeric = _NumericColumns(X) if passthrough else None
    Xp = numeric.transform(X) if numeric is not None else np.zeros((len(y), 0))
    mixing = tuple(l1_ratios) if (l1_ratios is not None and method == "elasticnet") else METHODS[method]

    if task == "regression":
        M = np.column_stack([np.asarray(p, dtype=np.float64).reshape(len(y)) for p in predictions])
        mean, scale = M.mean(axis=0), _scale(M.std(axis=0))
        design = np.hstack([(M - mean) / scale, Xp])
        nonneg = np.r_[np.full(M.shape[1], positive), np.zeros(Xp.shape[1], dtype=bool)]
        problem: SquaredLoss | SoftmaxPooling = SquaredLoss(design, y, nonneg, M.shape[1])
        folds = _folds(y, None, cv, seed)
    else:
        L = np.stack([_log_proba(p, None) for p in predictions])  # (K, n, C)
        if (task == "binary") != (L.shape[2] == 2) or y.min() < 0 or y.max() >= L.shape[2]:
            raise ValueError(f"a {task} task needs class ids in 0..C-1 and (n, C) probabilities; got C = "
                             f"{L.shape[2]} and class ids {y.min()}..{y.max()}")
        L -= L.mean(axis=2, keepdims=True)  # per-row constants cancel in the softmax; better conditioned
        scale = _scale(L.reshape(len(L), -1).std(axis=1))
        problem = SoftmaxPooling(L / scale[:, None, None], Xp, y.astype(np.intp), positive)
        folds = _folds(y, L.shape[2], cv, seed)

    if penalty_selection == "cv" and folds is None:
        warnings.warn("too few rows per class for cross-validation; choosing the penalty by BIC", stacklevel=2)
        penalty_selection = "bic"
    K = len(predictions)
    with threadpool_limits(limits=1, user_api="blas"):  # tiny BLAS calls: threads only add overhead
        if penalty_selection != "cv":
            point = _by_criterion(problem, mixing, n_lambdas, penalty_selection, K)
        elif method == "ridge" or support_rule == "min":
            point = _by_cv(problem, folds, mixing, n_lambdas, "min")
        else:
            point = _relaxed(problem, folds, mixing, n_lambdas, K)
    beta = point.coef[:K] / scale
    if task == "regression":
        intercept = np.array([point.intercept[0] - float(beta @ mean)])
        pass_coef = point.coef[K:].copy()
        n_classes = 0
    else:
        intercept = point.intercept.copy()
        n_classes = L.shape[2]
        pass_coef = point.coef[K:].reshape(-1, Xp.shape[1]) if Xp.shape[1] else np.zeros((0, 0))
    return Stacker(task, beta, intercept, pass_coef, numeric, n_classes, point.lam, point.l1_ratio, method)


# -- penalty selection ---------------------------------------------------------------------------------
def _grid(problem: SquaredLoss | SoftmaxPooling, l1_ratio: float, n_lambdas: int) -> np.ndarray:
    decades = 4 if l1_ratio > 0 else 7  # the ridge grid starts higher (lambda_max proxy) and must reach ~OLS
    return problem.lambda_max(l1_ratio) * np.logspace(0, -decades, n_lambdas)


def _by_cv(problem: SquaredLoss | SoftmaxPooling, folds: list[tuple[np.ndarray, np.ndarray]],
           mixing: Sequence[float], n_lambdas: int, rule: str) -> PathPoint:
    curves = []
    for a in mixing:
        lambdas = _grid(problem, a, n_lambdas)
        losses = np.empty((len(folds), n_lambdas))
        for f, (train, valid) in enumerate(folds):
            held_out = problem.subset(valid)
            losses[f] = [held_out.mean_loss(p) for p in problem.subset(train).path(lambdas, a)]
        curves.append((a, lambdas, losses.mean(axis=0), losses.std(axis=0, ddof=1) / math.sqrt(len(folds))))
    best = min(range(len(curves)), key=lambda i: curves[i][2].min())
    a, lambdas, mean, se = curves[best]
    j = int(np.argmin(mean))
    if rule == "1se":  # lambdas decrease: the first one within one SE of the minimum is the sparsest
        j = int(np.flatnonzero(mean <= mean[j] + se[j])[0])
    return problem.path(lambdas[: j + 1], a)[-1]  # warm-started down to the chosen penalty


def _relaxed(problem: SquaredLoss | SoftmaxPooling, folds: list[tuple[np.ndarray, np.ndarray]],
             mixing: Sequence[float], n_lambdas: int, K: int) -> PathPoint:
    """Members by the one-SE rule, their weights refitted at the CV minimum over those members only."""
    sparse = _by_cv(problem, folds, mixing, n_lambdas, "1se")
    support = np.flatnonzero(sparse.coef[:K])
    if len(support) == 0:
        return sparse
    return _expand(_by_cv(problem.select(support), folds, mixing, n_lambdas, "min"), support, K)


def _by_criterion(problem: SquaredLoss | SoftmaxPooling, mixing: Sequence[float], n_lambdas: int,
                  criterion: str, K: int) -> PathPoint:
    """The point minimizing deviance + c * dof (c = 2 or log n). For a sparse penalty the criterion scores
    each member set the path visits *refitted* at the grid's smallest penalty: scored as fitted, the
    shrinkage of the sparse points costs so much deviance that the criterion always picks the densest."""
    per_dof = 2.0 if criterion == "aic" else math.log(problem.n)
    scored: list[tuple[float, int, PathPoint]] = []
    for a in mixing:
        lambdas = _grid(problem, a, n_lambdas)
        path = problem.path(lambdas, a)
        if a == 0:
            scored += [(problem.deviance(p) + per_dof * problem.dof(p), 0, p) for p in path]
            continue
        supports = dict.fromkeys(tuple(np.flatnonzero(p.coef[:K])) for p in path)
        for support in supports:
            if not support:
                point = path[0]  # lambda_max: no member
                scored.append((problem.deviance(point) + per_dof * problem.dof(point), 0, point))
                continue
            sub = problem.select(np.array(support))
            refit = sub.path(lambdas[-1:], a)[-1]
            score = sub.deviance(refit) + per_dof * sub.dof(refit)
            scored.append((score, len(support), _expand(refit, np.array(support), K)))
    return min(scored, key=lambda s: (s[0], s[1]))[2]  # ties: the fewer members


def _expand(point: PathPoint, support: np.ndarray, K: int) -> PathPoint:
    """A point fitted on ``support`` members (plus passthrough) as a point over all K members."""
    coef = np.zeros(K + len(point.coef) - len(support))
    coef[support] = point.coef[: len(support)]
    coef[K:] = point.coef[len(support):]
    return PathPoint(point.lam, point.l1_ratio, point.intercept, coef)


def _folds(y: np.ndarray, n_classes: int | None, cv: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
    if n_classes is None:
        k = min(cv, len(y) // 2)
        return None if k < 2 else list(KFold(k, shuffle=True, random_state=seed).split(y))
    counts = np.bincount(y.astype(np.intp), minlength=n_classes)
    k = min(cv, int(counts[counts > 0].min()))
    if k < 2:
        return None
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


# -- features ------------------------------------------------------------------------------------------
def _log_proba(p: np.ndarray | None, n_classes: int | None) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or (n_classes is not None and p.shape[1] != n_classes):
        raise ValueError(f"classification predictions must be (n, {n_classes or 'C'}) probabilities, got {p.shape}")
    return np.log(np.clip(p, _EPS, 1.0))


def _scale(std: np.ndarray) -> np.ndarray:
    return np.where(std > 1e-12, std, 1.0)


def _row_count(predictions: Sequence[np.ndarray | None], members: np.ndarray, X: Any) -> int:
    for k in members:
        if predictions[k] is None:
            raise ValueError(f"prediction {k} is None but model {k} is a member of the stacker")
        return len(predictions[k])  # type: ignore[arg-type]
    if X is None:
        raise ValueError("the stacker has no members; pass X so it knows how many rows to predict")
    return len(X)


class _NumericColumns:
    """The numeric columns of X for passthrough: chosen and standardized at fit, mean-imputed."""

    def __init__(self, X: Any) -> None:
        self.columns = (list(X.select_dtypes(include=["number", "bool"]).columns)
                        if hasattr(X, "select_dtypes") else None)
        values = self._values(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
            mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
        self.mean = np.nan_to_num(mean)
        self.scale = _scale(np.nan_to_num(std))

    def _values(self, X: Any) -> np.ndarray:
        if self.columns is not None:
            values = X[self.columns].to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values = np.asarray(X, dtype=np.float64)
            if values.ndim != 2:
                raise ValueError(f"passthrough X must be 2-D, got shape {values.shape}")
        return np.where(np.isfinite(values), values, np.nan)

    def transform(self, X: Any) -> np.ndarray:
        if X is None:
            raise ValueError("this stacker passes the original features through; predict needs X")
        return np.nan_to_num((self._values(X) - self.mean) / self.scale)
