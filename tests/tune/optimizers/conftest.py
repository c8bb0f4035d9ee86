"""Shared test problems and a statistical "beats random search" check for the model-based optimizers.

A conftest rather than a helper module because the suite runs with ``--import-mode=importlib``,
under which test files cannot import their neighbours; tests get these through fixtures.

One lucky seed proves nothing, so every claim is over several seeds: each optimizer's best loss
after ``n_trials`` evaluations is compared with random search's by a one-sided Mann-Whitney U test
(seeds are independent and not paired: the two optimizers see different random streams).
Random search's results are cached, so several test files share one baseline per problem.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace
from scipy.stats import mannwhitneyu

from autolearn.testing.optimizers import conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers import get_optimizer_class

_CENTRE = np.array([1.3, -2.1, 0.7, 2.9])


def quadratic_space() -> ConfigurationSpace:
    return spaces.as_configspace({f"x{i}": ("float", -5.0, 5.0) for i in range(4)})


def quadratic(config: dict[str, Any]) -> float:
    """A 4-d bowl away from the default (the centre), so the default-first trial is not a free win."""
    return float(sum((config[f"x{i}"] - _CENTRE[i]) ** 2 for i in range(4)))


def mixed_space() -> ConfigurationSpace:
    return spaces.as_configspace({
        "x": ("float", -5.0, 5.0), "lr": ("float", 1e-4, 1.0, "log"), "n": ("int", 1, 100),
        "kind": ["a", "b", "c", "d"], "flag": [True, False],
    })


def mixed(config: dict[str, Any]) -> float:
    """Float, log-float, integer and categorical effects of comparable size."""
    kind = {"a": 1.0, "b": 0.0, "c": 0.5, "d": 2.0}[config["kind"]]
    return float((config["x"] - 1) ** 2 + (np.log10(config["lr"]) + 2) ** 2 + ((config["n"] - 37) / 20) ** 2
                 + kind + 0.3 * config["flag"])


PROBLEMS: dict[str, tuple[Callable[[], ConfigurationSpace], Callable[[dict[str, Any]], float]]] = {
    "quadratic": (quadratic_space, quadratic),
    "mixed": (mixed_space, mixed),
    "conditional": (conditional_space, conditional_objective),
}


@cache
def final_bests(name: str, problem: str, n_trials: int, n_seeds: int, options: tuple = ()) -> tuple[float, ...]:
    """Best loss of ``n_trials`` sequential trials for seeds 0..n_seeds-1 (cached per argument set)."""
    make_space, objective = PROBLEMS[problem]
    out = []
    for seed in range(n_seeds):
        optimizer = get_optimizer_class(name)(make_space(), seed=seed, **dict(options))
        history = run(optimizer, objective, n_trials)
        out.append(min(result.loss for _, result in history))
    return tuple(out)


def assert_beats_random(name: str, problem: str, n_trials: int = 50, n_seeds: int = 8, alpha: float = 0.05,
                        **options: Any) -> float:
    """Fail unless ``name`` finds lower final losses than random search at significance ``alpha``."""
    ours = np.asarray(final_bests(name, problem, n_trials, n_seeds, tuple(sorted(options.items()))))
    baseline = np.asarray(final_bests("random", problem, n_trials, n_seeds))
    p = float(mannwhitneyu(ours, baseline, alternative="less").pvalue)
    assert p < alpha, (
        f"{name} does not beat random search on {problem!r} (one-sided Mann-Whitney p={p:.3f}); "
        f"{name} bests {np.round(ours, 3)}, random {np.round(baseline, 3)}"
    )
    return p


@pytest.fixture
def beats_random() -> Callable[..., float]:
    """``beats_random(name, problem, n_trials=50, n_seeds=8, alpha=0.05, **options)``; see :func:`assert_beats_random`."""
    return assert_beats_random


@pytest.fixture
def problems() -> dict[str, tuple[Callable[[], ConfigurationSpace], Callable[[dict[str, Any]], float]]]:
    """Name -> (space factory, objective) for "quadratic", "mixed" and "conditional"."""
    return PROBLEMS
