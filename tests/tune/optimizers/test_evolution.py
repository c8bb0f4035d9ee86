"""Regularized evolution and the shared variation operators of ``_mutation.py``."""

import numpy as np
import pytest
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, ForbiddenEqualsClause, Integer
from scipy.stats import mannwhitneyu

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._mutation import ConfigOperators, reflect
from autolearn.tune.optimizers.evolution import RegularizedEvolution
from autolearn.tune.optimizers.random_search import RandomSearch


def numeric_space() -> ConfigurationSpace:
    return spaces.as_configspace({"a": ("float", -5.0, 5.0), "b": ("float", -5.0, 5.0),
                                  "lr": ("float", 1e-5, 1e-1, "log"), "n": ("int", 1, 100)})


def shifted_quadratic(c: dict) -> float:
    """Optimum away from the defaults, with a coupled (Rosenbrock-like) term."""
    return ((c["a"] - 1.5) ** 2 + 2 * (c["b"] + 2.0) ** 2 + 0.5 * (c["b"] + 2.0 - 0.3 * (c["a"] - 1.5)) ** 2
            + (np.log10(c["lr"]) + 3.5) ** 2 + ((c["n"] - 30) / 20) ** 2)


def final_best(factory, objective, n_trials: int, seeds=range(8)) -> list[float]:
    return [min(r.loss for _, r in run(factory(numeric_space(), seed=s), objective, n_trials)) for s in seeds]


def test_contract():
    check_optimizer(RegularizedEvolution)


def test_beats_random_search():
    evo = final_best(RegularizedEvolution, shifted_quadratic, 60)
    rnd = final_best(RandomSearch, shifted_quadratic, 60)
    assert mannwhitneyu(evo, rnd, alternative="less").pvalue < 0.05, (evo, rnd)


def test_finds_the_good_branch_of_a_conditional_space():
    history = run(RegularizedEvolution(conditional_space(), seed=0), conditional_objective, 120)
    best = min(history, key=lambda t: t[1].loss)[0].config
    assert best["model"] == "tree"


def test_oldest_member_leaves_the_population():
    """A great but old result no longer parents children once P newer results arrived (aging)."""
    space = spaces.as_configspace({"a": ("float", 0.0, 1.0), "b": ("float", 0.0, 1.0), "c": ("float", 0.0, 1.0)})
    opt = RegularizedEvolution(space, seed=0, population_size=5, sample_size=5)
    rng = np.random.default_rng(0)
    told = [({"a": 0.9, "b": 0.9, "c": 0.9}, 0.0)]  # best ever, but oldest
    told += [({k: float(v) for k, v in zip("abc", rng.uniform(0, 0.5, 3))}, 1.0 + i) for i in range(5)]
    for i, (config, loss) in enumerate(told):
        opt.tell(TrialSpec(i, config), TrialResult(i, Status.SUCCESS, (loss,)))
    parent = told[1][0]  # the best of the five youngest
    for _ in range(10):
        child = opt.ask().config
        assert sum(child[k] == parent[k] for k in "abc") == 2  # one hyperparameter of the winner mutated


def test_pending_configurations_are_not_proposed_again():
    space = spaces.as_configspace({"k": ("int", 1, 6), "kind": ["x", "y"]})
    opt = RegularizedEvolution(space, seed=0, population_size=4, sample_size=2)
    run(opt, lambda c: c["k"] + (c["kind"] == "y"), 6)
    told = {spaces.config_key(s.config) for s, _ in opt.history}
    pending: list[TrialSpec] = []
    for i in range(3):
        config = opt.ask(pending).config
        key = spaces.config_key(config)
        assert key not in told and key not in {spaces.config_key(p.config) for p in pending}
        pending.append(TrialSpec(100 + i, config))


# -- _mutation.py ------------------------------------------------------------------------------------
def test_mutating_the_branch_activates_children_and_drops_inactive_ones():
    space = conditional_space()
    ops = ConfigOperators(space)
    rng = np.random.default_rng(0)
    parent = {"model": "linear", "linear:C": 1.0, "linear:penalty": "l2", "x": 0.0}
    switched = 0
    for _ in range(200):
        child = ops.mutate(parent, rng, n_changes=2)
        spaces.to_configuration(space, child)  # raises when invalid
        if child["model"] != "linear":
            switched += 1
            assert not any(k.startswith("linear:") for k in child)
            assert {k for k in child if ":" in k} == {k for k in space if k.startswith(child["model"] + ":")}
    assert switched > 20


def test_crossover_keeps_children_consistent_with_the_chosen_branch():
    space = conditional_space()
    ops = ConfigOperators(space)
    rng = np.random.default_rng(1)
    a = {"model": "tree", "tree:depth": 4, "tree:min_leaf": 0.2, "x": 1.0}
    b = {"model": "knn", "knn:k": 7, "knn:weights": "distance", "x": -1.0}
    for numeric in ("uniform", "sbx"):
        for _ in range(50):
            child = ops.crossover(a, b, rng, numeric=numeric)
            spaces.to_configuration(space, child)
            donor = a if child["model"] == "tree" else b
            assert all(child[k] == donor[k] for k in child if ":" in k)


def test_integer_mutation_always_moves_and_stays_in_bounds():
    space = ConfigurationSpace()
    space.add(Integer("n", (1, 3)))
    ops = ConfigOperators(space)
    rng = np.random.default_rng(0)
    for value in (1, 2, 3):
        for _ in range(20):
            new = ops.perturb("n", value, rng, scale=0.01, resample_prob=0.0)
            assert new != value and 1 <= new <= 3


def test_reflect_folds_into_the_unit_interval():
    assert reflect(1.2) == pytest.approx(0.8)
    assert reflect(-0.3) == pytest.approx(0.3)
    assert reflect(0.4) == pytest.approx(0.4)


def test_forbidden_clauses_are_respected():
    space = ConfigurationSpace(seed=0)
    kind = Categorical("kind", ["a", "b", "c"])
    level = Integer("level", (1, 4))
    extra = Float("extra", (0.0, 1.0))
    space.add([kind, level, extra, EqualsCondition(extra, kind, "c")])
    space.add(ForbiddenEqualsClause(kind, "b"))
    history = run(RegularizedEvolution(space, seed=0, population_size=4), lambda c: c["level"], 30)
    assert all(s.config["kind"] != "b" for s, _ in history)
    for s, _ in history:
        spaces.to_configuration(space, s.config)
