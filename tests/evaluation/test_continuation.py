"""Warm-started continuation: a promoted trial continues its parent's fold models.

The central property: training to a third of the fidelity and continuing to the full fidelity gives the
model a fit from scratch to the full fidelity gives (same seed), for every model that claims it.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from threadpoolctl import threadpool_limits

from autolearn.components import get
from autolearn.data.schema import Schema
from autolearn.evaluation.continuation import (
    DIRECTORY,
    ContinuationStore,
    FoldModels,
    can_continue,
    continue_pipeline,
    folds_fingerprint,
)
from autolearn.evaluation.evaluate import Evaluator, TaskData, predict, refit_time_estimate, save_task_data
from autolearn.evaluation.metrics import get_metric
from autolearn.evaluation.resampling import Resampling, make_splits
from autolearn.pipeline import build_pipeline
from autolearn.records import TrialSpec
from autolearn.space import build_space
from autolearn.strategy import with_model

N_ROWS, N_FEATURES, SEED = 240, 6, 7
THIRD = 1 / 3


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


def dataset(task: str) -> tuple[pd.DataFrame, np.ndarray, Schema]:
    if task == "regression":
        X, y = make_regression(N_ROWS, N_FEATURES, noise=5.0, random_state=0)
        y = 100.0 * y + 3000.0  # unscaled units: the MLP's target scaling is part of what continues
    else:
        X, y = make_classification(N_ROWS, N_FEATURES, n_informative=4, n_classes=2 if task == "binary" else 3,
                                   random_state=0)
    cols = [f"x{i}" for i in range(N_FEATURES)]
    return pd.DataFrame(X, columns=cols), y, Schema(tuple(cols), {c: "numeric" for c in cols})


def config(task: str, schema: Schema, model: str, **overrides) -> dict:
    out = with_model(build_space(task, schema=schema, seed=0), model, overrides)
    assert out is not None, (model, overrides)
    return out


def n_classes(task: str) -> int | None:
    return {"binary": 2, "multiclass": 3}.get(task)


def fit(cfg: dict, task: str, schema: Schema, X, y, budget: float):
    pipeline = build_pipeline(cfg, task=task, schema=schema, seed=SEED, budget=budget, n_rows=len(y),
                              n_classes=n_classes(task))
    return pipeline.fit(X, y)


# Model families that claim exact continuation, with overrides that exercise their randomness
# (bootstrap rows, feature subsampling) wherever the claim covers it.
EXACT = [
    ("random_forest", {"bootstrap": True, "max_features": 0.5}),
    ("extra_trees", {}),
    ("hist_gradient_boosting", {"max_features": 0.5}),
    ("lightgbm", {"subsample": 1.0, "colsample_bytree": 1.0}),
    ("mlp", {"learning_rate_init": 0.001}),  # slow enough not to converge within a third of the epochs
]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize(("model", "overrides"), EXACT, ids=[m for m, _ in EXACT])
def test_continuation_gives_the_model_a_fit_from_scratch_gives(task, model, overrides):
    X, y, schema = dataset(task)
    cfg = config(task, schema, model, **overrides)
    fidelity = get(model).fidelity
    X_new = X.iloc[:60] + 0.3  # off the training rows, where fully grown trees all agree
    low = fit(cfg, task, schema, X, y, THIRD)
    low_pred = predict(low, X_new, task, n_classes(task) or 0)
    scratch_pred = predict(fit(cfg, task, schema, X, y, 1.0), X_new, task, n_classes(task) or 0)
    assert not np.allclose(low_pred, scratch_pred, atol=1e-6), "a third of the units must give another model"

    continued = continue_pipeline(low, fidelity, fidelity.value(1.0), X, y)

    assert continued is low  # the fitted preprocessing is reused, only the model trained on
    np.testing.assert_allclose(predict(continued, X_new, task, n_classes(task) or 0), scratch_pred, rtol=0,
                               atol=1e-10)


def test_lightgbm_with_subsampling_continues_to_the_full_rounds():
    # Bagging and feature fraction restart their generators for the added rounds, so the model is not
    # the one a fit from scratch gives (see LightGBMContinuation); it has the full number of rounds.
    X, y, schema = dataset("binary")
    cfg = config("binary", schema, "lightgbm", subsample=0.7, colsample_bytree=0.6)
    low = fit(cfg, "binary", schema, X, y, THIRD)
    continued = continue_pipeline(low, get("lightgbm").fidelity, 512, X, y)
    booster = continued.steps[-1][1].estimator_.booster_
    assert booster.current_iteration() == 512


def test_early_stopped_hist_gradient_boosting_is_not_continued():
    X, y, schema = dataset("binary")
    cfg = config("binary", schema, "hist_gradient_boosting")
    low = fit(cfg, "binary", schema, X, y, THIRD)
    low.steps[-1][1].estimator_.do_early_stopping_ = True  # as above 10,000 rows
    fidelity = get("hist_gradient_boosting").fidelity
    assert not can_continue(low, fidelity)
    assert continue_pipeline(low, fidelity, 512, X, y) is None


def test_network_continues_its_epochs():
    pytest.importorskip("torch")
    X, y, schema = dataset("binary")
    cfg = {**config("binary", schema, "lightgbm"), "model": "nn"}
    cfg = {k: v for k, v in cfg.items() if not k.startswith("lightgbm:")}
    cfg.update({"nn:arch": "chain", "nn:n_layers": 1, "nn:width": 16, "nn:dropout": 0.0,
                "nn:normalization": "none", "nn:activation": "relu", "nn:lr": 1e-3, "nn:weight_decay": 1e-5,
                "nn:batch_size": 64})
    fidelity = get("nn").fidelity
    low = fit(cfg, "binary", schema, X, y, 3 / 60)
    network = low.steps[-1][1].estimator_
    if network.stopped_ == "early_stopping":
        pytest.skip("the short run already stopped early; nothing to continue")
    assert network.n_epochs_ == 3
    continue_pipeline(low, fidelity, 6, X, y)
    assert low.steps[-1][1].estimator_.n_epochs_ > 3


# -- the evaluator ------------------------------------------------------------------------------------


@pytest.fixture
def run_dir(tmp_path):
    return tmp_path


def evaluator(run_dir, task: str = "binary") -> tuple[Evaluator, TaskData]:
    X, y, schema = dataset(task)
    y_enc = y.astype(int) if task != "regression" else y
    splits = make_splits(y_enc, task, Resampling("cv", 3), 0)
    data = TaskData(X, y_enc, task, schema, get_metric(None, task), n_classes(task) or 0, splits)
    return Evaluator(save_task_data(data, run_dir / "data.pkl")), data


def spec(trial_id: int, cfg: dict, budget: float, parent: int | None = None, seed: int = SEED) -> TrialSpec:
    return TrialSpec(trial_id, cfg, budget, seed=seed, origin="promoted" if parent is not None else "random",
                     parent=parent)


def saved(run_dir) -> list[str]:
    folder = run_dir / DIRECTORY
    return sorted(os.listdir(folder)) if folder.exists() else []


@pytest.mark.parametrize("model", ["random_forest", "lightgbm"])
def test_promoted_trial_continues_its_parent_and_equals_scratch(run_dir, model):
    ev, data = evaluator(run_dir)
    cfg = config("binary", data.schema, model)
    parent = ev(spec(1, cfg, THIRD))
    assert saved(run_dir) == ["1.pkl"]
    assert "warm_started" not in parent.info

    child = ev(spec(2, cfg, 1.0, parent=1))
    scratch = ev(spec(3, cfg, 1.0))

    assert child.info["warm_started"] is True
    np.testing.assert_array_equal(child.artifacts, scratch.artifacts)
    assert child.values == scratch.values
    assert saved(run_dir) == []  # the parent's models are deleted once its child finished; full budget keeps none
    assert child.info["cumulative_fit_time"] > child.info["fit_time"]


def test_middle_rung_keeps_its_continued_models_for_the_next_promotion(run_dir):
    ev, data = evaluator(run_dir)
    cfg = config("binary", data.schema, "extra_trees")
    ev(spec(1, cfg, 1 / 9))
    middle = ev(spec(2, cfg, THIRD, parent=1))
    assert middle.info["warm_started"] is True
    assert saved(run_dir) == ["2.pkl"]
    top = ev(spec(3, cfg, 1.0, parent=2))
    scratch = ev(spec(4, cfg, 1.0))
    assert top.info["warm_started"] is True
    np.testing.assert_array_equal(top.artifacts, scratch.artifacts)


def test_promoted_trial_without_saved_parent_trains_from_scratch_and_says_so(run_dir):
    ev, data = evaluator(run_dir)
    cfg = config("binary", data.schema, "lightgbm")
    child = ev(spec(2, cfg, 1.0, parent=1))  # trial 1 ran elsewhere: nothing saved here
    scratch = ev(spec(3, cfg, 1.0))
    assert child.info["warm_started"] is False
    np.testing.assert_array_equal(child.artifacts, scratch.artifacts)


def test_parent_fitted_on_something_else_is_not_continued(run_dir):
    ev, data = evaluator(run_dir)
    cfg = config("binary", data.schema, "lightgbm")
    ev(spec(1, cfg, THIRD))
    other = {**cfg, "lightgbm:num_leaves": 7}  # a mismatched configuration must not inherit its trees
    child = ev(spec(2, other, 1.0, parent=1))
    assert child.info["warm_started"] is False
    assert saved(run_dir) == ["1.pkl"]  # not used, so not deleted


def test_rows_fidelity_saves_nothing_and_promotions_start_over(run_dir):
    ev, data = evaluator(run_dir)
    ev.fidelity = "rows"
    cfg = config("binary", data.schema, "lightgbm")
    ev(spec(1, cfg, THIRD))
    child = ev(spec(2, cfg, 1.0, parent=1))
    assert saved(run_dir) == []
    assert child.info["warm_started"] is False


def test_full_budget_search_writes_nothing(run_dir):
    ev, data = evaluator(run_dir)
    outcome = ev(spec(1, config("binary", data.schema, "random_forest"), 1.0))
    assert "warm_started" not in outcome.info
    assert not (run_dir / DIRECTORY).exists()


def test_model_without_warm_start_is_not_saved(run_dir):
    ev, data = evaluator(run_dir)
    cfg = config("binary", data.schema, "logistic_regression")  # no fidelity: its budget subsamples rows
    ev(spec(1, cfg, THIRD))
    assert saved(run_dir) == []


def test_refit_estimate_uses_the_time_from_scratch():
    info = {"fit_time": 1.0, "cumulative_fit_time": 3.0}
    assert refit_time_estimate(info, n_folds=3, holdout_fraction=None) == pytest.approx(1.5)
    assert refit_time_estimate({"fit_time": 1.0}, n_folds=3, holdout_fraction=None) == pytest.approx(0.5)


# -- the store ------------------------------------------------------------------------------------------


def entry(size: int = 10, value: int = 5) -> FoldModels:
    return FoldModels({"model": "m"}, "rows", value, 1.0, [np.zeros(size)])  # any picklable stands in


def test_store_keeps_the_most_recent_entries(tmp_path):
    store = ContinuationStore(tmp_path, max_entries=2)
    for trial in range(4):
        store.save(trial, entry())
        os.utime(store.path(trial), (1000 + trial, 1000 + trial))  # distinct ages, whatever the clock
    store.prune()
    assert sorted(os.listdir(tmp_path)) == ["2.pkl", "3.pkl"]


def test_store_caps_the_bytes_and_refuses_huge_entries(tmp_path):
    store = ContinuationStore(tmp_path, max_mb=1.0)
    assert not store.save(1, entry(size=40_000))  # ~320 kB > a quarter of the cap
    assert saved_files(tmp_path) == []
    for trial in range(7):
        assert store.save(trial, entry(size=20_000))  # ~160 kB each: six fit into 1 MB, seven do not
        os.utime(store.path(trial), (1000 + trial, 1000 + trial))
    store.prune()
    total = sum(os.path.getsize(tmp_path / f) for f in saved_files(tmp_path))
    assert total <= 2**20
    assert saved_files(tmp_path) == [f"{t}.pkl" for t in range(1, 7)]  # the oldest went


def saved_files(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_store_load_checks_what_the_models_were_fitted_on(tmp_path):
    store = ContinuationStore(tmp_path)
    store.save(1, entry(value=5))
    assert store.load(1, {"model": "m"}, "rows", 10) is not None
    assert store.load(1, {"model": "m"}, "rows", 4) is None  # the parent has more units than asked for
    assert store.load(1, {"model": "other"}, "rows", 10) is None
    assert store.load(1, {"model": "m"}, "other rows", 10) is None
    assert store.load(2, {"model": "m"}, "rows", 10) is None
    (tmp_path / "3.pkl").write_bytes(b"cut short")
    assert store.load(3, {"model": "m"}, "rows", 10) is None


def test_folds_fingerprint_depends_on_the_rows():
    a = [np.arange(5), np.arange(5, 10)]
    assert folds_fingerprint(a) == folds_fingerprint([r.copy() for r in a])
    assert folds_fingerprint(a) != folds_fingerprint([np.arange(10)])
    assert folds_fingerprint(a) != folds_fingerprint([np.arange(5), np.arange(6, 11)])


def test_promotion_to_the_same_number_of_units_reuses_the_parent(run_dir):
    ev, data = evaluator(run_dir)
    cfg = config("binary", data.schema, "lightgbm")
    assert get("lightgbm").fidelity.value(0.02) == get("lightgbm").fidelity.value(0.03) == 16  # the minimum
    parent = ev(spec(1, cfg, 0.02))
    child = ev(spec(2, cfg, 0.03, parent=1))
    assert child.info["warm_started"] is True
    np.testing.assert_array_equal(child.artifacts, parent.artifacts)
