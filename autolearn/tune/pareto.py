"""Pareto dominance for multi-objective studies (all objectives are losses, minimized).

Used by :class:`autolearn.tune.optimizers.nsga2.NSGA2` for selection and by ``Study.pareto_front``;
``hypervolume_2d`` measures a front in tests and benchmarks. Plain numpy: fronts in HPO hold
hundreds of points, so the O(n^2 m) dominance matrix is both simple and fast enough.
"""

from __future__ import annotations

import numpy as np


def _as_losses(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2:
        raise ValueError(f"values must have shape (n_points, n_objectives), got {v.shape}")
    return np.where(np.isnan(v), np.inf, v)  # a missing value never dominates


def dominance(values: np.ndarray) -> np.ndarray:
    """``d[i, j]`` is True where point i dominates point j: no worse everywhere, better somewhere."""
    v = _as_losses(values)
    le = (v[:, None, :] <= v[None, :, :]).all(axis=2)
    lt = (v[:, None, :] < v[None, :, :]).any(axis=2)
    return le & lt


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n_points, n_objectives).

    Equal points do not dominate each other, so duplicates on the front are all kept.
    """
    v = _as_losses(values)
    if len(v) == 0:
        return np.zeros(0, dtype=bool)
    return ~dominance(v).any(axis=0)


def non_dominated_sort(values: np.ndarray) -> np.ndarray:
    """Front index of each point (0 = Pareto front, 1 = front once 0 is removed, ...)."""
    v = _as_losses(values)
    dom = dominance(v)
    n_dominating = dom.sum(axis=0)
    ranks = np.full(len(v), -1, dtype=int)
    rank = 0
    current = np.flatnonzero(n_dominating == 0)
    while current.size:
        ranks[current] = rank
        n_dominating = n_dominating - dom[current].sum(axis=0)
        n_dominating[ranks >= 0] = -1  # placed points never re-enter
        current = np.flatnonzero(n_dominating == 0)
        rank += 1
    return ranks


def crowding_distance(values: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of points on one front: the boundary points get infinity, inner
    points the normalized side lengths of the box spanned by their neighbours. Large = isolated."""
    v = _as_losses(values)
    n, m = v.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(v[:, j], kind="stable")
        col = v[order, j]
        dist[order[0]] = dist[order[-1]] = np.inf
        span = col[-1] - col[0]
        if not np.isfinite(span) or span <= 0:
            continue
        dist[order[1:-1]] += (col[2:] - col[:-2]) / span
    return dist


def hypervolume_2d(values: np.ndarray, reference: tuple[float, float] | np.ndarray) -> float:
    """Area dominated by the points of a 2-objective problem and bounded by ``reference``.

    Points not strictly better than the reference on both objectives contribute nothing.
    """
    v = _as_losses(values)
    if v.shape[1] != 2:
        raise ValueError(f"hypervolume_2d needs 2 objectives, got {v.shape[1]}")
    ref = np.asarray(reference, dtype=float)
    v = v[(v < ref).all(axis=1)]
    if len(v) == 0:
        return 0.0
    v = v[pareto_front(v)]
    v = v[np.lexsort((v[:, 1], v[:, 0]))]  # by f1, f2 then decreasing along the front
    area, top = 0.0, ref[1]
    for f1, f2 in v:
        if f2 < top:
            area += (ref[0] - f1) * (top - f2)
            top = f2
    return float(area)


__all__ = ["crowding_distance", "dominance", "hypervolume_2d", "non_dominated_sort", "pareto_front"]
