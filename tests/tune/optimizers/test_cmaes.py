"""CMA-ES: the optimizer contract on a numeric space, asynchronous generations, restarts."""

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float, ForbiddenGreaterThanRelation
from scipy.stats import mannwhitneyu

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers import get_optimizer_class
from autolearn.tune.optimizers.cmaes import CMAES
from autolearn.tune.optimizers.random_search import RandomSearch


def numeric_space(seed: int = 0) -> ConfigurationSpace:
    return spaces.as_configspace({"a": ("float", -5.0, 5.0), "b": ("float", -5.0, 5.0),
                                  "lr": ("float", 1e-5, 1e-1, "log"), "n": ("int", 1, 100), "fixed": "yes"}, seed=seed)


def shifted_quadratic(c: dict) -> float:
    """Optimum away from the defaults, with a coupled (Rosenbrock-like) term."""
    return ((c["a"] - 1.5) ** 2 + 2 * (c["b"] + 2.0) ** 2 + 0.5 * (c["b"] + 2.0 - 0.3 * (c["a"] - 1.5)) ** 2
            + (np.log10(c["lr"]) + 3.5) ** 2 + ((c["n"] - 30) / 20) ** 2)


def check_continuous_optimizer(factory, n_trials: int = 30) -> None:
    """check_optimizer's three checks, on a numeric space (CMA-ES refuses conditional ones)."""
    space = numeric_space()
    history = run(factory(space, seed=1), shifted_quadratic, n_trials, batch=3)
    assert len(history) == n_trials
    for spec, _ in history:
        spaces.to_configuration(space, spec.config)
    again = run(factory(numeric_space(), seed=1), shifted_quadratic, n_trials, batch=3)
    assert [spaces.config_key(s.config) for s, _ in history] == [spaces.config_key(s.config) for s, _ in again]
    opt = factory(numeric_space(), seed=2)
    foreign = spaces.sample(space, 5, np.random.default_rng(0))
    for i, config in enumerate(foreign):
        status = Status.SUCCESS if i % 2 == 0 else Status.CRASHED
        values = (shifted_quadratic(config),) if status is Status.SUCCESS else ()
        opt.tell(TrialSpec(1000 + i, config), TrialResult(1000 + i, status, values))
    assert len(run(opt, shifted_quadratic, 10)) == 10


def test_contract_on_a_numeric_space():
    check_continuous_optimizer(CMAES)
    assert get_optimizer_class("cmaes") is CMAES


def test_refuses_categorical_and_conditional_spaces_by_name():
    with pytest.raises(ValueError, match="cmaes needs a continuous space; use 'tpe' or 'evolution'") as err:
        CMAES(conditional_space())
    named = str(err.value).split("hyperparameters: ")[1].rstrip(")").split(", ")
    assert "model" in named and "linear:C" in named and "x" not in named  # x is a plain float: fine


def test_beats_random_search():
    def best(factory):
        return [min(r.loss for _, r in run(factory(numeric_space(), seed=s), shifted_quadratic, 60)) for s in range(8)]

    cma, rnd = best(CMAES), best(RandomSearch)
    assert mannwhitneyu(cma, rnd, alternative="less").pvalue < 0.05, (cma, rnd)


def test_converges_on_a_sphere():
    space = spaces.as_configspace({f"x{i}": ("float", -5.0, 5.0) for i in range(4)})
    history = run(CMAES(space, seed=0, restart=None), lambda c: sum((c[f"x{i}"] - 1) ** 2 for i in range(4)), 500)
    assert min(r.loss for _, r in history) < 1e-6


def test_a_generation_updates_when_popsize_results_are_in_and_stragglers_are_ignored():
    opt = CMAES(numeric_space(), seed=0, popsize=6)
    pending: list[TrialSpec] = []
    for i in range(8):  # more asks than popsize: pending trials all belong to generation 0
        pending.append(TrialSpec(i, dict(opt.ask(pending).config)))
    for k, spec in enumerate(reversed(pending)):  # results arrive in any order
        opt.tell(spec, TrialResult(spec.trial_id, Status.SUCCESS, (shifted_quadratic(spec.config),)))
        assert opt.generation == (0 if k < 5 else 1)  # the 7th and 8th are stragglers
    mean_before = opt._strategy.mean.copy()
    spec = TrialSpec(99, dict(opt.ask().config))
    opt.tell(spec, TrialResult(99, Status.CRASHED))  # failures count toward the generation, ranked last
    assert opt.generation == 1 and np.array_equal(mean_before, opt._strategy.mean)


def test_ipop_restarts_grow_the_population_on_a_multimodal_loss():
    space = spaces.as_configspace({"x": ("float", -5.12, 5.12), "y": ("float", -5.12, 5.12)})

    def rastrigin(c):
        x = np.array([c["x"], c["y"]])
        return float(20 + np.sum(x**2 - 10 * np.cos(2 * np.pi * x)))

    opt = CMAES(space, seed=0)
    history = run(opt, rastrigin, 1500)
    assert opt.n_restarts >= 1 and opt.popsize > 6
    assert min(r.loss for _, r in history) < 1.0


def test_integer_only_spaces_round_and_avoid_repeats():
    space = spaces.as_configspace({"i": ("int", -20, 20), "j": ("int", 0, 8)})
    history = run(CMAES(space, seed=0), lambda c: (c["i"] - 3) ** 2 + (c["j"] - 5) ** 2, 60)
    assert min(r.loss for _, r in history) == 0
    assert all(isinstance(s.config["i"], int) for s, _ in history)
    assert len({spaces.config_key(s.config) for s, _ in history}) > 40


def test_warm_start_centers_the_first_generation_on_the_best_told_result():
    opt = CMAES(numeric_space(), seed=0, sigma0=0.01)
    good = {"a": 1.5, "b": -2.0, "lr": 10**-3.5, "n": 30, "fixed": "yes"}
    opt.tell(TrialSpec(0, good), TrialResult(0, Status.SUCCESS, (0.0,)))
    config = opt.ask().config
    assert abs(config["a"] - 1.5) < 0.5 and abs(config["b"] + 2.0) < 0.5


def test_forbidden_clauses_are_respected():
    space = ConfigurationSpace(seed=0)
    a, b = Float("a", (0.0, 1.0)), Float("b", (0.0, 1.0))
    space.add([a, b, ForbiddenGreaterThanRelation(a, b)])
    history = run(CMAES(space, seed=0), lambda c: (c["a"] - 0.8) ** 2 + (c["b"] - 0.2) ** 2, 40)
    assert all(s.config["a"] <= s.config["b"] for s, _ in history)
