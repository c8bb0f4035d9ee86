import numpy as np
import pytest
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, ForbiddenEqualsClause, Integer

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers.grid_search import GridSearch


def test_contract():
    check_optimizer(GridSearch)


def test_conditional_grid_is_exhausted_once_then_none():
    space = conditional_space()
    opt = GridSearch(space, seed=0, resolution=3)
    # x: 3 points; linear: C 3 x penalty 2; tree: depth 3 (32 values > int_limit) x min_leaf 3; knn: k 3 x weights 2
    assert opt.size == 3 * (3 * 2 + 3 * 3 + 3 * 2)
    history = run(opt, conditional_objective, 1000, batch=4)
    keys = [spaces.config_key(s.config) for s, _ in history]
    assert len(keys) == len(set(keys)) == opt.size  # no duplicates differing only in inactive values
    for spec, _ in history:
        spaces.to_configuration(space, spec.config)
    assert opt.ask() is None and opt.ask() is None


def test_floats_are_log_aware_and_small_ints_enumerated():
    space = spaces.as_configspace({"lr": ("float", 1e-4, 1.0, "log"), "depth": ("int", 1, 4), "width": ("int", 1, 1000)})
    opt = GridSearch(space, resolution=5, shuffle=False)
    configs = [s.config for s, _ in run(opt, lambda c: 0.0, 1000)]
    assert sorted({c["lr"] for c in configs}) == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert sorted({c["depth"] for c in configs}) == [1, 2, 3, 4]
    assert len({c["width"] for c in configs}) == 5 and {1, 1000} <= {c["width"] for c in configs}
    assert len(configs) == 5 * 4 * 5


def test_user_values_override_the_grid():
    space = spaces.as_configspace({"C": ("float", 1e-3, 1e3, "log"), "kernel": ["rbf", "poly", "linear"]})
    opt = GridSearch(space, values={"C": [0.1, 1.0, 10.0], "kernel": ["rbf"]})
    configs = [s.config for s, _ in run(opt, lambda c: 0.0, 100)]
    assert sorted(c["C"] for c in configs) == pytest.approx([0.1, 1.0, 10.0])
    assert {c["kernel"] for c in configs} == {"rbf"}
    with pytest.raises(ValueError, match="not legal"):
        GridSearch(space, values={"C": [1e6]})
    with pytest.raises(ValueError, match="unknown"):
        GridSearch(space, values={"gamma": [1.0]})


def test_forbidden_clauses_and_nested_conditions():
    cs = ConfigurationSpace(seed=0)
    algo, kernel = Categorical("algo", ["svm", "tree"]), Categorical("kernel", ["rbf", "poly"])
    degree, depth = Integer("degree", (2, 3)), Float("depth", (1.0, 2.0))
    cs.add([algo, kernel, degree, depth])
    cs.add([EqualsCondition(kernel, algo, "svm"), EqualsCondition(degree, kernel, "poly"),
            EqualsCondition(depth, algo, "tree")])
    cs.add(ForbiddenEqualsClause(degree, 3))
    configs = [s.config for s, _ in run(GridSearch(cs, resolution=2), lambda c: 0.0, 100)]
    expected = [{"algo": "svm", "kernel": "rbf"}, {"algo": "svm", "kernel": "poly", "degree": 2},
                {"algo": "tree", "depth": 1.0}, {"algo": "tree", "depth": 2.0}]
    assert sorted(map(spaces.config_key, configs)) == sorted(map(spaces.config_key, expected))


def test_shuffled_order_is_seeded_and_foreign_trials_are_skipped():
    space = spaces.as_configspace({"a": ["x", "y", "z"], "b": ("int", 1, 3)})
    first = [GridSearch(space, seed=1).ask().config for _ in range(1)]
    assert first == [GridSearch(space, seed=1).ask().config]
    orders = {tuple(spaces.config_key(s.config) for s, _ in run(GridSearch(space, seed=s), lambda c: 0.0, 9))
              for s in range(4)}
    assert len(orders) > 1
    opt = GridSearch(space, seed=0)
    opt.tell(TrialSpec(0, {"a": "x", "b": 1}), TrialResult(0, Status.SUCCESS, (1.0,)))
    rest = [s.config for s, _ in run(opt, lambda c: 0.0, 100)]
    assert len(rest) == 8 and {"a": "x", "b": 1} not in rest


def test_too_large_a_grid_is_refused():
    space = spaces.as_configspace({f"x{i}": ("float", 0.0, 1.0) for i in range(8)})
    with pytest.raises(ValueError, match="more than"):
        GridSearch(space, resolution=10, max_size=10_000)
    assert GridSearch(space, resolution=2).size == 2**8
    assert np.isfinite(GridSearch(space, resolution=1).size)
