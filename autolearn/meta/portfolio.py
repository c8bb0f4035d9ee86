"""A data-independent portfolio: configurations that, taken together, do well on as many datasets as
possible (the greedy construction of auto-sklearn 2.0, Feurer et al. 2022).

A search that evaluates the portfolio first is only as good as the best member on the dataset at
hand, so the portfolio minimizes the mean over datasets of the *minimum* normalized loss among its
members, not the members' mean loss: a second gradient-boosting variant that wins where the first
already did adds nothing, a kNN that wins on the few datasets where trees fail adds a lot. The greedy
choice is within a factor (1 - 1/e) of the optimum because this objective is submodular.
"""

from __future__ import annotations

import numpy as np


def greedy_portfolio(performance: np.ndarray, n: int) -> list[int]:
    """Column indices of a greedy portfolio of size ``min(n, configurations)``.

    ``performance``: datasets x configurations, normalized losses (lower is better); NaN ("not
    evaluated") counts as the worst, 1. Each step adds the configuration that most lowers
    ``mean_d min_{c in portfolio} performance[d, c]``; ties (for instance once every dataset already
    has a 0) go to the lowest mean loss, then to the lowest index, so the order stays meaningful.
    """
    perf = np.nan_to_num(np.asarray(performance, dtype=float), nan=1.0)
    if perf.ndim != 2:
        raise ValueError(f"performance must be 2-d (datasets x configurations), got shape {perf.shape}")
    n_datasets, n_configs = perf.shape
    if n_configs == 0:
        return []
    if n_datasets == 0:
        return list(range(min(n, n_configs)))
    mean_loss = perf.mean(axis=0)
    current = np.full(n_datasets, np.inf)
    chosen: list[int] = []
    available = np.ones(n_configs, dtype=bool)
    for _ in range(min(n, n_configs)):
        score = np.minimum(current[:, None], perf).mean(axis=0)  # portfolio loss if each were added
        score = np.where(available, score, np.inf)
        best = np.flatnonzero(np.isclose(score, score.min(), rtol=0.0, atol=1e-12))
        pick = int(best[np.argmin(mean_loss[best])])  # argmin returns the first, i.e. the lowest index
        chosen.append(pick)
        available[pick] = False
        current = np.minimum(current, perf[:, pick])
    return chosen


def portfolio_loss(performance: np.ndarray, members: list[int]) -> float:
    """Mean over datasets of the best normalized loss among ``members`` (NaN counts as 1)."""
    if not members:
        return 1.0
    perf = np.nan_to_num(np.asarray(performance, dtype=float), nan=1.0)
    return float(perf[:, members].min(axis=1).mean()) if len(perf) else 0.0
