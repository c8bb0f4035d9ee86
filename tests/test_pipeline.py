from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from autolearn.components import TASKS
from autolearn.data.schema import Schema
from autolearn.pipeline import AllClassesClassifier, build_pipeline, model_fidelity
from autolearn.space import build_space

SCHEMA = Schema(
    ("x", "x_nan", "c", "b", "t", "s"),
    {"x": "numeric", "x_nan": "numeric", "c": "categorical", "b": "boolean", "t": "datetime", "s": "text"},
)
N_CLASSES = {"binary": 2, "multiclass": 3, "regression": None}


def _frame(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "x_nan": np.where(rng.random(n) < 0.25, np.nan, rng.normal(size=n)),
        "c": rng.choice(["u", "v", "w", None], size=n).astype(object),
        "b": rng.choice([True, False, None], size=n).astype(object),
        "t": pd.date_range("2019-12-30", periods=n, freq="19h"),
        "s": rng.choice(["red apples", "green pears and apples", "ripe plums", None], size=n),
    })


def _target(task: str, X: pd.DataFrame) -> np.ndarray:
    if task == "binary":
        return (X["x"].to_numpy() > 0).astype(int)
    if task == "multiclass":
        return np.arange(len(X)) % 3
    return 250.0 * X["x"].to_numpy() - 40.0


def _unseen(X: pd.DataFrame) -> pd.DataFrame:
    X = X.copy()
    X.loc[0, "c"] = "never seen"
    X.loc[1, ["x", "t", "b", "s"]] = [np.nan, pd.NaT, None, None]
    return X


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


def _fit_and_check(config, task, X, y, budget=0.1):
    pipe = build_pipeline(config, task=task, schema=SCHEMA, seed=1, budget=budget, n_classes=N_CLASSES[task])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
        X_new = _unseen(X)
        if task == "regression":
            out = pipe.predict(X_new)
            assert out.shape == (len(X),) and np.isfinite(out).all(), config
        else:
            out = pipe.predict_proba(X_new)
            assert out.shape == (len(X), N_CLASSES[task]), config
            assert np.isfinite(out).all() and np.allclose(out.sum(axis=1), 1.0), config
    return pipe


def _random_configs(task: str, n: int, seed: int) -> list[dict]:
    return [dict(c) for c in build_space(task, schema=SCHEMA, seed=seed).sample_configuration(n)]


@pytest.mark.parametrize("task", TASKS)
def test_random_configurations_fit(task):
    X = _frame()
    for config in _random_configs(task, 25, seed=11):
        _fit_and_check(config, task, X, _target(task, X))


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_200_random_configurations_fit(task):
    X = _frame(80, seed=3)
    for config in _random_configs(task, 200, seed=2024):
        _fit_and_check(config, task, X, _target(task, X), budget=0.2)


@pytest.mark.parametrize("task", TASKS)
def test_default_configuration_fits_at_full_budget(task):
    X = _frame()
    _fit_and_check(dict(build_space(task, schema=SCHEMA).get_default_configuration()), task, X, _target(task, X), 1.0)


@pytest.mark.parametrize(("model", "param", "full"), [
    ("lightgbm", "n_estimators", 512), ("random_forest", "n_estimators", 256),
    ("hist_gradient_boosting", "max_iter", 512), ("mlp", "max_iter", 200),
])
def test_budget_scales_the_fidelity_parameter(model, param, full):
    def value(budget):
        pipe = build_pipeline({"model": model}, task="binary", schema=SCHEMA, budget=budget)
        return pipe.named_steps["model"].estimator.get_params()[param]

    assert value(1.0) == full
    assert value(0.25) == round(full / 4)
    assert value(0.001) < value(0.25)
    assert model_fidelity({"model": model}).param == param
    assert model_fidelity({"model": "ridge"}) is None


def test_budget_scales_regression_models_too():
    pipe = build_pipeline({"model": "mlp"}, task="regression", schema=SCHEMA, budget=0.5)
    assert pipe.named_steps["model"].get_params()["regressor__max_iter"] == 100


@pytest.mark.parametrize("task", TASKS)
def test_sparse_input(task):
    rng = np.random.default_rng(0)
    X = sp.random(60, 30, density=0.1, format="lil", random_state=0)
    X[3, 4] = np.nan  # explicit missing values are imputed like dense ones
    X = X.tocsr()
    schema = Schema(tuple(f"x{i}" for i in range(30)), {f"x{i}": "numeric" for i in range(30)})
    y = _target(task, pd.DataFrame({"x": rng.normal(size=60)}))
    configs = [{"model": "lightgbm", "scaler": "standard", "feature": "pca"},
               {"model": "hist_gradient_boosting", "scaler": "quantile"},
               {"model": "logistic_regression" if task != "regression" else "ridge", "feature": "select_percentile"}]
    configs += _random_configs_sparse(task, schema)
    for config in configs:
        pipe = build_pipeline(config, task=task, schema=schema, budget=0.1, n_classes=N_CLASSES[task])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(X, y)
            out = pipe.predict(X)
        assert len(out) == 60 and np.isfinite(out).all()
    pipe = build_pipeline(configs[0], task=task, schema=schema, budget=0.1, n_classes=N_CLASSES[task]).fit(X, y)
    assert sp.issparse(pipe[:-1].transform(X))  # nothing densified on the way to LightGBM


def _random_configs_sparse(task, schema):
    return [dict(c) for c in build_space(task, schema=schema, sparse=True, seed=5).sample_configuration(8)]


def test_models_needing_scaling_get_it():
    pipe = build_pipeline({"model": "knn", "scaler": "no_scaling"}, task="binary", schema=SCHEMA)
    assert pipe.named_steps["scale"] != "passthrough"
    pipe = build_pipeline({"model": "lightgbm", "scaler": "no_scaling"}, task="binary", schema=SCHEMA)
    assert pipe.named_steps["scale"] == "passthrough"


def test_missing_class_and_inferred_width():
    X = _frame(40)
    y = np.where(np.arange(40) % 2 == 0, 0, 3)  # classes 1 and 2 never seen
    pipe = build_pipeline({"model": "extra_trees"}, task="multiclass", schema=SCHEMA, n_classes=5, budget=0.1).fit(X, y)
    proba = pipe.predict_proba(X)
    assert proba.shape == (40, 5) and np.all(proba[:, [1, 2, 4]] == 0)
    inferred = build_pipeline({"model": "extra_trees"}, task="multiclass", schema=SCHEMA, budget=0.1).fit(X, y)
    assert inferred.predict_proba(X).shape == (40, 4)
    assert list(inferred.classes_) == [0, 1, 2, 3]


def test_classification_wrapper_rejects_unencoded_targets():
    with pytest.raises(ValueError, match="0..K-1"):
        AllClassesClassifier(None, 2).fit(np.zeros((3, 1)), np.array([0.5, 1.0, 0.0]))


def test_fitted_pipelines_pickle_and_clone():
    X, task = _frame(), "binary"
    pipe = build_pipeline({"model": "lightgbm", "encoder": "target", "feature": "select_percentile",
                           "select_percentile:score_func": "mutual_info"}, task=task, schema=SCHEMA, budget=0.1)
    pipe.fit(X, _target(task, X))
    again = pickle.loads(pickle.dumps(pipe))
    assert np.allclose(again.predict_proba(X), pipe.predict_proba(X))
    clone(pipe).fit(X, _target(task, X))


def test_invalid_configurations():
    with pytest.raises(ValueError, match="no 'model'"):
        build_pipeline({"scaler": "standard"}, task="binary", schema=SCHEMA)
    with pytest.raises(ValueError, match="not a model"):
        build_pipeline({"model": "pca"}, task="binary", schema=SCHEMA)
    with pytest.raises(ValueError, match="does not support"):
        build_pipeline({"model": "ridge"}, task="binary", schema=SCHEMA)
    with pytest.raises(ValueError, match="no hyperparameter"):
        build_pipeline({"model": "ridge", "ridge:beta": 1.0}, task="regression", schema=SCHEMA)
