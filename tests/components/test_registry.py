from __future__ import annotations

import pytest
from ConfigSpace import ConfigurationSpace

from autolearn.components import KINDS, TASKS, BuildContext, Component, Fidelity, components, get, register
from autolearn.components.registry import models


def test_every_kind_has_components_for_every_task():
    for task in TASKS:
        for kind in KINDS:
            assert components(kind, task), (kind, task)


def test_required_models_are_registered():
    classification = {"logistic_regression", "linear_svm", "rbf_svm", "knn", "decision_tree", "random_forest",
                      "extra_trees", "hist_gradient_boosting", "lightgbm", "gaussian_nb", "bernoulli_nb", "lda",
                      "qda", "mlp"}
    regression = {"ridge", "lasso", "elastic_net", "linear_svr", "rbf_svr", "knn", "decision_tree", "random_forest",
                  "extra_trees", "hist_gradient_boosting", "lightgbm", "mlp"}
    for task in ("binary", "multiclass"):
        assert classification <= {c.name for c in models(task)}
    assert regression <= {c.name for c in models("regression")}


@pytest.mark.parametrize("component", components(), ids=lambda c: c.name)
def test_hyperparameters_are_unprefixed_and_defaults_valid(component: Component):
    for task in component.tasks:
        hps = component.hyperparameters_for(task)
        assert all(":" not in hp.name for hp in hps)
        cs = ConfigurationSpace()
        cs.add(hps)  # ConfigSpace rejects defaults outside the range
        names = {hp.name for hp in hps}
        for child, parent, _ in component.conditions:
            assert parent in names or child not in names
        if component.fidelity is not None:
            assert component.fidelity.param not in names  # budget, not the optimizer, sets it
            assert component.resolve({}, task, 1.0)[component.fidelity.param] == component.fidelity.full


def test_fidelity_scales_between_min_and_full():
    f = Fidelity("iterations", param="n_estimators", full=512, min=16)
    assert f.value(1.0) == 512
    assert f.value(0.5) == 256
    assert f.value(0.001) == 16
    with pytest.raises(ValueError):
        f.value(0.0)
    with pytest.raises(ValueError):
        f.value(1.5)
    with pytest.raises(ValueError):
        Fidelity("iterations", param="n", full=4, min=8)


def test_resolve_fills_defaults_and_rejects_unknown_hyperparameters():
    lgbm = get("lightgbm")
    params = lgbm.resolve({"num_leaves": 7}, "binary", budget=0.25)
    assert params["num_leaves"] == 7 and params["learning_rate"] == pytest.approx(0.05)
    assert params["n_estimators"] == 128
    with pytest.raises(ValueError, match="no hyperparameter"):
        lgbm.resolve({"depth": 3}, "binary")


def test_task_specific_hyperparameters():
    rf = get("random_forest")
    assert "criterion" in rf.defaults("binary")
    assert "criterion" not in rf.defaults("regression")


def test_registration_rules():
    with pytest.raises(ValueError, match="already registered"):
        register(Component("lightgbm", "model", TASKS, lambda p, ctx: None))
    with pytest.raises(ValueError, match="kind"):
        Component("x", "booster", TASKS, lambda p, ctx: None)
    with pytest.raises(ValueError, match="tasks"):
        Component("x", "model", ("ranking",), lambda p, ctx: None)
    with pytest.raises(ValueError, match="unknown component"):
        get("no_such_model")
    with pytest.raises(ValueError):
        components("booster")


def test_build_context_threads_follow_the_worker(monkeypatch):
    monkeypatch.setenv("AUTOLEARN_THREADS", "3")
    assert BuildContext("binary").n_jobs == 3
    assert BuildContext("multiclass").is_classification and not BuildContext("regression").is_classification


def test_hist_gradient_boosting_needs_dense_input():
    assert not get("hist_gradient_boosting").handles_sparse
