"""Time-capped training: an iterative model trains to as many units as its trial's time limit allows,
and the refit on all rows trains that many too."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_classification
from sklearn.pipeline import Pipeline

from autolearn.components.registry import Fidelity
from autolearn.data.types import infer_schema
from autolearn.evaluation import time_cap
from autolearn.evaluation.evaluate import REFIT, Evaluator, TaskData, save_task_data
from autolearn.evaluation.metrics import get_metric
from autolearn.evaluation.resampling import Resampling, make_splits
from autolearn.evaluation.time_cap import fit_within, refit_budget
from autolearn.records import Limits, TrialSpec
from autolearn.space import build_space
from autolearn.strategy import with_model

SECONDS_PER_UNIT = 0.01


class FakeClock:
    """Stands in for the ``time`` module inside ``time_cap``: fitting a unit advances it, nothing else does."""

    now = 0.0

    @classmethod
    def perf_counter(cls) -> float:
        return cls.now


class Units(RegressorMixin, BaseEstimator):
    """A model whose fit costs ``SECONDS_PER_UNIT`` of fake time per unit."""

    def __init__(self, units: int = 1) -> None:
        self.units = units

    def fit(self, X, y):
        FakeClock.now += self.units * SECONDS_PER_UNIT
        self.trained_ = self.units
        return self

    def predict(self, X):
        return np.full(len(X), float(self.trained_))


@dataclass(frozen=True)
class TrainOn:
    refuse: bool = False

    def can_continue(self, model) -> bool:
        return True

    def continue_fit(self, model, value, X, y):
        if self.refuse:
            return None
        FakeClock.now += (value - model.trained_) * SECONDS_PER_UNIT
        model.units = model.trained_ = value
        return model


@pytest.fixture
def clock(monkeypatch):
    FakeClock.now = 0.0
    monkeypatch.setattr(time_cap, "time", FakeClock)
    return FakeClock


def build(fidelity: Fidelity):
    return lambda budget: Pipeline([("model", Units(fidelity.value(budget)))])


XY = (np.zeros((4, 1)), np.zeros(4))


@pytest.mark.parametrize("seconds, units", [
    (5.0, 100),  # everything fits: the full count
    # the probe (25 units) took 0.25 s; 0.9 of the 0.75 s left buys 67 more
    (1.0, 92),
    (0.1, 25),  # the probe alone overran: it is the model
])
def test_units_are_what_the_time_allows(clock, seconds, units):
    fidelity = Fidelity("iterations", "units", full=100, warm_start=TrainOn())
    pipeline, got = fit_within(build(fidelity), fidelity, *XY, seconds=seconds)
    assert got == units
    assert pipeline[-1].trained_ == units
    assert clock.now <= max(seconds, 0.25)


class Overhead(Units):
    """Its fit from scratch pays ``OVERHEAD`` fake seconds once (preprocessing, binning); training on does not."""

    OVERHEAD = 0.5

    def fit(self, X, y):
        FakeClock.now += self.OVERHEAD
        return super().fit(X, y)


def test_training_goes_on_when_a_step_shows_the_probe_overestimated_the_cost(clock):
    fidelity = Fidelity("iterations", "units", full=100, warm_start=TrainOn())
    # the probe: 0.5 + 0.25 s for 25 units, 0.03 s a unit, so 0.9 * 1.25 s buys 37 more (0.37 s);
    # that step says 0.01 s a unit, and 0.9 * 0.88 s left buys the remaining 38
    pipeline, got = fit_within(lambda b: Pipeline([("model", Overhead(fidelity.value(b)))]), fidelity, *XY,
                               seconds=2.0)
    assert got == pipeline[-1].trained_ == 100
    assert clock.now <= 2.0


def test_no_step_smaller_than_the_last_measured_one(clock):
    fidelity = Fidelity("iterations", "units", full=1000, warm_start=TrainOn())
    # probe 250 units (2.5 s); 0.9 * 1.5 s buys 135 more (1.35 s); 0.15 s left buys 13 < 135: stop
    pipeline, got = fit_within(build(fidelity), fidelity, *XY, seconds=4.0)
    assert got == pipeline[-1].trained_ == 385
    assert clock.now <= 4.0


def test_a_model_that_cannot_train_on_is_fitted_anew_at_the_affordable_size(clock):
    fidelity = Fidelity("iterations", "units", full=100, warm_start=TrainOn(refuse=True))
    pipeline, got = fit_within(build(fidelity), fidelity, *XY, seconds=1.0)
    assert got == pipeline[-1].trained_ == 92


def test_refit_budget_follows_the_validated_units():
    assert refit_budget({"units": 128, "units_full": 512}) == 0.25
    assert refit_budget({"units": 512, "units_full": 512}) == 1.0
    assert refit_budget({"fit_time": 3.0}) == 1.0  # no cap: full budget


@pytest.fixture
def lightgbm_task(tmp_path):
    X, y = make_classification(n_samples=300, n_features=6, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    schema = infer_schema(X)
    data = TaskData(X, y, "binary", schema, get_metric(None, "binary"), 2,
                    make_splits(y, "binary", Resampling("cv", 3), 0))
    config = with_model(build_space("binary", schema=schema, seed=0), "lightgbm")
    return Evaluator(save_task_data(data, tmp_path / "data.pkl")), config


def test_a_trial_over_its_limit_returns_a_smaller_model_and_its_refit_matches(lightgbm_task):
    evaluator, config = lightgbm_task
    # a limit no fit can meet: every fold trains the probe's units (a quarter of 512 rounds)
    outcome = evaluator(TrialSpec(0, config, seed=0, limits=Limits(wall_time=1e-3)))
    assert outcome.info["units"] == 128 and outcome.info["units_full"] == 512 and outcome.info["time_capped"]
    assert np.isfinite(outcome.values[0])
    refit = evaluator(TrialSpec(1, config, budget=refit_budget(outcome.info), instance=REFIT, seed=0))
    assert refit.artifacts[-1].estimator_.n_estimators == 128


def test_trials_without_a_limit_or_below_full_budget_are_not_capped(lightgbm_task):
    evaluator, config = lightgbm_task
    plain = evaluator(TrialSpec(0, config, seed=0))
    rung = evaluator(TrialSpec(1, config, budget=0.25, seed=0, limits=Limits(wall_time=1e-3)))
    assert "units" not in plain.info and "units" not in rung.info
    roomy = evaluator(TrialSpec(2, config, seed=0, limits=Limits(wall_time=600.0)))
    assert roomy.info["units"] == 512 and not roomy.info["time_capped"]
    # probing and training on gives the model a single fit gives (LightGBM without subsampling)
    assert roomy.values == pytest.approx(plain.values)
