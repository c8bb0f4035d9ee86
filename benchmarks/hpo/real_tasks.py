"""Three real tuning problems: 3-fold CV loss of LightGBM, an RBF SVM and an MLP on small datasets.

Why these: they are the model families AutoML actually tunes (boosting with 7 mixed-scale
hyperparameters, a 2-d kernel machine with a narrow ridge in log C x log gamma, a network with a
conditional second layer and a categorical activation), and each evaluation is cheap enough
(~0.1-1 s on one core) to run 100 evaluations x 10 seeds x several optimizers on a laptop.

Evaluations are deterministic (fixed folds, fixed model seeds), so every optimizer sees the same
function and regret = loss - best loss any optimizer found on that task is comparable across them.
Everything runs single-threaded: BLAS threads on a shared 2-core machine only add noise.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, Integer
from threadpoolctl import threadpool_limits

from benchmarks.hpo.functions import Task

N_FOLDS = 3


@cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer, make_classification
    from sklearn.preprocessing import StandardScaler

    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
    elif name == "breast_cancer_scaled":
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)  # scaling inside the folds would cost time and change nothing here
    elif name == "classification":
        X, y = make_classification(n_samples=1000, n_features=20, n_informative=8, n_redundant=4, flip_y=0.05,
                                   class_sep=0.8, random_state=0)
        X = StandardScaler().fit_transform(X)
    else:
        raise ValueError(f"unknown dataset {name!r}")
    return X, y


@cache
def _folds(name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    X, y = _data(name)
    return list(StratifiedKFold(N_FOLDS, shuffle=True, random_state=0).split(X, y))


def _cv_loss(dataset: str, make_model: Any, loss: str) -> float:
    """Mean held-out loss over the fixed folds ("logloss" on probabilities, "1-auc" on decision values)."""
    from sklearn.metrics import log_loss, roc_auc_score

    X, y = _data(dataset)
    losses = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP convergence warnings: a short budget is part of the problem
        for train, test in _folds(dataset):
            model = make_model().fit(X[train], y[train])
            if loss == "logloss":
                losses.append(log_loss(y[test], np.clip(model.predict_proba(X[test]), 1e-15, 1 - 1e-15),
                                       labels=np.unique(y)))
            else:
                losses.append(1.0 - roc_auc_score(y[test], model.decision_function(X[test])))
    return float(np.mean(losses))


# -- LightGBM on breast cancer (log loss) --------------------------------------------------------
def lightgbm_space(seed: int = 0) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    cs.add([
        Float("learning_rate", (0.01, 0.5), log=True),
        Integer("n_estimators", (10, 200), log=True),
        Integer("num_leaves", (2, 48), log=True),
        Integer("min_child_samples", (2, 64), log=True),
        Float("subsample", (0.4, 1.0)),
        Float("colsample_bytree", (0.2, 1.0)),
        Float("reg_lambda", (1e-3, 10.0), log=True),
    ])
    return cs


def lightgbm_objective(config: Mapping[str, Any]) -> float:
    from lightgbm import LGBMClassifier

    def make() -> Any:
        return LGBMClassifier(
            learning_rate=float(config["learning_rate"]), n_estimators=int(config["n_estimators"]),
            num_leaves=int(config["num_leaves"]), min_child_samples=int(config["min_child_samples"]),
            subsample=float(config["subsample"]), subsample_freq=1, colsample_bytree=float(config["colsample_bytree"]),
            reg_lambda=float(config["reg_lambda"]), n_jobs=1, random_state=0, verbose=-1,
        )

    return _cv_loss("breast_cancer", make, "logloss")


# -- RBF SVM on a synthetic classification problem (1 - ROC AUC) ---------------------------------
def svm_space(seed: int = 0) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    cs.add([Float("C", (1e-2, 1e4), log=True), Float("gamma", (1e-5, 10.0), log=True)])
    return cs


def svm_objective(config: Mapping[str, Any]) -> float:
    from sklearn.svm import SVC

    return _cv_loss("classification", lambda: SVC(C=float(config["C"]), gamma=float(config["gamma"]),
                                                  cache_size=500), "1-auc")


# -- MLP on breast cancer (log loss), conditional second layer -----------------------------------
def mlp_space(seed: int = 0) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    n_layers = Categorical("n_layers", ["1", "2"])
    units_2 = Integer("units_2", (4, 64), log=True)
    cs.add([
        n_layers,
        Integer("units_1", (4, 128), log=True),
        units_2,
        Categorical("activation", ["relu", "tanh"]),
        Float("alpha", (1e-6, 1.0), log=True),
        Float("learning_rate_init", (1e-4, 0.1), log=True),
        Integer("batch_size", (16, 256), log=True),
    ])
    cs.add(EqualsCondition(units_2, n_layers, "2"))
    return cs


def mlp_objective(config: Mapping[str, Any]) -> float:
    from sklearn.neural_network import MLPClassifier

    layers = (int(config["units_1"]),) + ((int(config["units_2"]),) if config["n_layers"] == "2" else ())

    def make() -> Any:
        return MLPClassifier(layers, activation=str(config["activation"]), alpha=float(config["alpha"]),
                             learning_rate_init=float(config["learning_rate_init"]),
                             batch_size=int(config["batch_size"]), max_iter=60, random_state=0)

    return _cv_loss("breast_cancer_scaled", make, "logloss")


def real_tasks() -> dict[str, Task]:
    """Every real task by name (regret reference: the best loss seen by any optimizer)."""
    tasks = [
        Task("lgbm_breast_cancer", lightgbm_space(), lightgbm_objective, kind="real", continuous=True,
             notes="LightGBM, 7 hyperparameters (4 log-scale), 3-fold CV log loss on breast_cancer"),
        Task("svm_classification", svm_space(), svm_objective, kind="real", continuous=True,
             notes="RBF SVC, log C x log gamma, 3-fold CV 1-AUC on make_classification(1000 x 20)"),
        Task("mlp_breast_cancer", mlp_space(), mlp_objective, kind="real", continuous=False,
             notes="MLP, 7 hyperparameters incl. a conditional second layer, 3-fold CV log loss, 60 epochs max"),
    ]
    return {t.name: t for t in tasks}
