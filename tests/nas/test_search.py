"""``autolearn.nas.search``: every strategy on every space it supports, on a small table, in seconds."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="autolearn.nas needs PyTorch: pip install 'autolearn[nn]'")

from autolearn import nas  # noqa: E402
from autolearn.evaluation.evaluate import TaskData, save_task_data  # noqa: E402
from autolearn.evaluation.metrics import get_metric  # noqa: E402
from autolearn.evaluation.resampling import Resampling, make_splits  # noqa: E402
from autolearn.nas.objective import NASObjective, update_incumbent  # noqa: E402
from autolearn.nas.spaces import SPACES, architecture  # noqa: E402
from autolearn.nas.strategies import STRATEGIES  # noqa: E402
from autolearn.records import Limits, Status, TrialSpec  # noqa: E402

from .conftest import table  # noqa: E402

CASES = [(s, sp) for s in STRATEGIES for sp in SPACES if s != "darts" or sp == "cell"]
HISTORY = ["trial", "origin", "budget", "epochs", "status", "loss", "score", "seconds", "architecture", "config"]


@pytest.mark.parametrize(("strategy", "space"), CASES, ids=[f"{s}-{sp}" for s, sp in CASES])
def test_every_strategy_on_every_space(strategy, space):
    X, y = table(n=120, seed=1)
    model = nas.search(X, y, strategy=strategy, space=space, time_budget=None, max_trials=3, max_epochs=3,
                       isolate=False, seed=0)
    assert set(HISTORY) <= set(model.history_.columns) and len(model.history_) == 3
    assert model.architecture_.space == space
    assert np.isfinite(model.predict_proba(X)).all() and set(model.predict(X)) <= {"no", "yes"}
    assert model.search_["strategy"] == strategy and model.search_["n_trials"] == 3
    if strategy == "darts":
        assert (model.history_["instance"] == "supernet").any()


def test_after_cross_validation_the_answer_is_the_winners_fold_networks_averaged(tmp_path):
    from autolearn.nas.estimators import NetworkAverage

    X, y = table(n=120, seed=1)
    model = nas.search(X, y, strategy="random", space="chain", time_budget=None, max_trials=2, max_epochs=3,
                       resampling=3, isolate=False, seed=0)
    assert isinstance(model, NetworkAverage) and len(model.models) == 3
    assert model.search_["n_networks"] == 3 and not model.search_["refit"]
    assert list(model.classes_) == ["no", "yes"] and model.architecture_ == model.models[0].architecture_
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, np.mean([m.predict_proba(X) for m in model.models], axis=0))
    assert len({m.predict_proba(X)[:5].tobytes() for m in model.models}) == 3  # three networks, not one
    assert set(model.predict(X)) <= {"no", "yes"}
    again = nas.load(model.save(tmp_path / "net.pkl"))
    np.testing.assert_array_equal(again.predict_proba(X), proba)


@pytest.mark.parametrize(("resampling", "refit"), [(3, True), (0.25, "auto")])
def test_refit_retrains_one_network_on_all_rows(resampling, refit):
    X, y = table(n=120, seed=1)
    model = nas.search(X, y, strategy="random", space="chain", time_budget=None, max_trials=2, max_epochs=3,
                       resampling=resampling, refit=refit, isolate=False, seed=0)
    assert isinstance(model, nas.NeuralNetClassifier) and model.search_["refit"]
    assert model.search_["n_networks"] == 1 and list(model.classes_) == ["no", "yes"]


def test_without_refit_the_holdout_network_answers_in_the_user_labels():
    X, y = table(n=120, seed=1)
    model = nas.search(X, y, strategy="random", space="chain", time_budget=None, max_trials=2, max_epochs=3,
                       resampling=0.25, isolate=False, refit=False)
    assert isinstance(model, nas.NeuralNetClassifier) and model.search_["n_networks"] == 1
    assert not model.search_["refit"] and list(model.classes_) == ["no", "yes"]
    assert set(model.predict(X)) <= {"no", "yes"}


def test_isolated_regression_search_is_reproducible_in_its_choice():
    X, y = table(n=100, seed=2, task="regression")
    runs = [nas.search(X, y, strategy="random", space="chain", time_budget=60, max_trials=2, max_epochs=3,
                       seed=5, refit=False) for _ in range(2)]
    assert runs[0].architecture_ == runs[1].architecture_
    assert (runs[0].history_["status"] == "success").all()
    np.testing.assert_allclose(runs[0].history_["loss"], runs[1].history_["loss"])
    assert runs[0].predict(X).shape == (100,)


def test_budget_too_small_for_one_epoch_is_a_clear_error():
    X, y = table(n=60)
    with pytest.raises(RuntimeError, match="too small for one epoch"):
        nas.search(X, y, strategy="random", space="chain", time_budget=0.3, seed=0)


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"strategy": "darts", "space": "residual"}, "cell space"),
    ({"strategy": "annealing"}, "unknown strategy"),
    ({"space": "transformer"}, "unknown space"),
    ({"time_budget": None, "max_trials": None}, "time_budget"),
    ({"max_epochs": 0}, "max_epochs"),
    ({"refit": "always"}, "refit must be"),
])
def test_bad_arguments(kwargs, error):
    X, y = table(n=40)
    with pytest.raises(ValueError, match=error):
        nas.search(X, y, **kwargs)


def test_bad_data():
    X, y = table(n=40)
    with pytest.raises(ValueError, match="single class"):
        nas.search(X, ["a"] * 40, max_trials=1, isolate=False)
    with pytest.raises(ValueError, match="at least 10 rows"):
        nas.search(X.head(5), y.head(5), max_trials=1, isolate=False)


def _objective(tmp_path, folds=1, **kwargs):
    X, y = table(n=120, seed=3)
    y_enc = (y == "yes").to_numpy().astype(np.int64)
    from autolearn.data.types import infer_schema

    rows = np.arange(120)
    splits = make_splits(y_enc, "binary", Resampling("cv", n_folds=folds), 0) if folds > 1 else [(rows[:90], rows[90:])]
    data = TaskData(X, y_enc, "binary", infer_schema(X), get_metric(None, "binary"), 2, splits)
    path = save_task_data(data, tmp_path / "data.pkl")
    return NASObjective(path, str(tmp_path), "chain", max_epochs=9, **kwargs)


def test_with_cross_validation_a_trial_is_the_mean_over_one_network_per_fold(tmp_path):
    from autolearn.evaluation.evaluate import load_task_data
    from autolearn.nas.estimators import estimator_for

    objective = _objective(tmp_path, folds=3, curve_stopping=False)
    config = architecture({"n_layers": 1, "width_1": 16}, "chain").config
    out = objective(TrialSpec(0, config, budget=1.0, seed=4))
    fold_losses = out.info["fold_losses"]
    assert out.status is Status.SUCCESS and len(fold_losses) == 3
    assert out.values[0] == pytest.approx(np.mean(fold_losses))
    data = load_task_data(objective.data_path)  # the last fold, trained by hand, scores what the trial says
    train, valid = data.splits[2]
    est = estimator_for("binary")(architecture(dict(config), "chain"), epochs=9, seed=4, patience=objective.patience)
    est.fit(data.X.iloc[train], data.y[train], eval_set=(data.X.iloc[valid], data.y[valid]),
            eval_loss=lambda y, p: data.metric.loss(y, p))
    assert data.metric.loss(data.y[valid], est.predict_proba(data.X.iloc[valid])) == pytest.approx(fold_losses[2])
    assert out.artifacts is not None and out.info["refit_seconds"] > 0


def test_a_promoted_cross_validated_trial_continues_every_fold(tmp_path):
    objective = _objective(tmp_path, folds=2, keep_checkpoints=True, curve_stopping=False, patience=50)
    config = architecture({"n_layers": 1, "width_1": 16}, "chain").config
    objective(TrialSpec(0, config, budget=1 / 3, limits=Limits()))
    high = objective(TrialSpec(1, config, budget=1.0, origin="promoted", parent=0))
    assert high.info["continued"] and high.info["epochs_trained"] == 9 and len(high.info["fold_losses"]) == 2


def test_small_data_is_searched_with_cross_validation_unless_told_otherwise():
    X, y = table(n=120, seed=1)
    common = dict(strategy="random", space="chain", time_budget=None, max_trials=1, max_epochs=2, isolate=False)
    assert nas.search(X, y, **common).search_["resampling"] == "5-fold CV"
    assert nas.search(X, y, resampling=0.25, **common).search_["resampling"] == "25% holdout"
    with pytest.raises(ValueError, match="resampling"):
        nas.search(X, y, resampling="bootstrap", **common)


def test_promoted_trial_continues_its_parent(tmp_path):
    objective = _objective(tmp_path, keep_checkpoints=True, curve_stopping=False, patience=50)
    config = architecture({"n_layers": 1, "width_1": 16}, "chain").config
    low = objective(TrialSpec(0, config, budget=1 / 3, limits=Limits()))
    assert low.status is Status.SUCCESS and low.info["epochs_trained"] == 3
    assert (tmp_path / "checkpoints" / "0.pkl").exists() and low.artifacts is None
    high = objective(TrialSpec(1, config, budget=1.0, origin="promoted", parent=0))
    assert high.info["continued"] and high.info["epochs_trained"] == 9
    assert [net.n_epochs_ for net in high.artifacts] == [9]  # the holdout's one network, continued


def test_objective_prunes_a_run_that_cannot_beat_the_incumbent(tmp_path):
    objective = _objective(tmp_path, curve_stopping=True, patience=50)
    objective.max_epochs = 40
    update_incumbent(tmp_path, 40, 1e-4)  # an (almost) perfect network was seen before
    config = architecture({"n_layers": 1, "width_1": 16, "lr": 1e-4}, "chain").config
    out = objective(TrialSpec(0, config, budget=1.0))
    assert out.status is Status.PRUNED and out.info["stopped"] == "learning_curve"
    assert out.info["epochs_trained"] < 40 and out.info["predicted_final"] > 1e-4
    assert np.isfinite(out.values[0])
