import numpy as np
import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Float, ForbiddenEqualsClause
from scipy.stats import mannwhitneyu, qmc

from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._encoding import SpaceEncoder
from autolearn.tune.optimizers.quasi_random import QuasiRandomSearch, initial_design
from autolearn.tune.optimizers.random_search import RandomSearch


def test_contract():
    check_optimizer(QuasiRandomSearch)


@pytest.mark.parametrize("kind", ["sobol", "halton", "lhs", "random"])
def test_initial_design_is_valid_distinct_and_reproducible(kind):
    space = conditional_space()
    design = initial_design(space, 24, kind, 7)
    assert len(design) == 24
    assert len({spaces.config_key(c) for c in design}) == 24
    for config in design:
        spaces.to_configuration(space, config)
    assert design == initial_design(conditional_space(), 24, kind, 7)
    assert design != initial_design(conditional_space(), 24, kind, 8)


def test_design_covers_every_branch_and_can_start_at_the_default():
    space = conditional_space()
    design = initial_design(space, 9, "sobol", 0, include_default=True)
    assert design[0] == spaces.default_config(space)
    assert {c["model"] for c in design} == {"linear", "tree", "knn"}


def test_design_in_a_tiny_space_stops_at_its_size():
    space = spaces.as_configspace({"a": ["x", "y"], "b": [1, 2]})
    assert len(initial_design(space, 10, "sobol", 0)) == 4


def test_design_respects_forbidden_clauses():
    cs = ConfigurationSpace(seed=0)
    a, b = Categorical("a", ["x", "y"]), Float("b", (0.0, 1.0))
    cs.add([a, b])
    cs.add(ForbiddenEqualsClause(a, "y"))
    assert all(c["a"] == "x" for c in initial_design(cs, 16, "sobol", 0))


def test_sobol_fills_the_space_more_evenly_than_random_draws():
    """Centered L2 discrepancy of the designs' unit-cube points, over seeds (lower is more even)."""
    space = spaces.as_configspace({f"x{i}": ("float", 0.0, 1.0) for i in range(4)})
    enc = SpaceEncoder(space)

    def discrepancy(kind, seed):
        return qmc.discrepancy(enc.to_unit(enc.encode(initial_design(space, 32, kind, seed))))

    sobol = [discrepancy("sobol", s) for s in range(8)]
    random = [discrepancy("random", s) for s in range(8)]
    assert mannwhitneyu(sobol, random, alternative="less").pvalue < 0.01


def test_stream_never_repeats_and_starts_at_the_default():
    space = conditional_space()
    opt = QuasiRandomSearch(space, seed=0)
    history = run(opt, conditional_objective, 64, batch=4)
    keys = [spaces.config_key(s.config) for s, _ in history]
    assert len(set(keys)) == 64
    assert history[0][0].config == spaces.default_config(space)
    assert history[0][0].origin == "initial" and history[1][0].origin == "sobol"


def test_halton_and_bad_kind():
    opt = QuasiRandomSearch(conditional_space(), seed=0, kind="halton", default_first=False)
    assert opt.ask().origin == "sobol"
    with pytest.raises(ValueError, match="kind"):
        QuasiRandomSearch(conditional_space(), kind="lhs")
    with pytest.raises(ValueError, match="design kind"):
        initial_design(conditional_space(), 4, "grid")


def test_sobol_search_is_no_worse_than_random_search(problems):
    """Quasi-random search has no model, so "beats" would be too strong a claim on 8 seeds."""
    space_fn, objective = problems["quadratic"]
    ours = [min(r.loss for _, r in run(QuasiRandomSearch(space_fn(), seed=s), objective, 50)) for s in range(8)]
    theirs = [min(r.loss for _, r in run(RandomSearch(space_fn(), seed=s), objective, 50)) for s in range(8)]
    assert mannwhitneyu(ours, theirs, alternative="greater").pvalue > 0.05
    assert np.median(ours) < 2 * np.median(theirs)
