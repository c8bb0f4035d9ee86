"""The one entry point: prepare the data once, then run each group within the time limit.

Time control, in order: the ``simple`` group always runs (it is cheap and everyone needs it); any
other group is skipped once the deadline has passed; a group whose sample is larger than twice
``PILOT_ROWS`` first runs on a ``PILOT_ROWS`` prefix, and the pilot's time, scaled by
``(rows / PILOT_ROWS) ** cost_exponent``, must fit in the time left or the group is skipped.
Small pilots overestimate (fixed overheads get scaled too), which errs on the side of the cap.
Landmarkers also check the clock between models. Python cannot interrupt a running model, so the
cap holds by forecasting, not by interruption: expect overruns of a fraction of a second.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from autolearn.meta.metafeatures import (
    _complexity,
    _information,
    _landmarkers,
    _model_based,
    _simple,
    _statistical,
)
from autolearn.meta.metafeatures._base import NAN, Deadline, Group
from autolearn.meta.metafeatures._data import Dataset, prepare

PILOT_ROWS = 500

# cheap groups first, so a tight budget loses the expensive ones
GROUPS: dict[str, Group] = {
    g.name: g
    for g in (
        _simple.GROUP,
        _statistical.GROUP,
        _information.GROUP,
        _model_based.GROUP,
        _complexity.GROUP,
        _landmarkers.GROUP,
    )
}


def feature_names(groups: Iterable[str] | None = None) -> list[str]:
    """The names :func:`metafeatures` returns for these groups, in order (all groups by default)."""
    return [name for g in _select(groups) for name in g.names]


def metafeatures(
    X: Any,
    y: Any,
    task: str | None = None,
    time_limit: float | None = 30.0,
    groups: Iterable[str] | None = None,
    seed: int = 0,
) -> pd.Series:
    """Describe a dataset by meta-features, within a time limit.

    Parameters
    ----------
    X : DataFrame or array of shape (n_samples, n_features)
        Numeric and categorical (category, object, string, bool) columns; missing values allowed.
    y : array-like of shape (n_samples,)
        Class labels or floats. Rows with a missing target are ignored.
    task : {"binary", "multiclass", "regression"}, optional
        Inferred when None: floats with a non-integer value are regression, otherwise two labels
        are binary and more are multiclass.
    time_limit : float or None, default=30.0
        Seconds for the whole call; groups forecast to overrun are skipped. None: no limit.
    groups : iterable of str, optional
        Subset of ``GROUPS`` (``"simple"``, ``"statistical"``, ``"information_theoretic"``,
        ``"model_based"``, ``"complexity"``, ``"landmarkers"``); all by default.
    seed : int, default=0
        Seeds the subsample, the folds and the random trees: same seed, same values.

    Returns
    -------
    pandas.Series
        Float per name of the selected groups, always in the order of :func:`feature_names`;
        NaN where not applicable to the task or skipped. ``attrs`` holds ``task``, ``skipped``
        (names skipped for lack of time), ``seconds`` (per group) and ``errors`` (group -> message
        for a group that raised; its features are NaN).

    Examples
    --------
    >>> import numpy as np
    >>> mf = metafeatures(np.eye(4), [0, 0, 1, 1], groups=["simple"])
    >>> mf["n_instances"], mf["n_classes"]
    (np.float64(4.0), np.float64(2.0))
    """
    deadline = Deadline(time_limit)
    selected = _select(groups)
    data = prepare(X, y, task=task, seed=seed, max_rows=max(g.sample_rows for g in selected))
    values: dict[str, float] = {}
    skipped: list[str] = []
    seconds: dict[str, float] = {}
    errors: dict[str, str] = {}
    for group in selected:
        started = time.perf_counter()
        try:
            # One thread: the matrices are small, and threaded BLAS/OpenMP spin-waiting on a busy
            # machine made runs 10-50x slower and the pilot forecasts erratic.
            with warnings.catch_warnings(), threadpool_limits(limits=1):
                warnings.simplefilter("ignore")  # degenerate folds, constant columns: NaN says it
                result = _run(group, data, deadline)
        except Exception as exc:  # one broken group must not cost the caller the others
            errors[group.name] = f"{type(exc).__name__}: {exc}"
            result = dict.fromkeys(group.names, NAN)
        seconds[group.name] = time.perf_counter() - started
        for name in group.names:
            if name in result:
                values[name] = float(result[name])
            else:
                skipped.append(name)
    names = [name for g in selected for name in g.names]
    series = pd.Series([values.get(n, NAN) for n in names], index=names, dtype=float, name="metafeatures")
    series.attrs.update(task=data.task, skipped=skipped, seconds=seconds, errors=errors)
    return series


def _run(group: Group, data: Dataset, deadline: Deadline) -> dict[str, float]:
    """Run one group on its sample, or return {} (all skipped) when it is forecast to overrun."""
    table = data.table.head(group.sample_rows)
    if group.always:
        return group.compute(data, table, deadline)
    if deadline.left() <= 0:
        return {}
    if group.warm_up is not None:
        group.warm_up(data)
        if deadline.left() <= 0:
            return {}
    if table.n_rows > 2 * PILOT_ROWS:
        started = time.perf_counter()
        pilot = group.compute(data, table.head(PILOT_ROWS), deadline)
        forecast = (time.perf_counter() - started) * (table.n_rows / PILOT_ROWS) ** group.cost_exponent
        if len(pilot) < len(group.names) or forecast > deadline.left():  # the pilot itself ran out, or will
            return {}
    return group.compute(data, table, deadline)


def _select(groups: Iterable[str] | None) -> list[Group]:
    if groups is None:
        return list(GROUPS.values())
    if isinstance(groups, str):
        groups = [groups]
    wanted = set(groups)
    unknown = wanted - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown meta-feature groups {sorted(unknown)}; expected some of {list(GROUPS)}")
    if not wanted:
        raise ValueError("groups is empty")
    return [g for g in GROUPS.values() if g.name in wanted]
