import math

import pytest

from autolearn.tune.schedulers import rungs
from autolearn.tune.schedulers.successive_halving import halving_sizes


def test_rungs_are_powers_of_eta_below_max_budget():
    assert rungs(1 / 27) == pytest.approx([1 / 27, 1 / 9, 1 / 3, 1.0])
    assert rungs(1 / 9, eta=3) == pytest.approx([1 / 9, 1 / 3, 1.0])
    assert rungs(1 / 16, eta=2) == pytest.approx([1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0])
    assert rungs(1 / 9, max_budget=0.5) == pytest.approx([0.5 / 3, 0.5])
    assert rungs(1.0) == [1.0]


def test_lowest_rung_is_never_below_min_budget():
    assert rungs(0.05) == pytest.approx([1 / 9, 1 / 3, 1.0])  # 1/27 < 0.05
    assert rungs(0.3) == pytest.approx([1 / 3, 1.0])
    for min_budget in (0.01, 0.02, 0.04, 0.1, 0.2, 0.5):
        ladder = rungs(min_budget)
        assert ladder[0] >= min_budget and ladder[0] / 3 < min_budget
        assert ladder[-1] == 1.0
        assert all(math.isclose(b * 3, c) for b, c in zip(ladder, ladder[1:]))


@pytest.mark.parametrize("args", [(0.0,), (1.5,), (0.5, 0.25), (0.1, 1.0, 1.0)])
def test_rungs_reject_bad_arguments(args):
    with pytest.raises(ValueError):
        rungs(*args)


def test_halving_sizes():
    assert halving_sizes(27, 4, 3) == [27, 9, 3, 1]
    assert halving_sizes(12, 3, 3) == [12, 4, 1]
    assert halving_sizes(5, 3, 3) == [5, 1, 1]  # at least one trial per rung
    assert halving_sizes(16, 5, 2) == [16, 8, 4, 2, 1]
