"""Synthetic HPO problems with a known optimum, so that regret is exact rather than relative.

Each problem is a :class:`Task`: a ConfigSpace space, ``objective(config) -> loss`` and the
optimum value. The classic test functions (Branin, Hartmann-3/6, Rosenbrock-4, Levy-10, Ackley-5)
cover smooth, multimodal, narrow-valley and high-dimensional landscapes; ``mixed`` adds what real
HPO spaces have and the classics lack: a categorical that selects one of two sub-problems with their
own conditional float and integer hyperparameters, a log-scale integer and an unordered categorical.

Optima are the minima of these exact formulas to 1e-8 (the literature rounds Hartmann-3's to
-3.86278, a hair below what its own constants reach), so regret never goes negative.

Ackley's and Levy's minimizers are shifted away from the centre of their boxes: the centre is the
default configuration, which autolearn's optimizers (and SMAC's, Optuna's and Hyperopt's do not)
evaluate first, so an unshifted Ackley gives them zero regret at once and an unshifted Levy (f = 1.44
at the centre, ~190 at a typical point) a head start no search can earn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, Integer


@dataclass(frozen=True)
class Task:
    """One tuning problem: minimize ``objective`` over ``space``.

    ``optimum`` is the known minimum (synthetic) or None (real tasks: regret is then measured
    against the best loss any optimizer found). ``minimizer`` is one configuration attaining it.
    """

    name: str
    space: ConfigurationSpace
    objective: Callable[[Mapping[str, Any]], float]
    optimum: float | None = None
    minimizer: dict[str, Any] | None = None
    kind: str = "synthetic"
    continuous: bool = True  # only floats and integers, no categoricals or conditions (CMA-ES applies)
    notes: str = field(default="", compare=False)


def _box(names: list[str], low: float | list[float], high: float | list[float], seed: int = 0) -> ConfigurationSpace:
    lows = [low] * len(names) if np.isscalar(low) else list(low)  # type: ignore[arg-type]
    highs = [high] * len(names) if np.isscalar(high) else list(high)  # type: ignore[arg-type]
    cs = ConfigurationSpace(seed=seed)
    cs.add([Float(n, (float(lo), float(hi))) for n, lo, hi in zip(names, lows, highs)])
    return cs


def _vector(config: Mapping[str, Any], names: list[str]) -> np.ndarray:
    return np.array([float(config[n]) for n in names])


# -- the classic functions (numpy vectors in, float out) -----------------------------------------
def branin(x: np.ndarray) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return float((x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10)


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
                  [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann(x: np.ndarray) -> float:
    A, P = (_H3_A, _H3_P) if len(x) == 3 else (_H6_A, _H6_P)
    return float(-_H_ALPHA @ np.exp(-(A * (x[None, :] - P) ** 2).sum(axis=1)))


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + mid + tail)


def ackley(x: np.ndarray) -> float:
    d = len(x)
    return float(-20 * math.exp(-0.2 * math.sqrt(np.sum(x**2) / d)) - math.exp(np.sum(np.cos(2 * math.pi * x)) / d)
                 + 20 + math.e)


ACKLEY_SHIFT = np.array([7.3, -12.1, 3.9, 21.4, -5.6])  # the minimizer, away from the box centre
LEVY_SHIFT = np.array([3.1, -4.7, 5.9, -2.3, 6.6, -5.2, 2.8, -6.1, 4.4, -3.6])  # minimizer at 1 + shift


def _numeric_task(name: str, fn: Callable[[np.ndarray], float], dim: int, low: Any, high: Any,
                  optimum: float, minimizer: list[float], notes: str = "") -> Task:
    names = [f"x{i}" for i in range(dim)]
    space = _box(names, low, high)
    return Task(name, space, lambda c: fn(_vector(c, names)), optimum, dict(zip(names, minimizer)), notes=notes)


# -- the mixed, conditional problem --------------------------------------------------------------
MIXED_ACTIVATION = {"relu": 0.25, "tanh": 0.0, "sigmoid": 0.5}


def mixed_space(seed: int = 0) -> ConfigurationSpace:
    """8 hyperparameters, 5 or 6 active: branch, log-int width, activation, then one branch's own."""
    cs = ConfigurationSpace(seed=seed)
    branch = Categorical("branch", ["smooth", "valley"])
    s_x, s_k = Float("s_x", (-5.0, 5.0)), Integer("s_k", (0, 20))
    v_x, v_y, v_depth = Float("v_x", (-2.0, 2.0)), Float("v_y", (-1.0, 3.0)), Integer("v_depth", (1, 8))
    cs.add([branch, Integer("n_units", (1, 1024), log=True), Categorical("activation", list(MIXED_ACTIVATION)),
            s_x, s_k, v_x, v_y, v_depth])
    cs.add([EqualsCondition(s_x, branch, "smooth"), EqualsCondition(s_k, branch, "smooth"),
            EqualsCondition(v_x, branch, "valley"), EqualsCondition(v_y, branch, "valley"),
            EqualsCondition(v_depth, branch, "valley")])
    return cs


def mixed(config: Mapping[str, Any]) -> float:
    """Why two branches: the "smooth" one is an easy decoy whose best is 0.5; the global optimum 0 is in
    the "valley" branch (a scaled Rosenbrock valley plus an integer depth), so an optimizer must keep
    exploring the branch that looks worse at first. Root terms: width 128 (log2 = 7) and tanh are best."""
    root = 0.1 * (math.log2(int(config["n_units"])) - 7) ** 2 + MIXED_ACTIVATION[str(config["activation"])]
    if config["branch"] == "smooth":
        return root + 0.5 + ((float(config["s_x"]) - 1.5) / 5) ** 2 + ((int(config["s_k"]) - 13) / 10) ** 2
    x, y = float(config["v_x"]), float(config["v_y"])
    return root + (100 * (y - x**2) ** 2 + (1 - x) ** 2) / 50 + 0.1 * abs(int(config["v_depth"]) - 6)


MIXED_MINIMIZER = {"branch": "valley", "n_units": 128, "activation": "tanh", "v_x": 1.0, "v_y": 1.0, "v_depth": 6}


def synthetic_tasks() -> dict[str, Task]:
    """Every synthetic problem by name (built fresh: spaces carry a random state)."""
    tasks = [
        _numeric_task("branin", branin, 2, [-5.0, 0.0], [10.0, 15.0], 0.39788736, [math.pi, 2.275]),
        _numeric_task("hartmann3", hartmann, 3, 0.0, 1.0, -3.86277979, [0.114614, 0.555649, 0.852547]),
        _numeric_task("hartmann6", hartmann, 6, 0.0, 1.0, -3.32236801,
                      [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]),
        _numeric_task("rosenbrock4", rosenbrock, 4, -5.0, 10.0, 0.0, [1.0] * 4),
        _numeric_task("levy10", lambda x: levy(x - LEVY_SHIFT), 10, -10.0, 10.0, 0.0, list(LEVY_SHIFT + 1.0),
                      notes="minimizer shifted to 1 + LEVY_SHIFT"),
        _numeric_task("ackley5", lambda x: ackley(x - ACKLEY_SHIFT), 5, -32.768, 32.768, 0.0, list(ACKLEY_SHIFT),
                      notes="minimizer shifted to ACKLEY_SHIFT"),
        Task("mixed", mixed_space(), mixed, 0.0, dict(MIXED_MINIMIZER), continuous=False,
             notes="categorical branch with conditional float/int children, log-int, categorical"),
    ]
    return {t.name: t for t in tasks}
