"""The Evaluator's own duties beyond fitting: what a trial prints and what it records."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from autolearn.data.types import infer_schema
from autolearn.evaluation.evaluate import Evaluator, TaskData, broken_refit, save_task_data, training_losses
from autolearn.evaluation.metrics import get_metric
from autolearn.evaluation.resampling import Resampling, make_splits
from autolearn.records import TrialSpec
from autolearn.space import build_space
from autolearn.strategy import with_model


def test_model_warnings_go_to_the_trial_record_not_the_console(tmp_path):
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    schema = infer_schema(X)
    splits = make_splits(y, "binary", Resampling("cv", 2), 0)
    data = TaskData(X, y, "binary", schema, get_metric(None, "binary"), 2, splits)
    evaluator = Evaluator(save_task_data(data, tmp_path / "data.pkl"))
    config = with_model(build_space("binary", schema=schema, seed=0), "mlp")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        outcome = evaluator(TrialSpec(0, config, budget=1 / 9, seed=0))  # 1/9 of the epochs: no convergence
    assert not shown, [str(w.message) for w in shown]
    assert any(m.startswith("ConvergenceWarning") for m in outcome.info["warnings"])
    assert len(outcome.info["warnings"]) == len(set(outcome.info["warnings"])) <= 5


# -- the check on a refit ---------------------------------------------------------------------------
def test_a_refit_is_broken_only_when_far_worse_on_its_own_rows_than_validated():
    # sane: a model fits its training rows at least as well as held-out ones
    assert broken_refit({"train_loss": 0.05, "constant_loss": 0.69}, validation_loss=0.2) is None
    # saturated probabilities (the histogram gradient boosting refit of page_blocks): broken, with the numbers
    reason = broken_refit({"train_loss": 4.5, "constant_loss": 0.44}, validation_loss=0.24)
    assert reason is not None and "4.5" in reason and "0.24" in reason and "0.44" in reason
    # twice as bad but a negligible share of the way to a constant predictor: near-perfect models
    assert broken_refit({"train_loss": 1e-5, "constant_loss": 0.5}, validation_loss=3e-6) is None
    # a little worse but not twice: no
    assert broken_refit({"train_loss": 0.3, "constant_loss": 0.69}, validation_loss=0.2) is None
    # nothing measured (an older record), or no validated loss to compare with
    assert broken_refit({}, validation_loss=0.2) is None
    assert broken_refit({"train_loss": 9.0, "constant_loss": 0.69}, validation_loss=float("inf")) is None


def test_training_losses_of_a_fitted_model_and_a_constant(tmp_path):
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import log_loss

    X, y = make_classification(n_samples=300, n_features=4, weights=[0.7], random_state=0)
    data = TaskData(X, y, "binary", infer_schema(pd.DataFrame(X)), get_metric("log_loss", "binary"), 2,
                    make_splits(y, "binary", Resampling("cv", 2), 0))
    prior = DummyClassifier(strategy="prior").fit(X, y)
    losses = training_losses(prior, data, seed=0)
    assert losses["train_loss"] == pytest.approx(losses["constant_loss"])
    assert losses["constant_loss"] == pytest.approx(log_loss(y, prior.predict_proba(X)))  # all 300 < the row cap
    flipped = DummyClassifier(strategy="constant", constant=int(np.argmin(np.bincount(y)))).fit(X, y)
    assert training_losses(flipped, data, seed=0)["train_loss"] > 10 * losses["constant_loss"]
