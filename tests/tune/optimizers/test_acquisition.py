import numpy as np
import pytest

from autolearn.tune import space as spaces
from autolearn.tune.optimizers._acquisition import (
    expected_improvement,
    log_expected_improvement,
    lower_confidence_bound,
    make_score,
    maximize,
    transform_targets,
)
from autolearn.tune.optimizers._encoding import SpaceEncoder, keys


def test_log_ei_matches_ei_and_stays_finite_where_ei_underflows():
    mu = np.linspace(-3, 8, 200)
    sd = np.full_like(mu, 0.5)
    ei = expected_improvement(mu, sd, best=0.0)
    finite = ei > 1e-300
    assert log_expected_improvement(mu, sd, 0.0)[finite] == pytest.approx(np.log(ei[finite]), rel=1e-9)
    far = log_expected_improvement(np.array([50.0, 1e3, 1e9]), np.ones(3), 0.0)
    assert np.all(np.isfinite(far)) and np.all(np.diff(far) < 0)  # still ranks hopeless points


def test_ei_prefers_low_mean_and_high_uncertainty():
    assert expected_improvement(np.array([0.0]), np.array([1.0]), 0.5) > expected_improvement(
        np.array([1.0]), np.array([1.0]), 0.5)
    assert expected_improvement(np.array([1.0]), np.array([2.0]), 0.5) > expected_improvement(
        np.array([1.0]), np.array([1.0]), 0.5)
    assert lower_confidence_bound(np.array([1.0]), np.array([1.0]), 2.0) == pytest.approx(1.0)


def test_target_transforms_keep_the_order():
    y = np.array([3.0, 1.0, 100.0, 2.0, 1.5])
    for kind in ("none", "log", "copula"):
        assert np.argsort(transform_targets(y, kind)).tolist() == np.argsort(y).tolist()
    with pytest.raises(ValueError):
        transform_targets(y, "sqrt")


def test_maximize_finds_the_peak_of_a_known_surface():
    space = spaces.as_configspace({"x": ("float", 0.0, 1.0), "y": ("float", 0.0, 1.0), "c": ["a", "b", "c"]})
    enc = SpaceEncoder(space)
    target = np.array([0.3, 0.71])
    c = enc.names.index("c")
    xy = [enc.names.index("x"), enc.names.index("y")]

    def score(X):
        return -((X[:, xy] - target) ** 2).sum(axis=1) - (X[:, c] != 2)

    best = maximize(score, enc, np.random.default_rng(0), n_random=100)
    assert best[c] == 2 and np.allclose(best[xy], target, atol=0.02)
    excluded = maximize(score, enc, np.random.default_rng(0), n_random=100, exclude=keys(best[None]))
    assert keys(excluded[None]) != keys(best[None])


def test_make_score_validates_and_wraps_a_model():
    predict = lambda X: (X[:, 0], np.ones(len(X)))  # noqa: E731
    X = np.array([[0.0], [1.0]])
    for kind in ("log_ei", "ei", "ucb"):
        s = make_score(predict, kind, best=0.5)(X)
        assert s[0] > s[1]
    with pytest.raises(ValueError, match="acquisition"):
        make_score(predict, "pi", 0.0)
