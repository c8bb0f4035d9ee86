"""Linear, kernel, neighbour, naive Bayes, discriminant and neural-network models.

Each model is one ``register(Component(...))``. Ranges and defaults follow auto-sklearn and FLAML.
Regressors whose hyperparameters are in target units (SVR epsilon, Lasso alpha, MLP step sizes) see a
standardized target, so one range fits every dataset.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from ConfigSpace import Categorical, Float, Integer
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import BernoulliNB, GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR

from autolearn.components.registry import (
    CLASSIFICATION,
    TASKS,
    BuildContext,
    Component,
    Fidelity,
    register,
    sklearn_at_least,
)
from autolearn.components.warm_start import MLPContinuation

# --- helpers shared by several builders --------------------------------------------------------------------


def logistic_regression(
    C: float, *, l1_ratio: float = 0.0, solver: str = "lbfgs", seed: int = 0, max_iter: int = 1000, tol: float = 1e-4
) -> LogisticRegression:
    """LogisticRegression spelled for the installed scikit-learn (``penalty`` is deprecated from 1.8)."""
    kw: dict[str, Any] = dict(C=C, solver=solver, random_state=seed, max_iter=max_iter, tol=tol)
    if sklearn_at_least(1, 8):
        return LogisticRegression(l1_ratio=l1_ratio, **kw)
    penalty = "l2" if l1_ratio == 0 else "l1" if l1_ratio == 1 else "elasticnet"
    extra = {"l1_ratio": l1_ratio} if penalty == "elasticnet" else {}
    return LogisticRegression(penalty=penalty, **extra, **kw)


def standardized_target(regressor: Any) -> TransformedTargetRegressor:
    return TransformedTargetRegressor(regressor, transformer=StandardScaler(), check_inverse=False)


class SigmoidCalibrated(ClassifierMixin, BaseEstimator):
    """Probabilities for margin classifiers (SVMs): a logistic map fitted on out-of-fold decision values.

    Platt scaling as libsvm does it, but with folds capped by the smallest class so that it works on
    tiny or imbalanced samples, and without SVC's deprecated ``probability=True``.
    """

    def __init__(self, estimator: Any = None, cv: int = 3, seed: int = 0) -> None:
        self.estimator = estimator
        self.cv = cv
        self.seed = seed

    def fit(self, X: Any, y: Any) -> SigmoidCalibrated:
        y = np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        if len(self.classes_) < 2:  # nothing to separate: predict the only class seen
            self.estimator_ = self.calibrator_ = None
            return self
        n_splits = int(min(self.cv, counts.min()))
        if n_splits >= 2:
            folds = StratifiedKFold(n_splits, shuffle=True, random_state=self.seed)
            scores = cross_val_predict(clone(self.estimator), X, y, cv=folds, method="decision_function")
            self.estimator_ = clone(self.estimator).fit(X, y)
        else:  # a class with a single row: in-sample scores are all there is
            self.estimator_ = clone(self.estimator).fit(X, y)
            scores = self.estimator_.decision_function(X)
        self.calibrator_ = LogisticRegression(C=100.0, max_iter=1000).fit(_2d(scores), y)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.estimator_ is None:
            return np.ones((X.shape[0], 1))
        return self.calibrator_.predict_proba(_2d(self.estimator_.decision_function(X)))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _2d(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    return scores.reshape(-1, 1) if scores.ndim == 1 else scores


class _CappedNeighbors(BaseEstimator):
    """k-NN whose k is capped by the training rows, so small subsamples (low budgets, CV folds) fit."""

    def __init__(self, n_neighbors: int = 5, weights: str = "uniform", p: int = 2, n_jobs: int | None = None) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.p = p
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any) -> Any:
        k = max(1, min(self.n_neighbors, X.shape[0]))
        self.estimator_ = self._cls(n_neighbors=k, weights=self.weights, p=self.p, n_jobs=self.n_jobs).fit(X, y)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self.estimator_.predict(X)


class CappedKNeighborsClassifier(ClassifierMixin, _CappedNeighbors):
    _cls = KNeighborsClassifier

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.estimator_.predict_proba(X)


class CappedKNeighborsRegressor(RegressorMixin, _CappedNeighbors):
    _cls = KNeighborsRegressor


def _qda(reg_param: float) -> QuadraticDiscriminantAnalysis:
    # From scikit-learn 1.9 the svd solver refuses rank-deficient class covariances (any class with
    # fewer rows than features); the eigen solver with shrinkage is the regularized equivalent.
    if "shrinkage" in inspect.signature(QuadraticDiscriminantAnalysis).parameters:
        return QuadraticDiscriminantAnalysis(solver="eigen", shrinkage=reg_param)
    return QuadraticDiscriminantAnalysis(reg_param=reg_param)


def _c(default: float = 1.0) -> Float:
    return Float("C", (0.03125, 32768.0), default=default, log=True)


def _gamma() -> Float:
    return Float("gamma", (3.0517578125e-05, 8.0), default=0.1, log=True)


def _epsilon() -> Float:
    return Float("epsilon", (1e-3, 1.0), default=0.1, log=True)


# --- classification-only models ---------------------------------------------------------------------------

register(Component(
    "logistic_regression", "model", CLASSIFICATION,
    lambda p, ctx: logistic_regression(p["C"], seed=ctx.seed),
    [Float("C", (1e-4, 1e4), default=1.0, log=True)],
    needs_scaling=True, description="L2-regularized logistic regression (lbfgs)",
))
register(Component(
    "linear_svm", "model", CLASSIFICATION,
    lambda p, ctx: SigmoidCalibrated(
        LinearSVC(C=p["C"], penalty=p["penalty"], dual="auto", max_iter=2000, random_state=ctx.seed), seed=ctx.seed
    ),
    [_c(), Categorical("penalty", ["l2", "l1"], default="l2")],
    needs_scaling=True, description="linear SVM; probabilities from a sigmoid fitted out-of-fold (4 fits)",
))
register(Component(
    "rbf_svm", "model", CLASSIFICATION,
    lambda p, ctx: SigmoidCalibrated(
        SVC(C=p["C"], gamma=p["gamma"], kernel="rbf", cache_size=500, max_iter=1_000_000, random_state=ctx.seed),
        seed=ctx.seed,
    ),
    [_c(), _gamma()],
    needs_scaling=True,
    description="kernel SVM; O(n^2)-O(n^3) in rows, probabilities need 3 extra out-of-fold fits",
))
register(Component(
    "gaussian_nb", "model", CLASSIFICATION,
    lambda p, ctx: GaussianNB(var_smoothing=p["var_smoothing"]),
    [Float("var_smoothing", (1e-12, 1e-1), default=1e-9, log=True)],
    handles_sparse=False, description="Gaussian naive Bayes",
))
register(Component(
    "bernoulli_nb", "model", CLASSIFICATION,
    lambda p, ctx: BernoulliNB(alpha=p["alpha"], fit_prior=p["fit_prior"], binarize=0.0),
    [Float("alpha", (1e-2, 100.0), default=1.0, log=True), Categorical("fit_prior", [True, False], default=True)],
    needs_scaling=True, description="Bernoulli naive Bayes on features binarized at their (scaled) mean",
))
register(Component(
    "lda", "model", CLASSIFICATION,
    lambda p, ctx: LinearDiscriminantAnalysis(
        solver="lsqr",
        shrinkage={"auto": "auto", "none": None}.get(p["shrinkage"], p.get("shrinkage_factor")),
    ),
    [Categorical("shrinkage", ["auto", "manual", "none"], default="auto"),
     Float("shrinkage_factor", (0.0, 1.0), default=0.5)],
    conditions=(("shrinkage_factor", "shrinkage", "manual"),),
    handles_sparse=False, description="linear discriminant analysis (Ledoit-Wolf shrinkage by default)",
))
register(Component(
    "qda", "model", CLASSIFICATION,
    lambda p, ctx: _qda(p["reg_param"]),
    [Float("reg_param", (0.01, 1.0), default=0.1)],
    handles_sparse=False, description="quadratic discriminant analysis with regularized covariances",
))

# --- regression-only models -------------------------------------------------------------------------------

register(Component(
    "ridge", "model", ("regression",),
    lambda p, ctx: Ridge(alpha=p["alpha"], random_state=ctx.seed),
    [Float("alpha", (1e-5, 1e3), default=1.0, log=True)],
    needs_scaling=True, description="L2-regularized least squares",
))
register(Component(
    "lasso", "model", ("regression",),
    lambda p, ctx: standardized_target(Lasso(alpha=p["alpha"], max_iter=2000, random_state=ctx.seed)),
    [Float("alpha", (1e-5, 1.0), default=0.01, log=True)],
    needs_scaling=True, description="L1-regularized least squares on the standardized target",
))
register(Component(
    "elastic_net", "model", ("regression",),
    lambda p, ctx: standardized_target(
        ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=2000, random_state=ctx.seed)
    ),
    [Float("alpha", (1e-5, 1.0), default=0.01, log=True), Float("l1_ratio", (0.01, 1.0), default=0.5)],
    needs_scaling=True, description="L1+L2-regularized least squares on the standardized target",
))
register(Component(
    "linear_svr", "model", ("regression",),
    lambda p, ctx: standardized_target(
        LinearSVR(C=p["C"], epsilon=p["epsilon"], loss=p["loss"], dual="auto", max_iter=2000, random_state=ctx.seed)
    ),
    [_c(), _epsilon(),
     Categorical("loss", ["squared_epsilon_insensitive", "epsilon_insensitive"], default="squared_epsilon_insensitive")],
    needs_scaling=True, description="linear support vector regression on the standardized target",
))
register(Component(
    "rbf_svr", "model", ("regression",),
    lambda p, ctx: standardized_target(
        SVR(C=p["C"], gamma=p["gamma"], epsilon=p["epsilon"], kernel="rbf", cache_size=500, max_iter=1_000_000)
    ),
    [_c(), _gamma(), _epsilon()],
    needs_scaling=True,
    description="kernel support vector regression; O(n^2)-O(n^3) in rows",
))

# --- models for every task --------------------------------------------------------------------------------


def _knn(p: dict[str, Any], ctx: BuildContext) -> Any:
    cls = CappedKNeighborsClassifier if ctx.is_classification else CappedKNeighborsRegressor
    return cls(n_neighbors=p["n_neighbors"], weights=p["weights"], p=p["p"], n_jobs=ctx.n_jobs)


def _mlp(p: dict[str, Any], ctx: BuildContext) -> Any:
    kw = dict(
        hidden_layer_sizes=(p["num_nodes_per_layer"],) * p["hidden_layer_depth"], activation=p["activation"],
        alpha=p["alpha"], learning_rate_init=p["learning_rate_init"], max_iter=p["max_iter"],
        n_iter_no_change=10, random_state=ctx.seed,
    )
    return MLPClassifier(**kw) if ctx.is_classification else standardized_target(MLPRegressor(**kw))


register(Component(
    "knn", "model", TASKS, _knn,
    [Integer("n_neighbors", (1, 100), default=10, log=True),
     Categorical("weights", ["uniform", "distance"], default="uniform"),
     Categorical("p", [2, 1], default=2)],
    needs_scaling=True,
    description="k nearest neighbours; prediction cost grows with training rows",
))
register(Component(
    "mlp", "model", TASKS, _mlp,
    [Integer("hidden_layer_depth", (1, 3), default=1),
     Integer("num_nodes_per_layer", (16, 512), default=64, log=True),
     Categorical("activation", ["relu", "tanh"], default="relu"),
     Float("alpha", (1e-7, 1e-1), default=1e-4, log=True),
     Float("learning_rate_init", (1e-4, 0.5), default=1e-3, log=True)],
    fidelity=Fidelity("epochs", param="max_iter", full=200, min=10, warm_start=MLPContinuation()),
    needs_scaling=True, description="multi-layer perceptron (adam); budget scales the epochs",
))
