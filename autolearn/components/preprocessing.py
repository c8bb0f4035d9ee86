"""Tuned preprocessing steps: numeric imputers, categorical encoders, scalers and feature steps.

Every builder returns an estimator that also works on sparse input (steps that would densify step
aside through :class:`DenseOrSparse`) and never fails on categories or missing values first seen at
predict time.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
from ConfigSpace import Categorical, Float, Integer
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.decomposition import PCA
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.feature_selection import (
    SelectFromModel,
    SelectPercentile,
    f_classif,
    f_regression,
    mutual_info_classif,
    mutual_info_regression,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Lasso
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
    TargetEncoder,
)

from autolearn.components.models import logistic_regression
from autolearn.components.registry import CLASSIFICATION, TASKS, BuildContext, Component, register, sklearn_at_least
from autolearn.components.transformers import DenseOrSparse

# --- imputers (numeric columns; categorical missing values are a category of their own) -------------


def _imputer(strategy: str):
    def build(p: dict[str, Any], ctx: BuildContext) -> SimpleImputer:
        # Columns empty on the training data were dropped upstream; keep_empty_features keeps the
        # column count stable when a subsample happens to miss every value of one.
        return SimpleImputer(strategy=strategy, add_indicator=p["add_indicator"], keep_empty_features=True)

    return build


for _strategy in ("mean", "median", "most_frequent"):
    register(Component(
        _strategy, "imputer", TASKS, _imputer(_strategy),
        [Categorical("add_indicator", [False, True], default=False)],
        description=f"fill missing numeric values with the column {_strategy.replace('_', ' ')}",
    ))


# --- categorical encoders ----------------------------------------------------------------------------


def _one_hot(p: dict[str, Any], ctx: BuildContext) -> OneHotEncoder:
    return OneHotEncoder(
        handle_unknown="infrequent_if_exist", min_frequency=p["min_frequency"], max_categories=p["max_categories"],
        sparse_output=False, dtype=np.float64,
    )


def _ordinal(p: dict[str, Any], ctx: BuildContext) -> OrdinalEncoder:
    return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64)


class OutOfFoldTargetEncoder(TransformerMixin, BaseEstimator):
    """scikit-learn's TargetEncoder (cross-fitted on the training rows, so the model never sees a
    row's own target through its encoding) with folds that adapt to tiny or imbalanced data.

    Unseen categories are encoded with the target mean; missing values are a category upstream.
    """

    def __init__(self, task: str = "binary", cv: int = 5, seed: int = 0) -> None:
        self.task = task
        self.cv = cv
        self.seed = seed

    def _encoder(self, y: np.ndarray) -> TargetEncoder:
        classification = self.task in CLASSIFICATION
        if classification:
            largest = int(np.unique(y, return_counts=True)[1].max()) if len(y) else 0
            n_splits = max(2, min(self.cv, largest))
            splitter = StratifiedKFold(n_splits, shuffle=True, random_state=self.seed)
        else:
            n_splits = max(2, min(self.cv, len(y)))
            splitter = KFold(n_splits, shuffle=True, random_state=self.seed)
        target_type = "auto" if classification else "continuous"
        if sklearn_at_least(1, 9):
            return TargetEncoder(target_type=target_type, cv=splitter)
        return TargetEncoder(target_type=target_type, cv=n_splits, shuffle=True, random_state=self.seed)

    def fit(self, X: Any, y: Any) -> OutOfFoldTargetEncoder:
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        y = np.asarray(y)
        self.encoder_ = self._encoder(y)
        with warnings.catch_warnings():  # "least populated class has only k members": expected on small data
            warnings.filterwarnings("ignore", category=UserWarning, module="sklearn.model_selection")
            return self.encoder_.fit_transform(X, y)

    def transform(self, X: Any) -> np.ndarray:
        return self.encoder_.transform(X)


register(Component(
    "one_hot", "encoder", TASKS, _one_hot,
    [Float("min_frequency", (1e-4, 0.1), default=0.01, log=True),
     Integer("max_categories", (4, 256), default=64, log=True)],
    description="one column per frequent category; rare and unseen categories share one 'infrequent' column",
))
register(Component("ordinal", "encoder", TASKS, _ordinal, description="category codes; unseen → -1 (for trees)"))
register(Component(
    "target", "encoder", TASKS, lambda p, ctx: OutOfFoldTargetEncoder(ctx.task, seed=ctx.seed),
    description="out-of-fold smoothed target means; one column per class for multiclass",
))


# --- scalers -----------------------------------------------------------------------------------------


class QuantileNormal(TransformerMixin, BaseEstimator):
    """Quantile transform to a normal distribution, with no more quantiles than training rows."""

    def __init__(self, n_quantiles: int = 1000, seed: int = 0) -> None:
        self.n_quantiles = n_quantiles
        self.seed = seed

    def fit(self, X: Any, y: Any = None) -> QuantileNormal:
        self.transformer_ = QuantileTransformer(
            n_quantiles=max(2, min(self.n_quantiles, X.shape[0])), output_distribution="normal",
            random_state=self.seed,
        ).fit(X)
        return self

    def transform(self, X: Any) -> np.ndarray:
        return self.transformer_.transform(X)


register(Component("no_scaling", "scaler", TASKS, lambda p, ctx: "passthrough",
                   description="leave values as they are (models that need scaling still get standard scaling)"))
register(Component(
    "standard", "scaler", TASKS,
    lambda p, ctx: DenseOrSparse(StandardScaler(), StandardScaler(with_mean=False)),
    description="zero mean, unit variance (no centring on sparse input)",
))
register(Component(
    "robust", "scaler", TASKS,
    lambda p, ctx: DenseOrSparse(
        RobustScaler(quantile_range=(100 * p["q_min"], 100 * p["q_max"])),
        RobustScaler(with_centering=False, quantile_range=(100 * p["q_min"], 100 * p["q_max"])),
    ),
    [Float("q_min", (0.001, 0.3), default=0.25), Float("q_max", (0.7, 0.999), default=0.75)],
    description="median and inter-quantile range: insensitive to outliers",
))
register(Component(
    "quantile", "scaler", TASKS,
    lambda p, ctx: DenseOrSparse(QuantileNormal(p["n_quantiles"], ctx.seed), None),
    [Integer("n_quantiles", (10, 2000), default=1000, log=True)],
    description="rank-based map to a normal distribution (dense input only)",
))


# --- feature steps: representation and selection ---------------------------------------------------------


class _SelectPercentile(SelectPercentile):
    """SelectPercentile that always keeps the best feature, even on few features or tied scores."""

    def _get_support_mask(self) -> np.ndarray:
        mask = super()._get_support_mask()
        if not mask.any():
            mask[int(np.nanargmax(np.nan_to_num(self.scores_, nan=-np.inf)))] = True
        return mask


class _SelectFromModel(SelectFromModel):
    """SelectFromModel that keeps every feature rather than none when all importances tie."""

    def _get_support_mask(self) -> np.ndarray:
        mask = super()._get_support_mask()
        return mask if mask.any() else np.ones_like(mask)


def _select_percentile(p: dict[str, Any], ctx: BuildContext) -> _SelectPercentile:
    if p["score_func"] == "mutual_info":
        fn = mutual_info_classif if ctx.is_classification else mutual_info_regression
        score = functools.partial(fn, random_state=ctx.seed)
    else:
        score = f_classif if ctx.is_classification else f_regression
    return _SelectPercentile(score, percentile=p["percentile"])


def _select_from_model(p: dict[str, Any], ctx: BuildContext) -> _SelectFromModel:
    if p["estimator"] == "extra_trees":
        trees = ExtraTreesClassifier if ctx.is_classification else ExtraTreesRegressor
        est = trees(n_estimators=50, min_samples_leaf=2, max_features=0.5, n_jobs=ctx.n_jobs, random_state=ctx.seed)
        return _SelectFromModel(est, threshold=p["threshold"])
    if ctx.is_classification:
        solver = "liblinear" if ctx.task == "binary" else "saga"
        est = logistic_regression(p["C"], l1_ratio=1.0, solver=solver, seed=ctx.seed, max_iter=300, tol=1e-3)
        return _SelectFromModel(est, threshold=p["threshold"])
    # The target is standardized so that alpha means the same thing whatever the target's units.
    est = TransformedTargetRegressor(Lasso(alpha=p["alpha"], max_iter=2000, random_state=ctx.seed),
                                     transformer=StandardScaler())
    return _SelectFromModel(est, threshold=p["threshold"], importance_getter="regressor_.coef_")


def _select_from_model_hps(task: str) -> list:
    strength = (Float("C", (0.01, 100.0), default=1.0, log=True) if task in CLASSIFICATION
                else Float("alpha", (1e-4, 1.0), default=0.01, log=True))
    return [Categorical("estimator", ["extra_trees", "l1"], default="extra_trees"),
            Categorical("threshold", ["mean", "median"], default="mean"), strength]


register(Component("all_features", "feature", TASKS, lambda p, ctx: "passthrough",
                   description="keep every feature as it is"))
register(Component(
    "pca", "feature", TASKS,
    lambda p, ctx: DenseOrSparse(
        PCA(n_components=p["keep_variance"], whiten=p["whiten"], svd_solver="full", random_state=ctx.seed), None
    ),
    [Float("keep_variance", (0.5, 0.9999), default=0.9999), Categorical("whiten", [False, True], default=False)],
    description="principal components keeping a fraction of the variance (dense input only)",
))
register(Component(
    "select_percentile", "feature", TASKS, _select_percentile,
    [Float("percentile", (1.0, 99.0), default=50.0),
     Categorical("score_func", ["f_test", "mutual_info"], default="f_test")],
    description="keep the best-scoring percentile of features (F-test or mutual information)",
))
register(Component(
    "select_from_model", "feature", TASKS, _select_from_model, _select_from_model_hps,
    conditions=(("C", "estimator", "l1"), ("alpha", "estimator", "l1")),
    description="keep features an extra-trees or L1 model finds important",
))
