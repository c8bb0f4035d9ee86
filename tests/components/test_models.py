from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from autolearn.components import TASKS, BuildContext, get
from autolearn.components.models import CappedKNeighborsClassifier, SigmoidCalibrated, _qda
from autolearn.components.registry import models
from autolearn.pipeline import build_pipeline
from autolearn.space import build_space

CASES = [(task, c.name) for task in TASKS for c in models(task)]
N_CLASSES = {"binary": 2, "multiclass": 3}


def _check_predictions(pipe, X, task):
    if task == "regression":
        pred = pipe.predict(X)
        assert pred.shape == (len(X),) and np.isfinite(pred).all()
        return
    proba = pipe.predict_proba(X)
    assert proba.shape == (len(X), N_CLASSES[task])
    assert np.isfinite(proba).all() and (proba >= 0).all()
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert set(pipe.predict(X)) <= set(range(N_CLASSES[task]))


@pytest.mark.parametrize(("task", "model"), CASES, ids=[f"{t}-{m}" for t, m in CASES])
def test_every_model_fits_mixed_data(task, model, frame, awkward_frame, schema, make_target):
    config = build_space(task, schema=schema, include=[model]).get_default_configuration()
    pipe = build_pipeline(config, task=task, schema=schema, budget=0.1, n_classes=N_CLASSES.get(task))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings at a 10% budget are expected
        pipe.fit(frame, make_target(task, frame))
    _check_predictions(pipe, awkward_frame, task)


@pytest.mark.parametrize(("task", "model"), [c for c in CASES if get(c[1]).handles_sparse],
                         ids=[f"{t}-{m}" for t, m in CASES if get(m).handles_sparse])
def test_sparse_capable_models_take_csr(task, model):
    comp = get(model)
    X = sp.random(60, 12, density=0.2, format="csr", random_state=0)
    y = np.arange(60) % N_CLASSES.get(task, 60)
    est = comp.build(comp.resolve({}, task, budget=0.1), BuildContext(task, n_jobs=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y.astype(float) if task == "regression" else y)
    assert len(est.predict(X)) == 60


def test_absent_class_still_gets_its_column(frame, schema):
    y = np.where(np.arange(len(frame)) % 2 == 0, 0, 2)  # class 1 never seen in training
    pipe = build_pipeline({"model": "logistic_regression"}, task="multiclass", schema=schema, n_classes=3)
    proba = pipe.fit(frame, y).predict_proba(frame)
    assert proba.shape == (len(frame), 3) and np.all(proba[:, 1] == 0)
    single = build_pipeline({"model": "lightgbm"}, task="binary", schema=schema).fit(frame, np.zeros(len(frame)))
    assert np.all(single.predict_proba(frame) == [1.0, 0.0])


def test_sigmoid_calibration_handles_tiny_classes():
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = np.r_[np.zeros(28, int), 1, 2]  # classes with a single row: no out-of-fold scores possible
    model = SigmoidCalibrated(LinearSVC(), cv=3).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (30, 3) and np.allclose(proba.sum(axis=1), 1)
    balanced = np.arange(30) % 2
    proba = SigmoidCalibrated(LinearSVC(), cv=3).fit(X, balanced).predict_proba(X)
    assert proba.shape == (30, 2)


def test_knn_caps_k_at_training_rows():
    X = np.random.default_rng(0).normal(size=(5, 2))
    proba = CappedKNeighborsClassifier(n_neighbors=100).fit(X, [0, 1, 0, 1, 0]).predict_proba(X)
    assert proba.shape == (5, 2)


def test_qda_survives_rank_deficient_classes():
    X = np.random.default_rng(0).normal(size=(9, 10))
    y = np.repeat([0, 1, 2], 3)
    assert np.isfinite(_qda(0.01).fit(X, y).predict_proba(X)).all()


def test_default_model_is_fast_and_strong():
    for task in TASKS:
        assert build_space(task).get_default_configuration()["model"] == "lightgbm"


def test_hist_gradient_boosting_trains_all_its_iterations_on_any_number_of_rows():
    """The validated model is the refitted one: no early stopping switched on by row count (scikit-learn's
    "auto" does above 10,000 rows), which on a target of order 1e-4 stopped after a few iterations."""
    component = get("hist_gradient_boosting")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12_000, 5))
    y = 1e-4 * (X[:, 0] + 0.5 * X[:, 1] ** 2) + 1e-5 * rng.normal(size=len(X))
    params = component.resolve({}, "regression", budget=1 / 9)
    model = component.build(params, BuildContext("regression", seed=0, n_rows=len(X))).fit(X, y)
    assert model.n_iter_ == params["max_iter"] == component.fidelity.value(1 / 9)
