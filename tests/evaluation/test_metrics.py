import numpy as np
import pytest
from sklearn import metrics as skm

from autolearn.evaluation.metrics import DEFAULT_METRIC, constant_prediction, get_metric, widen_proba


@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1)
    p[:20] = 0.5  # ties
    return y, np.c_[1 - p, p]


def test_defaults_follow_the_automl_benchmark():
    assert DEFAULT_METRIC == {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
    assert get_metric(None, "binary").name == "roc_auc"


def test_fast_binary_auc_matches_sklearn(binary):
    y, proba = binary
    m = get_metric("roc_auc", "binary")
    assert m.score(y, proba) == pytest.approx(skm.roc_auc_score(y, proba[:, 1]), abs=1e-12)
    assert m.loss(y, proba) == pytest.approx(1 - m.score(y, proba))


def test_fast_log_loss_matches_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 200)
    p = rng.random((200, 4))
    p /= p.sum(1, keepdims=True)
    p[0] = [1.0, 0, 0, 0]  # a zero probability on the true class is clipped, not infinite
    y[0] = 1
    m = get_metric("neg_log_loss", "multiclass")
    assert m.score(y, p) == pytest.approx(skm.log_loss(y, p), rel=1e-9)
    assert m.loss(y, p) == m.score(y, p)  # lower is better, optimum 0


def test_labels_metric_takes_argmax(binary):
    y, proba = binary
    m = get_metric("accuracy", "binary")
    assert m.score(y, proba) == pytest.approx(skm.accuracy_score(y, proba.argmax(1)))


def test_rmse_and_r2():
    y = np.array([1.0, 2.0, 3.0])
    p = np.array([1.0, 2.0, 5.0])
    assert get_metric(None, "regression").score(y, p) == pytest.approx(np.sqrt(4 / 3))
    r2 = get_metric("r2", "regression")
    assert r2.loss(y, y) == 0.0 and r2.loss(y, p) > 0


def test_any_sklearn_scorer_and_callables(binary):
    y, proba = binary
    prec = get_metric("precision", "binary")
    assert prec.score(y, proba) == pytest.approx(skm.precision_score(y, proba.argmax(1)))
    ap = get_metric("average_precision", "binary")
    assert ap.score(y, proba) == pytest.approx(skm.average_precision_score(y, proba[:, 1]))
    custom = get_metric(lambda yt, yp: float(np.mean(yt == yp)), "binary")
    assert custom.score(y, proba) == pytest.approx(skm.accuracy_score(y, proba.argmax(1)))
    assert custom.loss(y, proba) == -custom.score(y, proba)


@pytest.mark.parametrize("metric, task, message", [
    ("nope", "binary", "unknown metric 'nope'"),
    ("rmse", "binary", "is for regression, but the task is binary"),
    ("roc_auc", "regression", "is for classification, but the task is regression"),
    ("f1", "multiclass", "use 'f1_macro'"),
    (3, "binary", "metric must be a name or a callable"),
    (None, "ranking", "unknown task 'ranking'"),
])
def test_bad_metrics_are_named(metric, task, message):
    with pytest.raises(ValueError, match=message):
        get_metric(metric, task)


def test_constant_prediction_is_the_class_frequencies_or_the_mean():
    y = np.array([0, 0, 0, 2])
    np.testing.assert_allclose(constant_prediction(y, "multiclass", 2, 3), [[0.75, 0.0, 0.25]] * 2)
    np.testing.assert_allclose(constant_prediction(np.array([1.0, 2.0, 6.0]), "regression", 4, 0), [3.0] * 4)


def test_widen_proba_places_the_columns_of_the_classes_a_model_saw():
    proba = np.array([[0.2, 0.8], [0.6, 0.4]])
    assert np.array_equal(widen_proba(proba, [0, 2], 3), [[0.2, 0.0, 0.8], [0.6, 0.0, 0.4]])
    assert np.array_equal(widen_proba(proba, [0, 1], 2), proba)  # every class seen: unchanged
