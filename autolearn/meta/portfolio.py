"""A data-independent portfolio: configurations that, taken together, do well on as many datasets as
possible (the greedy construction of auto-sklearn 2.0, Feurer et al. 2022).

A search that evaluates the portfolio first is only as good as the best member on the dataset at
hand, so the portfolio minimizes the mean over datasets of the *minimum* normalized loss among its
members, not the members' mean loss: a second gradient-boosting variant that wins where the first
already did adds nothing, a kNN that wins on the few datasets where trees fail adds a lot. The greedy
choice is within a factor (1 - 1/e) of the optimum because this objective is submodular.

Given each evaluation's *cost* (time relative to the dataset's median), the greedy step instead takes
the largest gain per unit of cost (Streeter & Golovin 2008: the greedy schedule for a submodular
objective with costs, within a constant factor of the best *anytime* schedule). A search with a
budget gets cheap, broadly good configurations first and reaches a good loss sooner (measured on the
shipped database, leave-one-dataset-out: ``benchmarks/RESULTS.md``, "Meta-learning").
"""

from __future__ import annotations

import numpy as np


def greedy_portfolio(performance: np.ndarray, n: int, cost: np.ndarray | None = None) -> list[int]:
    """Column indices of a greedy portfolio of size ``min(n, configurations)``.

    ``performance``: datasets x configurations, normalized losses (lower is better); NaN ("not
    evaluated") counts as the worst, 1. Each step adds the configuration that most lowers
    ``mean_d min_{c in portfolio} performance[d, c]``; ties (for instance once every dataset already
    has a 0) go to the lowest mean loss, then to the lowest index, so the order stays meaningful.

    ``cost``: the same shape, each evaluation's relative cost (NaN: unknown, counted as the most
    expensive known). Each step then adds the configuration with the largest lowering per unit of
    mean cost, the first one measured from 1 (before any model, the loss of a constant); once
    nothing lowers the loss any more, the order falls back to the rule above.
    """
    perf = np.nan_to_num(np.asarray(performance, dtype=float), nan=1.0)
    if perf.ndim != 2:
        raise ValueError(f"performance must be 2-d (datasets x configurations), got shape {perf.shape}")
    n_datasets, n_configs = perf.shape
    if n_configs == 0:
        return []
    if n_datasets == 0:
        return list(range(min(n, n_configs)))
    per_unit = None if cost is None else _mean_cost(cost, perf.shape)
    mean_loss = perf.mean(axis=0)
    current = np.full(n_datasets, np.inf if per_unit is None else 1.0)
    chosen: list[int] = []
    available = np.ones(n_configs, dtype=bool)
    for _ in range(min(n, n_configs)):
        score = np.minimum(current[:, None], perf).mean(axis=0)  # portfolio loss if each were added
        gain = current.mean() - score
        if per_unit is not None and gain[available].max() > 1e-12:
            score = -gain / per_unit  # the largest gain per unit of cost has the lowest score
        score = np.where(available, score, np.inf)
        best = np.flatnonzero(np.isclose(score, score.min(), rtol=0.0, atol=1e-12))
        pick = int(best[np.argmin(mean_loss[best])])  # argmin returns the first, i.e. the lowest index
        chosen.append(pick)
        available[pick] = False
        current = np.minimum(current, perf[:, pick])
    return chosen


def _mean_cost(cost: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    cost = np.asarray(cost, dtype=float)
    if cost.shape != shape:
        raise ValueError(f"cost has shape {cost.shape}, performance {shape}")
    known = cost[np.isfinite(cost)]
    if known.size == 0 or known.min() <= 0:
        raise ValueError("cost must be positive where known, and known somewhere")
    return np.where(np.isfinite(cost), cost, known.max()).mean(axis=0)


def portfolio_loss(performance: np.ndarray, members: list[int]) -> float:
    """Mean over datasets of the best normalized loss among ``members`` (NaN counts as 1)."""
    if not members:
        return 1.0
    perf = np.nan_to_num(np.asarray(performance, dtype=float), nan=1.0)
    return float(perf[:, members].min(axis=1).mean()) if len(perf) else 0.0
