"""The REINFORCE controller: contract, learning, conditional sampling."""

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.stats import mannwhitneyu

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import check_optimizer, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers.random_search import RandomSearch
from autolearn.tune.optimizers.reinforce import PolicyGradient, _softmax


def numeric_space() -> ConfigurationSpace:
    return spaces.as_configspace({"a": ("float", -5.0, 5.0), "b": ("float", -5.0, 5.0),
                                  "lr": ("float", 1e-5, 1e-1, "log"), "n": ("int", 1, 100)})


def shifted_quadratic(c: dict) -> float:
    """Optimum away from the defaults, with a coupled (Rosenbrock-like) term."""
    return ((c["a"] - 1.5) ** 2 + 2 * (c["b"] + 2.0) ** 2 + 0.5 * (c["b"] + 2.0 - 0.3 * (c["a"] - 1.5)) ** 2
            + (np.log10(c["lr"]) + 3.5) ** 2 + ((c["n"] - 30) / 20) ** 2)


def test_contract():
    check_optimizer(PolicyGradient)


def test_beats_random_search_given_a_policy_gradient_budget():
    """A policy learns from its samples, so it needs more trials than a model-free local search:
    150 here, where it beats random search on every one of 8 seeds."""
    def best(factory):
        return [min(r.loss for _, r in run(factory(numeric_space(), seed=s), shifted_quadratic, 150)) for s in range(8)]

    rl, rnd = best(PolicyGradient), best(RandomSearch)
    assert mannwhitneyu(rl, rnd, alternative="less").pvalue < 0.05, (rl, rnd)


def test_the_policy_concentrates_on_the_best_choice():
    space = spaces.as_configspace({"c": ["a", "b", "c", "d", "e"], "x": ("float", 0.0, 1.0)})
    opt = PolicyGradient(space, seed=0)
    run(opt, lambda c: "abcde".index(c["c"]) + c["x"], 100)
    probs = _softmax(opt.logits["c"])
    assert probs.argmax() == 0 and probs[0] > 0.5
    assert _softmax(opt.logits["x"]).argmax() <= 1  # low bins of x


def test_only_active_factors_learn_and_samples_respect_conditions():
    space = conditional_space()
    opt = PolicyGradient(space, seed=0)
    knn_before = opt.logits["knn:k"].copy()
    for i in range(10):  # only linear models are told: knn's factors must not move
        config = {"model": "linear", "linear:C": 10.0 ** (i - 4), "linear:penalty": "l2", "x": 0.0}
        opt.tell(TrialSpec(i, config), TrialResult(i, Status.SUCCESS, (float(i),)))
    opt.ask()
    assert np.array_equal(knn_before, opt.logits["knn:k"])
    assert not np.allclose(opt.logits["linear:C"], 0.0)  # foreign results train the policy too
    for _ in range(50):
        spaces.to_configuration(space, opt.sample())


def test_failures_are_learned_as_the_worst_result():
    space = spaces.as_configspace({"c": ["ok", "crash"], "x": ("float", 0.0, 1.0)})
    opt = PolicyGradient(space, seed=0)
    for i in range(40):
        config = opt.ask().config
        crashed = config["c"] == "crash"
        opt.tell(TrialSpec(i, config), TrialResult(i, Status.CRASHED if crashed else Status.SUCCESS,
                                                   () if crashed else (config["x"],)))
    assert _softmax(opt.logits["c"])[0] > 0.7
