"""Hyperband's brackets match Table 1 of Li et al. (2018), in arithmetic and when run."""

from collections import Counter

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float

from autolearn.tune.schedulers import Hyperband, hyperband_brackets


def space() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=0)
    cs.add(Float("x", (0.0, 1.0)))
    return cs


def in_units(brackets, R):
    return [[(n, round(r * R, 6)) for n, r in bracket] for bracket in brackets]


def test_bracket_sizes_eta3_R27():
    assert in_units(hyperband_brackets(1 / 27, eta=3), 27) == [
        [(27, 1), (9, 3), (3, 9), (1, 27)],
        [(12, 3), (4, 9), (1, 27)],
        [(6, 9), (2, 27)],
        [(4, 27)],
    ]


def test_bracket_sizes_eta3_R81_as_printed_in_the_paper():
    assert in_units(hyperband_brackets(1 / 81, eta=3), 81) == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]


def test_running_a_cycle_follows_the_table(sim):
    table = hyperband_brackets(1 / 27)
    opt = Hyperband(space(), min_budget=1 / 27, seed=0)
    n_cycle = sum(n for bracket in table for n, _ in bracket)
    rng = np.random.default_rng(0)
    sim(opt, lambda spec: float(rng.random()), n_trials=n_cycle + 1, workers=2)
    per_rung = Counter((row["bracket"], round(row["budget"] * 27, 6)) for row in opt.rung_table())
    for index, bracket in enumerate(table):
        assert [per_rung[(index, round(r * 27, 6))] for _, r in bracket] == [n for n, _ in bracket]
    assert per_rung[(4, 1)] == 1  # then the cycle starts over with the most aggressive bracket
    new = Counter(row["bracket"] for row in opt.rung_table() if row["parent"] is None)
    assert [new[i] for i in range(4)] == [27, 12, 6, 4]


def test_hyperband_has_no_n_configs():
    with pytest.raises(TypeError):
        Hyperband(space(), n_configs=5)
