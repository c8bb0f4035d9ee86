"""Tree models: a single tree, forests and gradient boosting (scikit-learn's and LightGBM).

Forests and boosting declare an ``iterations`` fidelity: a budget fraction trains that fraction of the
trees, so successive halving can compare configurations cheaply and promote the promising ones.
"""

from __future__ import annotations

from typing import Any

from ConfigSpace import Categorical, Float, Integer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from autolearn.components.registry import CLASSIFICATION, TASKS, BuildContext, Component, Fidelity, register
from autolearn.components.warm_start import LightGBMContinuation, SklearnWarmStart


def _criterion(task: str) -> list:
    return [Categorical("criterion", ["gini", "entropy"], default="gini")] if task in CLASSIFICATION else []


def _decision_tree(p: dict[str, Any], ctx: BuildContext) -> Any:
    cls = DecisionTreeClassifier if ctx.is_classification else DecisionTreeRegressor
    extra = {"criterion": p["criterion"]} if "criterion" in p else {}
    return cls(max_depth=p["max_depth"], min_samples_split=p["min_samples_split"],
               min_samples_leaf=p["min_samples_leaf"], random_state=ctx.seed, **extra)


register(Component(
    "decision_tree", "model", TASKS, _decision_tree,
    lambda task: _criterion(task) + [
        Integer("max_depth", (2, 32), default=8, log=True),
        Integer("min_samples_split", (2, 32), default=2, log=True),
        Integer("min_samples_leaf", (1, 64), default=5, log=True),
    ],
    description="one CART tree; leaves of 5+ rows keep probabilities from being all 0/1",
))


def _forest(classifier: type, regressor: type):
    def build(p: dict[str, Any], ctx: BuildContext) -> Any:
        cls = classifier if ctx.is_classification else regressor
        extra = {"criterion": p["criterion"]} if "criterion" in p else {}
        return cls(
            n_estimators=p["n_estimators"], max_features=p["max_features"], min_samples_split=p["min_samples_split"],
            min_samples_leaf=p["min_samples_leaf"], bootstrap=p["bootstrap"], n_jobs=ctx.n_jobs,
            random_state=ctx.seed, **extra,
        )

    return build


def _forest_hps(bootstrap: bool):
    def hps(task: str) -> list:
        # Regression forests do best near bagging (all features per split, as scikit-learn's default);
        # classification forests near sqrt(n_features), i.e. a fraction well below one.
        return _criterion(task) + [
            Float("max_features", (0.05, 1.0), default=0.5 if task in CLASSIFICATION else 1.0, log=True),
            Integer("min_samples_split", (2, 32), default=2, log=True),
            Integer("min_samples_leaf", (1, 32), default=1, log=True),
            Categorical("bootstrap", [True, False], default=bootstrap),
        ]

    return hps


_TREES = Fidelity("iterations", param="n_estimators", full=256, min=8, warm_start=SklearnWarmStart("n_estimators"))

register(Component(
    "random_forest", "model", TASKS, _forest(RandomForestClassifier, RandomForestRegressor), _forest_hps(True),
    fidelity=_TREES,
    description="random forest; budget scales the number of trees",
))
register(Component(
    "extra_trees", "model", TASKS, _forest(ExtraTreesClassifier, ExtraTreesRegressor), _forest_hps(False),
    fidelity=_TREES,
    description="extremely randomized trees; budget scales the number of trees",
))


def _hist_gradient_boosting(p: dict[str, Any], ctx: BuildContext) -> Any:
    cls = HistGradientBoostingClassifier if ctx.is_classification else HistGradientBoostingRegressor
    return cls(
        learning_rate=p["learning_rate"], max_iter=p["max_iter"], max_leaf_nodes=p["max_leaf_nodes"],
        min_samples_leaf=p["min_samples_leaf"], l2_regularization=p["l2_regularization"],
        max_features=p["max_features"], random_state=ctx.seed,
        # never early stopping: scikit-learn's "auto" turns it on above 10,000 rows, so a model validated on
        # 8,000 training rows and refitted on 10,300 would stop differently, and its absolute tolerance
        # (1e-7 on the loss) stops after a few iterations when the target is of order 1e-4 (ailerons)
        early_stopping=False,
    )


register(Component(
    "hist_gradient_boosting", "model", TASKS, _hist_gradient_boosting,
    [Float("learning_rate", (0.01, 1.0), default=0.1, log=True),
     Integer("max_leaf_nodes", (3, 2047), default=31, log=True),
     Integer("min_samples_leaf", (1, 200), default=20, log=True),
     # default 1 (XGBoost's): near 0, leaves whose hessians vanish on separable classes get huge values,
     # and a refit on all rows of page_blocks predicted probabilities of exactly 0 and 1 (test log loss
     # 4.5, its fold models 0.22; with 1: 0.13). The range stays as the meta-database was built on it.
     Float("l2_regularization", (1e-10, 1.0), default=1.0, log=True),
     Float("max_features", (0.1, 1.0), default=1.0)],
    fidelity=Fidelity("iterations", param="max_iter", full=512, min=16, warm_start=SklearnWarmStart("max_iter")),
    handles_sparse=False,
    description="scikit-learn histogram gradient boosting; budget scales the iterations",
))


def _lightgbm(p: dict[str, Any], ctx: BuildContext) -> Any:
    import lightgbm  # imported here: a second or so of import time only paid when it is used

    cls = lightgbm.LGBMClassifier if ctx.is_classification else lightgbm.LGBMRegressor
    return cls(
        n_estimators=p["n_estimators"], learning_rate=p["learning_rate"], num_leaves=p["num_leaves"],
        min_child_samples=p["min_child_samples"], subsample=p["subsample"], subsample_freq=1,
        colsample_bytree=p["colsample_bytree"], reg_alpha=p["reg_alpha"], reg_lambda=p["reg_lambda"],
        n_jobs=ctx.n_jobs, random_state=ctx.seed, verbose=-1,
        deterministic=True, force_row_wise=True,  # same seed, same model: reproducible leaderboards
    )


register(Component(
    "lightgbm", "model", TASKS, _lightgbm,
    [Integer("num_leaves", (4, 1024), default=31, log=True),
     Float("learning_rate", (0.005, 0.5), default=0.05, log=True),
     Integer("min_child_samples", (2, 128), default=20, log=True),
     Float("subsample", (0.5, 1.0), default=1.0),
     Float("colsample_bytree", (0.3, 1.0), default=1.0),
     Float("reg_alpha", (1e-3, 100.0), default=1e-3, log=True),
     Float("reg_lambda", (1e-3, 100.0), default=1.0, log=True)],
    fidelity=Fidelity("iterations", param="n_estimators", full=512, min=16, warm_start=LightGBMContinuation()),
    description="LightGBM gradient boosting; budget scales the boosting rounds",
))
