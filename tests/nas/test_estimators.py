"""NeuralNetClassifier / NeuralNetRegressor: the scikit-learn contract, saving, warm starts, bad input."""

from __future__ import annotations

import cloudpickle
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch", reason="autolearn.nas needs PyTorch: pip install 'autolearn[nn]'")

from sklearn.base import clone  # noqa: E402

from autolearn import nas  # noqa: E402
from autolearn.nas.curves import LearningCurveRule  # noqa: E402
from autolearn.nas.estimators import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

from .conftest import table  # noqa: E402

SMALL = {"residual": {"n_blocks": 1, "d_main": 32}, "chain": {"n_layers": 1, "width_1": 32},
         "cell": {"n_cells": 1, "n_nodes": 2, "width": 32}}


@pytest.mark.parametrize("space", list(SMALL))
def test_classifier_learns_mixed_table(space, binary_table):
    X, y = binary_table
    clf = NeuralNetClassifier(SMALL[space], space=space, epochs=30, seed=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)
    assert list(clf.classes_) == ["no", "yes"] and clf.n_features_in_ == 4
    assert clf.score(X, y) > 0.75
    assert clf.architecture_.space == space and str(clf.architecture_).startswith(
        {"residual": "ResNet", "chain": "MLP", "cell": "1 cell"}[space])
    assert len(clf.curve_) == clf.n_epochs_ and 1 <= clf.best_epoch_ <= clf.n_epochs_


def test_multiclass_and_regression():
    X, y = table(task="multiclass")
    clf = NeuralNetClassifier(SMALL["chain"], space="chain", epochs=20).fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 3) and set(clf.predict(X)) <= {"low", "mid", "high"}
    X, y = table(task="regression")
    reg = NeuralNetRegressor(SMALL["residual"], epochs=40).fit(X, y * 1000 + 5000)  # any target scale
    assert reg.score(X, y * 1000 + 5000) > 0.7


def test_numpy_input_and_clone():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = NeuralNetClassifier(SMALL["chain"], space="chain", epochs=10)
    fitted = clone(clf).fit(X, y)
    assert fitted.predict(X).shape == (80,) and not hasattr(clf, "state_")


def test_same_seed_same_network_and_save_load_round_trip(binary_table, tmp_path):
    X, y = binary_table
    a = NeuralNetClassifier(SMALL["residual"], epochs=8, seed=3).fit(X, y)
    b = NeuralNetClassifier(SMALL["residual"], epochs=8, seed=3).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    loaded = cloudpickle.loads(cloudpickle.dumps(a))
    np.testing.assert_array_equal(loaded.predict_proba(X), a.predict_proba(X))
    path = a.save(tmp_path / "net.pkl")
    assert nas.load(path).architecture_ == a.architecture_
    np.testing.assert_array_equal(nas.load(path).predict_proba(X), a.predict_proba(X))


def test_warm_start_continues_the_same_network(regression_table):
    X, y = regression_table
    reg = NeuralNetRegressor(SMALL["chain"], space="chain", epochs=5, early_stopping=False).fit(X, y)
    before = reg.state_.network.head.weight.detach().clone()
    reg.set_params(warm_start=True, epochs=9).fit(X, y)
    assert reg.n_epochs_ == 9 and len(reg.state_.train_curve) == 9
    assert not np.allclose(before.numpy(), reg.state_.network.head.weight.detach().numpy())
    reg.partial_fit(X, y, epochs=2)
    assert reg.n_epochs_ == 11
    # continuing after a save: the optimizer state travels with the model
    loaded = cloudpickle.loads(cloudpickle.dumps(reg))
    loaded.partial_fit(X, y, epochs=1)
    assert loaded.n_epochs_ == 12


def test_learning_curve_rule_stops_a_hopeless_run(binary_table):
    X, y = binary_table
    # a learning rate that barely moves the weights cannot reach a near-perfect incumbent
    rule = LearningCurveRule(incumbent=0.01)
    clf = NeuralNetClassifier(SMALL["chain"], space="chain", epochs=60, lr=1e-4, patience=60).fit(
        X, y, stop_rule=rule)
    assert clf.stopped_ == "learning_curve" and clf.n_epochs_ < 60
    assert rule.predicted_final is not None and rule.predicted_final > 0.01


def test_max_time_still_trains_one_epoch(binary_table):
    X, y = binary_table
    clf = NeuralNetClassifier(SMALL["chain"], space="chain", epochs=50, max_time=1e-6).fit(X, y)
    assert clf.n_epochs_ == 1 and clf.stopped_ == "time"
    assert np.isfinite(clf.predict_proba(X)).all()


def test_unseen_categories_missing_values_and_infinities_at_predict(binary_table):
    X, y = binary_table
    clf = NeuralNetClassifier(SMALL["residual"], epochs=5).fit(X, y)
    odd = X.head(4).copy()
    odd["colour"] = pd.Categorical(["purple", None, "red", "orange"])
    odd["a"] = [np.inf, -np.inf, np.nan, 1e30]
    proba = clf.predict_proba(odd)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1)


@pytest.mark.parametrize(("X", "y", "error"), [
    (pd.DataFrame(), [], "empty"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0]}), ["x", "x", "x"], "single class"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0]}), [0, np.nan, 1], "missing"),
    (pd.DataFrame({"a": [1.0, 2.0]}), [0, 1, 0], "rows"),
])
def test_bad_training_input(X, y, error):
    with pytest.raises(ValueError, match=error):
        NeuralNetClassifier(epochs=1).fit(X, y)


def test_bad_parameters_and_predict_input(binary_table):
    X, y = binary_table
    with pytest.raises(ValueError, match="epochs"):
        NeuralNetClassifier(epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        NeuralNetClassifier({"depth": 2}).fit(X, y)
    clf = NeuralNetClassifier(SMALL["chain"], space="chain", epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="missing column"):
        clf.predict(X.drop(columns="a"))
    with pytest.raises(ValueError, match="not seen"):
        clf.set_params(warm_start=True, epochs=2).fit(X, y.replace("yes", "maybe"))


def test_diverging_first_epoch_is_an_error():
    import torch

    from autolearn.nas.networks import build_network, numeric_stats
    from autolearn.nas.spaces import default_architecture
    from autolearn.nas.training import make_state, train

    x = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    net = build_network(default_architecture("chain"), numeric_stats(x), [], 2)
    state = make_state(net, 1e-3, 0.0, torch.device("cpu"))
    nan_loss = lambda out, target: out.sum() * float("nan")  # noqa: E731
    with pytest.raises(FloatingPointError, match="diverged"):
        train(state, x, np.zeros((32, 0), dtype=np.int64), np.zeros(32, dtype=np.int64), loss_fn=nan_loss,
              epochs=3, batch_size=8, device=torch.device("cpu"))
