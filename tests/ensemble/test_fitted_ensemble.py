import pickle
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from autolearn.ensemble import (
    Ensemble,
    choose_under_latency,
    ensemble_selection,
    fit_stacker,
    measure_predict_time,
)
from autolearn.evaluation.metrics import get_metric


def _classifiers():
    return [LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=4, random_state=0), GaussianNB()]


def _fit_library(n_classes):
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=n_classes, random_state=0)
    models = _classifiers()
    oof = [cross_val_predict(m, X, y, cv=3, method="predict_proba") for m in models]
    return X, y, oof, [m.fit(X, y) for m in models]


def _assert_valid_proba(p, n, n_classes):
    assert p.shape == (n, n_classes)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("combiner", ["selection", "stacking"])
def test_probabilities_are_valid_and_pickle_round_trips(n_classes, combiner):
    X, y, oof, fitted = _fit_library(n_classes)
    task = "binary" if n_classes == 2 else "multiclass"
    if combiner == "selection":
        weights = ensemble_selection(oof, y, get_metric("log_loss", task), size=20)
        ensemble = Ensemble(fitted, weights)  # the task is inferred from predict_proba
    else:
        ensemble = Ensemble(fitted, fit_stacker(oof, y, task, "ridge", penalty_selection="bic"))
    assert ensemble.is_classifier and ensemble.n_classes == n_classes
    proba = ensemble.predict_proba(X)
    _assert_valid_proba(proba, len(X), n_classes)
    np.testing.assert_array_equal(ensemble.predict(X), proba.argmax(axis=1))
    clone = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_array_equal(clone.predict_proba(X), proba)
    assert [name for name, _ in ensemble.weights()] == ensemble.names


def test_selection_weights_give_the_weighted_average_and_skip_zero_weight_members():
    X, y, _, fitted = _fit_library(3)
    ensemble = Ensemble([fitted[0], None, fitted[2]], [0.75, 0.0, 0.25])
    assert ensemble.names == ["LogisticRegression", "GaussianNB"] and ensemble.member_index == [0, 2]
    expected = 0.75 * fitted[0].predict_proba(X) + 0.25 * fitted[2].predict_proba(X)
    np.testing.assert_allclose(ensemble.predict_proba(X), expected)
    with pytest.raises(ValueError, match="None"):
        Ensemble([fitted[0], None], [0.5, 0.5])


def test_regression_ensemble_with_weights_and_with_a_lasso_stacker():
    X, y = make_regression(n_samples=300, n_features=6, noise=5.0, random_state=0)
    models = [Ridge(), DecisionTreeRegressor(max_depth=5, random_state=0)]
    oof = [cross_val_predict(m, X, y, cv=3) for m in models]
    fitted = [m.fit(X, y) for m in models]
    noise = np.random.default_rng(0).normal(size=len(y))

    class Noise:  # a member whose prediction is unrelated to y
        def predict(self, X):
            return np.random.default_rng(1).normal(size=len(X))

    ensemble = Ensemble(fitted, [0.5, 0.5])
    assert ensemble.task == "regression"
    np.testing.assert_allclose(ensemble.predict(X), 0.5 * fitted[0].predict(X) + 0.5 * fitted[1].predict(X))
    with pytest.raises(AttributeError):
        ensemble.predict_proba(X)

    stacker = fit_stacker([*oof, noise], y, "regression", "lasso", penalty_selection="bic")
    assert 2 not in stacker.members
    stacked = Ensemble([*fitted, Noise()], stacker)
    assert len(stacked.members) == len(stacker.members)
    clone = pickle.loads(pickle.dumps(stacked))
    np.testing.assert_array_equal(clone.predict(X), stacked.predict(X))
    rmse = np.sqrt(np.mean((stacked.predict(X) - y) ** 2))
    assert rmse < np.sqrt(np.mean((fitted[1].predict(X) - y) ** 2))


def test_a_member_that_saw_fewer_classes_is_aligned():
    X, y, _, fitted = _fit_library(3)
    partial = LogisticRegression(max_iter=500).fit(X[y != 1], y[y != 1])  # classes_ = [0, 2]
    ensemble = Ensemble([fitted[0], partial], [0.5, 0.5], n_classes=3)
    proba = ensemble.predict_proba(X)
    _assert_valid_proba(proba, len(X), 3)
    np.testing.assert_allclose(proba[:, 1], 0.5 * fitted[0].predict_proba(X)[:, 1])


class _Slow:
    """A classifier that costs ``delay`` seconds per call."""

    def __init__(self, proba, delay):
        self.proba, self.delay = proba, delay

    def predict_proba(self, X):
        time.sleep(self.delay)
        return self.proba[: len(X)]


def test_measure_predict_time_is_seconds_per_row():
    X = np.zeros((50, 2))
    fast = measure_predict_time(_Slow(np.full((50, 2), 0.5), 0.0), X)
    slow = measure_predict_time(_Slow(np.full((50, 2), 0.5), 0.02), X)
    assert slow >= 0.02 / 50 and slow > 10 * fast


def test_latency_limit_excludes_a_slow_member():
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, size=n)

    def model(strength):
        logit = np.where(y == 1, strength, -strength) + rng.normal(size=n)
        p1 = 1 / (1 + np.exp(-logit))
        return np.column_stack([1 - p1, p1])

    preds = [model(3.0), model(1.0), model(0.8)]  # the first is the best ... and the slowest
    times = [1e-3, 1e-5, 1e-5]
    metric = get_metric("log_loss", "binary")
    free = choose_under_latency(preds, y, metric, times)
    assert free[0] > 0
    limited = choose_under_latency(preds, y, metric, times, infer_time_limit=1e-4)
    assert limited[0] == 0.0 and np.isclose(limited.sum(), 1.0)
    single = choose_under_latency(preds, y, metric, times, max_ensemble_size=1)
    assert np.count_nonzero(single) == 1 and single[0] == 1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fallback = choose_under_latency(preds, y, metric, times, infer_time_limit=1e-6)
    assert np.count_nonzero(fallback) == 1 and fallback[0] == 0.0  # nothing fits: the fastest one alone
    assert any("cost limit" in str(w.message) for w in caught)


def test_refit_time_limit_excludes_a_member_that_cannot_be_refitted_in_time():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=400)

    def model(strength):
        p1 = 1 / (1 + np.exp(-(np.where(y == 1, strength, -strength) + rng.normal(size=400))))
        return np.column_stack([1 - p1, p1])

    preds, times, metric = [model(3.0), model(1.0), model(0.8)], [1e-5] * 3, get_metric("log_loss", "binary")
    assert choose_under_latency(preds, y, metric, times, refit_times=[0.5, 0.1, 0.1])[0] > 0
    limited = choose_under_latency(preds, y, metric, times, refit_times=[np.inf, 0.1, 0.1], refit_time_limit=2)
    assert limited[0] == 0.0 and np.isclose(limited.sum(), 1.0)
