"""BOHB: its KDE is a proper density, it handles conditional spaces, and it beats random search."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    Constant,
    Float,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)
from scipy import stats

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers.random_search import RandomSearch
from autolearn.tune.schedulers import BOHB
from autolearn.tune.schedulers.bohb import KDE


def test_kde_is_a_density_on_the_unit_interval_and_over_choices():
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.random(20), rng.integers(3, size=20)]).astype(float)
    data[:5, 0] = np.nan  # inactive in a few rows: they contribute the uniform prior
    kde = KDE.fit(data, np.array([0, 3]))
    grid = (np.arange(2000) + 0.5) / 2000
    total = 0.0
    for choice in range(3):
        x = np.column_stack([grid, np.full_like(grid, choice)])
        total += np.exp(kde.logpdf(x)).mean()  # integral over [0, 1], summed over choices
    assert total == pytest.approx(1.0, abs=1e-3)
    # a query inactive in a dimension is marginalized there
    marginal = np.exp(kde.logpdf(np.column_stack([np.full(3, np.nan), np.arange(3.0)])))
    assert marginal.sum() == pytest.approx(1.0, abs=1e-6)


def test_kde_samples_stay_in_the_unit_cube_and_near_the_data():
    data = np.array([[0.2, 1.0], [0.25, 1.0], [0.22, 1.0]])
    kde = KDE.fit(data, np.array([0, 2]))
    x = kde.sample(np.random.default_rng(0), 500, bandwidth_factor=1.0)
    assert np.all((x[:, 0] >= 0) & (x[:, 0] <= 1)) and abs(np.median(x[:, 0]) - 0.22) < 0.05
    assert np.mean(x[:, 1] == 1.0) > 0.8


def test_model_on_a_conditional_space_prefers_the_good_branch():
    space = conditional_space()
    opt = BOHB(space, seed=0, random_fraction=0.0, min_budget=1 / 9)
    for i, config in enumerate(spaces.sample(space, 60, np.random.default_rng(1))):
        opt.tell(TrialSpec(1000 + i, config, 1 / 9), TrialResult(1000 + i, Status.SUCCESS,
                                                                   (conditional_objective(config),)))
    assert opt.model()[2] == pytest.approx(1 / 9)
    proposals = [opt._new_config([]) for _ in range(30)]
    assert all(p.origin == "bohb" for p in proposals)
    for p in proposals:
        spaces.to_configuration(space, p.config)  # valid: inactive hyperparameters absent
    assert sum(p.config["model"] == "tree" for p in proposals) >= 20  # "tree" holds the optimum


def test_model_uses_the_largest_budget_with_enough_points():
    cs = ConfigurationSpace(seed=0)
    cs.add(Float("x", (0.0, 1.0)))
    opt = BOHB(cs, seed=0, min_budget=1 / 9)  # n_min = 2: a budget needs 4 observations
    assert opt.model() is None
    for i in range(6):
        opt.tell(TrialSpec(i, {"x": i / 10}, 1 / 9), TrialResult(i, Status.SUCCESS, (i,)))
    assert opt.model()[2] == pytest.approx(1 / 9)
    for i in range(3):
        opt.tell(TrialSpec(10 + i, {"x": i / 10}, 1.0), TrialResult(10 + i, Status.SUCCESS, (i,)))
    assert opt.model()[2] == pytest.approx(1 / 9)  # 3 < 4 at full budget
    opt.tell(TrialSpec(20, {"x": 0.9}, 1.0), TrialResult(20, Status.CRASHED))
    assert opt.model()[2] == pytest.approx(1.0)  # a crash counts, as the worst loss


def test_bohb_proposes_from_its_model_on_the_conditional_space():
    history = run(BOHB(conditional_space(), seed=3), conditional_objective, 120, batch=3)
    new = [s.origin for s, _ in history if s.parent is None]
    assert "bohb" in new and any(o != "bohb" for o in new[40:])  # model and random fraction


def test_every_kind_of_hyperparameter_and_forbidden_clauses():
    cs = ConfigurationSpace(seed=0)
    size = OrdinalHyperparameter("size", ["s", "m", "l"])
    n = Integer("n", (1, 1000), log=True)
    kind = Categorical("kind", [1, 2, 3])
    cs.add([size, n, kind, Constant("c", "fixed"), Float("x", (-1.0, 1.0))])
    cs.add(ForbiddenEqualsClause(kind, 3))

    def objective(config):
        return abs(config["x"]) + abs(np.log10(config["n"]) - 2) + (config["size"] != "m") + (config["kind"] == 2)

    history = run(BOHB(cs, seed=0, min_budget=1 / 9), objective, 100)
    for spec, _ in history:
        spaces.to_configuration(cs, spec.config)
        assert spec.config["kind"] != 3 and spec.config["c"] == "fixed"
    assert sum(s.origin == "bohb" for s, _ in history) >= 10


# -- BOHB vs random search on a synthetic multi-fidelity function --------------------------------
DIMS = 6
OPTIMUM = np.linspace(0.2, 0.8, DIMS)


def synthetic_space() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=0)
    cs.add([Float(f"x{i}", (0.0, 1.0)) for i in range(DIMS)])
    return cs


def true_loss(config) -> float:
    x = np.array([config[f"x{i}"] for i in range(DIMS)])
    return float(10 * np.sum((x - OPTIMUM) ** 2))


def observed_loss(seed: int):
    """Low budgets are noisy and biased but correlated with the full-budget loss."""
    rng = np.random.default_rng(seed + 999)
    return lambda spec: true_loss(spec.config) + (1 - spec.budget) * (0.5 + rng.normal())


def test_bohb_beats_random_search_at_the_same_total_budget(sim):
    total_budget = 40.0  # in full-budget evaluations
    bohb, rand = [], []
    for seed in range(8):
        for opt, out in ((BOHB(synthetic_space(), seed=seed), bohb), (RandomSearch(synthetic_space(), seed=seed), rand)):
            result = sim(opt, observed_loss(seed), max_cost=total_budget)
            assert sum(s.budget for _, s, _ in result.started) <= total_budget + 1
            out.append(min(true_loss(s.config) for s, _ in result.told if math.isclose(s.budget, 1.0)))
    assert np.median(bohb) < np.median(rand)
    assert stats.mannwhitneyu(bohb, rand, alternative="less").pvalue < 0.05
