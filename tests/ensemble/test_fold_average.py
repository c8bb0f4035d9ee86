"""FoldAverage: a cross-validated trial's fold models as one ensemble member."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression

from autolearn.ensemble.fold_average import FoldAverage


def test_classifier_averages_probabilities_and_predicts_their_argmax():
    X, y = make_classification(n_samples=120, n_features=5, n_informative=3, n_classes=3, random_state=0)
    folds = [LogisticRegression(C=c, max_iter=500).fit(X[i::2], y[i::2]) for i, c in enumerate((0.01, 10.0))]
    model = FoldAverage(folds)
    expected = (folds[0].predict_proba(X) + folds[1].predict_proba(X)) / 2
    assert np.allclose(model.predict_proba(X), expected)
    assert np.array_equal(model.predict(X), expected.argmax(axis=1))
    assert np.array_equal(model.classes_, [0, 1, 2])
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))


def test_a_class_missing_from_one_fold_gets_probability_zero_from_that_fold():
    X, y = make_classification(n_samples=150, n_features=5, n_informative=3, n_classes=3, random_state=1)
    labels = np.array(["a", "b", "c"])[y]
    without_c = labels != "c"
    folds = [LogisticRegression(max_iter=500).fit(X, labels),
             LogisticRegression(max_iter=500).fit(X[without_c], labels[without_c])]
    model = FoldAverage(folds)
    proba = model.predict_proba(X)
    assert list(model.classes_) == ["a", "b", "c"] and proba.shape == (150, 3)
    assert np.allclose(proba[:, 2], folds[0].predict_proba(X)[:, 2] / 2)
    assert np.allclose(proba.sum(axis=1), 1.0) and set(model.predict(X)) <= {"a", "b", "c"}


def test_regressor_averages_values_and_has_no_probabilities():
    X, y = make_regression(n_samples=60, n_features=3, noise=1.0, random_state=0)
    folds = [LinearRegression().fit(X[:30], y[:30]), LinearRegression().fit(X[30:], y[30:])]
    model = FoldAverage(folds)
    assert np.allclose(model.predict(X), (folds[0].predict(X) + folds[1].predict(X)) / 2)
    assert not hasattr(model, "predict_proba")


def test_needs_a_model():
    with pytest.raises(ValueError, match="at least one fitted model"):
        FoldAverage([])
