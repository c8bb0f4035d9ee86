"""Metric arithmetic on hand-made predictions."""

import math

import numpy as np
import pytest

from benchmarks.automl.metrics import (
    align_proba,
    constant_score,
    evaluate,
    n_classes,
    outcome,
    relative_change,
    score_model,
)


def test_binary_auc_and_orientation():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]])
    m = evaluate("binary", y, proba=proba)
    assert m["metric"] == "auc" and m["auc"] == pytest.approx(0.75) and m["score"] == m["auc"]
    assert m["acc"] == pytest.approx(0.75)


def test_multiclass_logloss_is_negated_as_score():
    y = np.array([0, 1, 2])
    proba = np.array([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]])
    m = evaluate("multiclass", y, proba=proba)
    assert m["logloss"] == pytest.approx(-math.log(0.5))
    assert m["score"] == pytest.approx(math.log(0.5))


def test_regression_rmse_and_r2():
    m = evaluate("regression", np.array([1.0, 2.0, 3.0]), pred=np.array([1.0, 2.0, 5.0]))
    assert m["rmse"] == pytest.approx(math.sqrt(4 / 3))
    assert m["score"] == pytest.approx(-math.sqrt(4 / 3))
    assert m["r2"] == pytest.approx(1 - 4 / 2)


def test_align_proba_fills_classes_the_system_never_saw():
    proba = align_proba(np.array([[0.2, 0.8]]), classes=[2, 0], n_classes=3)
    assert proba.shape == (1, 3)
    assert proba[0, 0] == pytest.approx(0.8) and proba[0, 2] == pytest.approx(0.2)
    assert proba[0, 1] > 0 and proba.sum() == pytest.approx(1.0)  # clipped, so log loss stays finite


def test_constant_predictor_scores():
    assert constant_score("binary", np.array([0, 1, 1, 1]), np.array([0, 1]), 2) == pytest.approx(0.5)
    prior_loss = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    y_test = np.array([0, 1, 1, 1])
    assert constant_score("multiclass", np.array([0, 1, 1, 1]), y_test, 2) == pytest.approx(-prior_loss)
    assert constant_score("regression", np.array([1.0, 3.0]), np.array([2.0, 4.0]), 0) == pytest.approx(
        -math.sqrt(2.0))


def test_relative_change_is_oriented_so_that_positive_is_better():
    assert relative_change(0.99, 0.9, higher_is_better=True) == pytest.approx(0.1)
    assert relative_change(0.9, 1.0, higher_is_better=False) == pytest.approx(0.1)  # lower RMSE: better
    assert relative_change(1.1, 1.0, higher_is_better=False) == pytest.approx(-0.1)
    assert relative_change(0.0, 0.0, higher_is_better=False) == 0.0
    assert math.isnan(relative_change(math.nan, 1.0, higher_is_better=True))
    assert [outcome(c, 1e-3) for c in (0.01, 0.0005, -0.01, math.nan)] == ["beats", "ties", "loses", "failed"]


class _Fixed:
    """A fitted model stand-in that predicts fixed values: the scoring, not a model, is under test."""

    def __init__(self, proba=None, values=None, classes=None):
        self.proba, self.values, self.classes_ = proba, values, classes

    def predict_proba(self, X):
        return self.proba

    def predict(self, X):
        return self.values


def test_score_model_aligns_probabilities_through_the_models_classes():
    y = np.array([0, 2, 2])
    model = _Fixed(proba=np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]]), classes=np.array([0, 2]))
    got = score_model("multiclass", model, None, y, n_classes("multiclass", np.array([0, 1, 2])))
    expected = evaluate("multiclass", y, proba=align_proba(model.proba, [0, 2], 3))
    assert got["logloss"] == pytest.approx(expected["logloss"]) and got["metric"] == "logloss"
    reg = score_model("regression", _Fixed(values=np.array([1.0, 3.0])), None, np.array([1.0, 1.0]), 0)
    assert reg["rmse"] == pytest.approx(math.sqrt(2.0)) and n_classes("regression", np.array([5.0])) == 0
