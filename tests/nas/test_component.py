"""``"nn"`` as a model of the CASH space: registered, built by the pipeline, searched by AutoClassifier."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="autolearn.nas needs PyTorch: pip install 'autolearn[nn]'")

import autolearn.components.neural  # noqa: E402,F401  (registers "nn" until autolearn.components imports it)
from autolearn.components import get  # noqa: E402
from autolearn.components.neural import _architecture  # noqa: E402
from autolearn.nas.spaces import architecture  # noqa: E402
from autolearn.pipeline import build_pipeline  # noqa: E402
from autolearn.space import build_space  # noqa: E402

from .conftest import table  # noqa: E402


def test_registered_outside_the_default_space():
    nn = get("nn")
    assert nn.kind == "model" and not nn.default_in_space and nn.fidelity.param == "epochs"
    assert "nn" not in build_space("binary")["model"].choices
    assert build_space("binary", include=["nn"])["model"].choices == ("nn",)


@pytest.mark.parametrize("arch", ["residual", "chain"])
def test_compact_space_maps_to_valid_architectures(arch):
    params = {**get("nn").defaults("binary"), "arch": arch, "n_layers": 3}
    built = architecture(_architecture(params))
    assert built.space == arch and (built.get("n_blocks") == 3 or built.get("n_layers") == 3)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_pipeline_with_nn_fits_at_a_low_budget(task):
    X, y = table(n=100, task=task)
    from autolearn.data.types import infer_schema

    schema = infer_schema(X)
    config = build_space(task, schema=schema, include=["nn"]).get_default_configuration()
    y_enc = y.to_numpy() if task == "regression" else np.unique(y, return_inverse=True)[1]
    pipe = build_pipeline(config, task=task, schema=schema, budget=0.1, n_classes=3 if task == "multiclass" else 2)
    pipe.fit(X, y_enc)
    out = pipe.predict(X) if task == "regression" else pipe.predict_proba(X)
    assert np.isfinite(out).all()


def test_autoclassifier_searches_nn():
    from autolearn import AutoClassifier

    X, y = table(n=200, seed=4)
    # per_trial_time_limit: the default (a tenth of the budget, 2 s) is less than a fresh worker needs to
    # import torch, so every trial would time out. A holdout (one fit per trial, not five) keeps the test
    # from depending on how busy the machine is.
    model = AutoClassifier(time_budget=20, include=["nn"], n_jobs=1, per_trial_time_limit=10, resampling="holdout",
                           seed=0).fit(X, y)
    board = model.leaderboard()
    assert not model.search_.fallback
    assert (board["model"] == "nn").all() and (board["status"] == "success").any()
    assert model.score(X, y) > 0.7


def test_after_cv_the_default_averages_the_fold_networks_and_refits_the_other_models():
    from autolearn import AutoClassifier
    from autolearn.ensemble.fold_average import FoldAverage
    from autolearn.evaluation.evaluate import REFIT

    X, y = table(n=200, seed=4)
    # without meta-learned recommendations the portfolio's order: logistic regression's defaults, then the
    # network's (see autolearn.strategy)
    model = AutoClassifier(time_budget=60, include=["nn", "logistic_regression"], n_jobs=1, per_trial_time_limit=20,
                           resampling=3, max_trials=2, warm_start=False, seed=0).fit(X, y)
    search = model.search_
    validated = [r for r in search.records if r.spec.instance != REFIT]
    models = {r.spec.trial_id: r.spec.config["model"] for r in validated}
    kept = {r.spec.trial_id: r.result.info.get("fold_models", False) for r in validated if r.result.ok}
    assert sorted(models.values()) == ["logistic_regression", "nn"]
    assert {models[t]: k for t, k in kept.items()} == {"logistic_regression": False, "nn": True}
    assert {models[tid] for _, _, tid in search.members} == {"logistic_regression", "nn"}  # both kinds of member
    for _, member, tid in search.members:
        assert isinstance(member, FoldAverage) == (models[tid] == "nn")
        if models[tid] == "nn":
            assert len(member.models) == 3
    refitted = sum(models[tid] != "nn" for _, _, tid in search.members)
    assert (model.trials_["kind"] == "refit").sum() == refitted
