"""NSGA-II and the Pareto helpers of ``autolearn.tune.pareto``."""

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace
from scipy.stats import mannwhitneyu

from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers.nsga2 import NSGA2, select_survivors
from autolearn.tune.optimizers.random_search import RandomSearch
from autolearn.tune.pareto import crowding_distance, hypervolume_2d, non_dominated_sort, pareto_front

D = 6


def zdt1_space() -> ConfigurationSpace:
    return spaces.as_configspace({f"x{i}": ("float", 0.0, 1.0) for i in range(D)})


def zdt1(c: dict) -> tuple[float, float]:
    x = np.array([c[f"x{i}"] for i in range(D)])
    g = 1 + 9 * x[1:].mean()
    return float(x[0]), float(g * (1 - np.sqrt(x[0] / g)))


def test_contract():
    check_optimizer(NSGA2)
    assert NSGA2.multi_objective


def test_pareto_front_and_sorting():
    values = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2], [6, 6], [np.nan, 6]])  # NaN counts as +inf
    assert pareto_front(values).tolist() == [True, True, True, False, True, False, False]
    assert non_dominated_sort(values).tolist() == [0, 0, 0, 1, 0, 2, 3]
    assert pareto_front(np.empty((0, 2))).shape == (0,)


def test_crowding_distance_favours_isolated_points():
    front = np.array([[0.0, 1.0], [0.1, 0.9], [0.5, 0.5], [1.0, 0.0]])
    d = crowding_distance(front)
    assert np.isinf(d[0]) and np.isinf(d[3]) and d[2] > d[1]
    keep = select_survivors(np.vstack([front, [[0.12, 0.88]]]), 4)  # the crowded pair loses one
    assert set(keep.tolist()) >= {0, 2, 3} and len(keep) == 4


def test_hypervolume_2d():
    assert hypervolume_2d(np.array([[1.0, 1.0]]), (2.0, 2.0)) == pytest.approx(1.0)
    front = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.5, 1.5], [3.0, 0.0]])
    assert hypervolume_2d(front, (2.0, 2.0)) == pytest.approx(2 * 1 + 1.5 * 0.5 + 1 * 0.5)
    assert hypervolume_2d(np.array([[3.0, 3.0]]), (2.0, 2.0)) == 0.0


def test_front_beats_random_search_on_zdt1():
    ref = (1.1, 10.0)  # f2 of random points reaches ~7: every method's front counts

    def hv(factory):
        out = []
        for s in range(6):
            history = run(factory(zdt1_space(), seed=s, n_objectives=2), zdt1, 150)
            out.append(hypervolume_2d(np.array([r.values for _, r in history]), ref))
        return out

    nsga, rnd = hv(NSGA2), hv(RandomSearch)
    assert mannwhitneyu(nsga, rnd, alternative="greater").pvalue < 0.05, (nsga, rnd)


def test_sbx_crossover_and_conditional_spaces():
    history = run(NSGA2(conditional_space(), seed=0, crossover="sbx"),
                  lambda c: (conditional_objective(c), abs(c["x"])), 60, batch=4)
    for s, _ in history:
        spaces.to_configuration(conditional_space(), s.config)
    assert len({spaces.config_key(s.config) for s, _ in history}) == 60
