"""Recommend configurations for a new dataset from the meta-database (zero-shot warm starting).

Three methods, from most to least data-dependent:

* ``"knn"``: the best configurations of the nearest datasets, round-robin (nearest dataset's best,
  second nearest's best, ..., then everyone's second best), as auto-sklearn 1.0 seeds its search.
  Taking one configuration per neighbour first hedges against a misleading nearest neighbour.
* ``"rank"``: ranks of every configuration on the ``k`` nearest datasets, averaged with weights
  ``exp(-(d / h)^2)`` (``h``: the median neighbour distance, so the weighting is scale-free). It
  rewards configurations that are good on *several* similar datasets rather than best on one.
* ``"portfolio"``: a greedy portfolio over all datasets (:mod:`autolearn.meta.portfolio`), which
  ignores the data except for its task: nothing to compute, robust when meta-features mislead.

When a method runs out (few neighbours, failed configurations), the list is filled from the portfolio
so callers always get ``n`` configurations when the database has them.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace
from scipy.stats import rankdata

from autolearn.meta._configs import key, project
from autolearn.meta.database import MetaDatabase, TaskTable, load_metadb
from autolearn.meta.portfolio import greedy_portfolio
from autolearn.meta.similarity import nearest

METHODS = ("knn", "rank", "portfolio")
RANK_NEIGHBOURS = 10
_OVERRIDE: list[MetaDatabase] = []
_PORTFOLIOS: dict[tuple[int, ...], tuple[tuple[np.ndarray | None, ...], list[int]]] = {}


@contextlib.contextmanager
def using_database(database: MetaDatabase | str | os.PathLike) -> Iterator[MetaDatabase]:
    """Make ``database`` the default of :func:`recommend` and :func:`warm_start_configs` in this block.

    For leave-one-dataset-out benchmarks of code that calls them without a ``database`` argument
    (the estimators' ``warm_start=True``): ``with using_database(load_metadb().without(name)): ...``.
    """
    db = _resolve(database)
    _OVERRIDE.append(db)
    try:
        yield db
    finally:
        _OVERRIDE.pop()


def recommend(
    X: Any = None,
    y: Any = None,
    n: int = 8,
    method: str = "knn",
    task: str | None = None,
    database: MetaDatabase | str | os.PathLike | None = None,
    exclude_dataset: str | None = None,
    *,
    k: int | None = None,
    distance: str = "euclidean",
    weights: Mapping[str, float] | str | None = None,
    meta_features: pd.Series | None = None,
    time_limit: float | None = 10.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Up to ``n`` configurations of ``build_space(task)`` (all choices present), best first.

    Parameters
    ----------
    X, y : the training data; only ``task`` (or ``y``) is needed for ``method="portfolio"``.
    n : how many configurations.
    method : ``"knn"``, ``"rank"`` or ``"portfolio"`` (see the module docstring).
    task : "binary", "multiclass" or "regression"; inferred from ``y`` when None.
    database : a :class:`MetaDatabase` or a path; default the shipped one (or :func:`using_database`'s).
    exclude_dataset : a database dataset never to use (leave-one-dataset-out evaluation).
    k : neighbours (default: ``n`` for knn, 10 for rank).
    distance, weights : see :func:`autolearn.meta.similarity.nearest` (``weights="learned"``).
    meta_features : precomputed ``metafeatures(X, y)``, to skip computing them.
    time_limit : seconds for computing the meta-features.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> configs = recommend(X, y, n=3)  # doctest: +SKIP
    >>> [c["model"] for c in configs]  # doctest: +SKIP
    ['lightgbm', 'random_forest', 'lightgbm']
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if method != "portfolio" and meta_features is None:
        if X is None or y is None:
            raise ValueError(f"method {method!r} needs X and y (or meta_features)")
        from autolearn.meta.metafeatures import metafeatures

        meta_features = metafeatures(X, y, task=task, time_limit=time_limit, seed=seed)
    task = task or _infer_task(y, meta_features)
    table = _resolve(database)[task].without(exclude_dataset)
    if method == "portfolio":
        order = portfolio_order(table)[:n]
    else:
        assert meta_features is not None
        k = k or (n if method == "knn" else RANK_NEIGHBOURS)
        neighbours = nearest(meta_features, table, k, distance=distance, weights=weights)
        order = _knn(table, neighbours, n) if method == "knn" else _rank(table, neighbours, n)
    order = _fill(table, order, n)
    return [dict(table.configs[i]) for i in order]


def warm_start_configs(
    X: Any,
    y: Any,
    task: str,
    space: ConfigurationSpace,
    n: int = 8,
    *,
    method: str = "portfolio",
    database: MetaDatabase | str | os.PathLike | None = None,
    exclude_dataset: str | None = None,
    time_limit: float | None = 5.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Up to ``n`` recommended configurations, each valid in ``space``, for ``Optimizer.enqueue``.

    ``space`` is the search's own space: when include/exclude or the data (no categorical columns,
    sparse input) shrink it, recommendations whose model is unavailable are skipped and preprocessing
    choices it lacks fall back to its defaults; duplicates after that are dropped. Never raises:
    warm starting is an optimization, so any failure (no database, no table for ``task``, meta-features
    that cannot be computed) warns and degrades — to the portfolio, then to ``[]``.

    The default method is the portfolio, ordered by gain per unit of evaluation time: in
    leave-one-dataset-out simulations over the shipped database (``python -m benchmarks.metalearning
    --offline``, 150 datasets) it reaches a lower loss than knn, rank or the loss-only portfolio within
    every time budget from 2 to 40 median evaluation times (``benchmarks/RESULTS.md``), and it costs no
    meta-feature time out of the user's budget (auto-sklearn 2.0 made the same choice).
    ``method="knn"``/``"rank"`` spend up to ``time_limit`` s on meta-features.
    """
    try:
        db = _resolve(database)
        n_configs = len(db[task].configs)
    except Exception as exc:  # no database, or none for this task: nothing to warm-start from
        warnings.warn(f"meta-learning warm start skipped: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=2)
        return []
    ranked: list[dict[str, Any]] = []
    for attempt in dict.fromkeys((method, "portfolio")):
        try:
            ranked = recommend(X, y, n=n_configs, method=attempt, task=task, database=db,
                               exclude_dataset=exclude_dataset, time_limit=time_limit, seed=seed)
            break
        except Exception as exc:  # meta-features that cannot be computed: fall back to the portfolio
            warnings.warn(f"meta-learning warm start: {attempt!r} failed ({type(exc).__name__}: {exc})",
                          RuntimeWarning, stacklevel=2)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for config in ranked:
        moved = project(space, config)
        if moved is not None and key(moved) not in seen:
            seen.add(key(moved))
            out.append(moved)
            if len(out) == n:
                break
    return out


# -- the methods ----------------------------------------------------------------------------------
def _knn(table: TaskTable, neighbours: list[tuple[str, float]], n: int) -> list[int]:
    """Round-robin over neighbours' rankings; configurations no better than a constant are skipped."""
    rankings = []
    for name, _ in neighbours:
        row = table.performance[table.index(name)]
        rankings.append([i for i in table.best_configs(name) if row[i] < 1.0])
    out: list[int] = []
    for depth in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if depth < len(ranking) and ranking[depth] not in out:
                out.append(ranking[depth])
                if len(out) == n:
                    return out
    return out


def _rank(table: TaskTable, neighbours: list[tuple[str, float]], n: int) -> list[int]:
    if not neighbours:
        return []
    rows = table.performance[[table.index(name) for name, _ in neighbours]]
    ranks = np.vstack([rankdata(np.nan_to_num(row, nan=np.inf)) for row in rows])  # NaN: ranked last
    d = np.array([dist for _, dist in neighbours])
    h = float(np.median(d)) or 1.0
    w = np.exp(-((d / h) ** 2))
    score = (w[:, None] * ranks).sum(axis=0) / w.sum()
    evaluated = ~np.isnan(rows).all(axis=0)
    return [int(i) for i in np.argsort(score, kind="stable") if evaluated[i]][:n]


def _fill(table: TaskTable, order: list[int], n: int) -> list[int]:
    """``order`` topped up from the greedy portfolio, without duplicates."""
    if len(order) >= n:
        return order[:n]
    out = list(order)
    for i in portfolio_order(table):
        if i not in out:
            out.append(i)
            if len(out) == n:
                break
    return out


def portfolio_order(table: TaskTable) -> list[int]:
    """The greedy portfolio of all of ``table``'s configurations (greedy: every prefix is the portfolio
    of that size), by gain per unit of cost where the table has costs; cached per table because
    leave-one-out loops ask for it thousands of times."""
    arrays = (table.performance, table.cost)
    cache_key = tuple(id(a) for a in arrays)
    hit = _PORTFOLIOS.get(cache_key)
    if hit is not None and all(a is b for a, b in zip(hit[0], arrays)):  # the cache keeps the arrays alive,
        return hit[1]                                                       # so their ids are not reused
    order = greedy_portfolio(table.performance, table.performance.shape[1], cost=table.cost)
    if len(_PORTFOLIOS) >= 16:
        _PORTFOLIOS.pop(next(iter(_PORTFOLIOS)))
    _PORTFOLIOS[cache_key] = (arrays, order)
    return order


def _resolve(database: MetaDatabase | str | os.PathLike | None) -> MetaDatabase:
    if isinstance(database, MetaDatabase):
        return database
    if database is None and _OVERRIDE:
        return _OVERRIDE[-1]
    return load_metadb(database)


def _infer_task(y: Any, meta_features: pd.Series | None) -> str:
    if meta_features is not None and meta_features.attrs.get("task"):
        return str(meta_features.attrs["task"])
    if y is None:
        raise ValueError("give task= (or y to infer it from)")
    from autolearn.data.validation import check_y

    return check_y(y)[1]
