"""Hypergradient descent: exact hypergradients of the built-in objectives, descent with and without them."""

import json
import math

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace
from scipy.stats import mannwhitneyu
from sklearn.datasets import make_classification, make_regression

from autolearn.records import Outcome, Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import check_optimizer, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers.hypergradient import HypergradientDescent, logistic_objective, ridge_objective
from autolearn.tune.optimizers.random_search import RandomSearch


def drive(opt, objective, n_trials: int, batch: int = 1) -> list[tuple[TrialSpec, TrialResult]]:
    """Like ``testing.run`` but objectives return Outcomes, whose ``info`` reaches the optimizer."""
    done: list[tuple[TrialSpec, TrialResult]] = []
    while len(done) < n_trials:
        pending: list[TrialSpec] = []
        while len(pending) < batch and len(done) + len(pending) < n_trials:
            s = opt.ask(pending)
            if s is None:
                break
            pending.append(TrialSpec(len(done) + len(pending), dict(s.config), origin=s.origin))
        assert pending, "nothing proposed and nothing pending"
        for spec in pending:
            out = objective(spec)
            out = out if isinstance(out, Outcome) else Outcome(values=(float(out),))
            result = TrialResult(spec.trial_id, Status.SUCCESS, out.values, info=out.info)
            opt.tell(spec, result)
            done.append((spec, result))
    return done


@pytest.fixture(scope="module")
def ridge():
    X, y = make_regression(200, 30, n_informative=10, noise=20.0, random_state=0)
    return ridge_objective(X[:100], y[:100], X[100:], y[100:])


@pytest.fixture(scope="module")
def logistic():
    X, y = make_classification(200, 10, n_informative=4, flip_y=0.1, random_state=0)
    return logistic_objective(X[:100], y[:100], X[100:], y[100:])


def finite_difference(objective, value: float, h: float = 1e-4) -> float:
    return (objective.loss_and_gradient(value + h)[0] - objective.loss_and_gradient(value - h)[0]) / (2 * h)


@pytest.mark.parametrize("value", [-4.0, 0.0, 2.5, 6.0])
def test_ridge_hypergradient_matches_finite_differences(ridge, value):
    assert ridge.loss_and_gradient(value)[1] == pytest.approx(finite_difference(ridge, value), rel=1e-4)


@pytest.mark.parametrize("value", [-4.0, 0.0, 2.5, 6.0])
def test_logistic_hypergradient_matches_finite_differences(logistic, value):
    assert logistic.loss_and_gradient(value)[1] == pytest.approx(finite_difference(logistic, value), rel=1e-4)


def test_objectives_take_trial_specs_or_dicts_and_report_json_gradients(ridge):
    out = ridge(TrialSpec(0, {"log_alpha": 1.0}))
    assert isinstance(out, Outcome) and set(out.info["gradient"]) == {"log_alpha"}
    json.dumps(out.info)
    assert ridge({"log_alpha": 1.0}).values == out.values


@pytest.mark.parametrize("name", ["ridge", "logistic"])
def test_descent_reaches_the_grid_search_optimum(name, request):
    objective = request.getfixturevalue(name)
    key = next(iter(objective.space))
    grid = np.linspace(-10, 10, 401)  # grid search at 0.05 spacing
    losses = [objective.loss_and_gradient(v)[0] for v in grid]
    history = drive(HypergradientDescent(spaces.as_configspace(objective.space), seed=0), objective, 40)
    best_spec, best = min(history, key=lambda t: t[1].loss)
    assert best.loss <= min(losses) + 1e-9 * abs(min(losses))
    assert abs(best_spec.config[key] - grid[int(np.argmin(losses))]) <= 0.05


def test_log_scaled_hyperparameters_report_gradients_per_natural_log():
    """For a log-scaled float the gradient is d loss / d ln(value), whatever the bounds."""
    space = spaces.as_configspace({"alpha": ("float", 1e-3, 1e3, "log"), "beta": ("float", -1.0, 3.0)})

    def objective(spec):
        u, b = math.log(spec.config["alpha"]), spec.config["beta"]
        return Outcome(values=((u - 1.0) ** 2 + (b - 2.0) ** 2,),
                       info={"gradient": {"alpha": 2 * (u - 1.0), "beta": 2 * (b - 2.0)}})

    opt = HypergradientDescent(space, seed=0)
    history = drive(opt, objective, 30)
    best = min(history, key=lambda t: t[1].loss)[0].config
    assert math.log(best["alpha"]) == pytest.approx(1.0, abs=0.02) and best["beta"] == pytest.approx(2.0, abs=0.02)
    assert opt.n_restarts == 0  # one descent, no finite differences: every trial is a step


def test_contract_on_a_conditional_space_by_finite_differences():
    check_optimizer(HypergradientDescent)


def test_finite_differences_beat_random_search():
    """Without gradients each step costs two trials (SPSA), hence 80 trials rather than 60."""
    space = lambda: spaces.as_configspace({"a": ("float", -5.0, 5.0), "b": ("float", -5.0, 5.0),  # noqa: E731
                                           "lr": ("float", 1e-5, 1e-1, "log"), "n": ("int", 1, 100)})

    def f(c):
        return ((c["a"] - 1.5) ** 2 + 2 * (c["b"] + 2.0) ** 2 + 0.5 * (c["b"] + 2.0 - 0.3 * (c["a"] - 1.5)) ** 2
                + (np.log10(c["lr"]) + 3.5) ** 2 + ((c["n"] - 30) / 20) ** 2)

    def best(cls):
        return [min(r.loss for _, r in run(cls(space(), seed=s), f, 80)) for s in range(8)]

    hg, rnd = best(HypergradientDescent), best(RandomSearch)
    assert mannwhitneyu(hg, rnd, alternative="less").pvalue < 0.05, (hg, rnd)


def test_parallel_asks_add_gradient_samples_or_wait():
    space = spaces.as_configspace({"a": ("float", -5.0, 5.0), "b": ("float", -5.0, 5.0), "c": ("float", 0.0, 1.0)})
    f = lambda c: (c["a"] - 1) ** 2 + c["b"] ** 2 + c["c"]  # noqa: E731
    opt = HypergradientDescent(space, seed=0, max_pairs=3)
    drive(opt, lambda s: f(s.config), 1)  # the start point; no gradient in the result: finite differences
    pending: list[TrialSpec] = []
    while (s := opt.ask(pending)) is not None:
        pending.append(TrialSpec(10 + len(pending), dict(s.config)))
    assert len(pending) == 6  # three (distinct) SPSA pairs at the same point, then it waits
    assert len({spaces.config_key(p.config) for p in pending}) == 6
    # a result that never comes back (lost worker) is asked again rather than waited for forever
    assert opt.ask(pending[1:]).config == pending[0].config


def test_a_space_with_only_categoricals_still_gets_proposals():
    space = ConfigurationSpace(seed=0)
    space.add(spaces.as_configspace({"c": ["a", "b", "c"], "d": ["x", "y"]}).values())
    history = run(HypergradientDescent(space, seed=0), lambda c: float(c["c"] == "b"), 6)
    assert len({spaces.config_key(s.config) for s, _ in history}) == 6
