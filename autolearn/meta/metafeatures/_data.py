"""Turn what the caller passes into the few arrays every meta-feature group reads.

The decisions live here once (which column is categorical, how missing values are treated, which
rows form the subsample) so no two groups ever describe different versions of the same data.

* Column kinds follow dtypes: numeric (not bool) columns are numeric; category, object, string and
  bool columns are categorical. Datetime or text columns should be converted beforehand.
* Rows without a target are dropped. Infinite numeric values count as missing in the sample.
* Wide data: the sample keeps at most ``MAX_COLUMNS`` features (a random subset), since per-column
  loops and model fits grow with columns; only the simple group's counts see every column.
* The sample is a *stratified order* of the rows: every prefix of it is itself a stratified
  sample that contains every class, so groups that need fewer rows (and the timing pilots) take a
  prefix and all groups describe nested subsets of the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from autolearn.data.validation import TASKS

MAX_COLUMNS = 1_000  # wider data: the sample keeps a random subset of the features
MAX_CATEGORIES = 20  # one-hot columns per categorical feature (most frequent categories)
MAX_ONE_HOT = 1_000  # one-hot columns in total, so many categoricals cannot explode the design


def infer_task(y: np.ndarray) -> str:
    """The documented rule: floats with a non-integer value are regression; otherwise two distinct
    labels are binary and anything else multiclass. Pass ``task`` for integer-valued regression."""
    arr = np.asarray(y)
    if arr.dtype.kind == "f":
        finite = arr[np.isfinite(arr)]
        if np.any(finite != np.round(finite)):
            return "regression"
    return "binary" if len(pd.unique(arr)) == 2 else "multiclass"


@dataclass(eq=False)
class Table:
    """Encoded rows of the sample: ``numeric`` floats and ``categorical`` codes (both NaN where
    missing), and ``y`` (class codes 0..K-1, or floats for regression)."""

    numeric: np.ndarray
    categorical: np.ndarray
    y: np.ndarray
    n_classes: int  # 0 for regression

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def n_features(self) -> int:
        return self.numeric.shape[1] + self.categorical.shape[1]

    def head(self, rows: int) -> Table:
        """The first ``rows`` rows: a smaller stratified sample (self when it is already small)."""
        if rows >= self.n_rows:
            return self
        return Table(self.numeric[:rows], self.categorical[:rows], self.y[:rows], self.n_classes)

    @cached_property
    def ordinal(self) -> np.ndarray:
        """All features as floats without missing values, for trees and per-feature statistics.

        Numeric gaps take the column median; a missing categorical gets a code of its own, since
        missingness in a categorical is often informative.
        """
        num = self.numeric.copy()
        if num.size:
            med = np.nan_to_num(np.nanmedian(num, axis=0)) if np.isnan(num).any() else 0.0
            num = np.where(np.isnan(num), med, num)
        cat = self.categorical.copy()
        if cat.size:
            top = np.nanmax(np.where(np.isnan(cat), -1.0, cat), axis=0) + 1.0
            cat = np.where(np.isnan(cat), top, cat)
        return np.hstack([num, cat])

    @cached_property
    def design(self) -> np.ndarray:
        """Standardized numerics plus one-hot categoricals, for 1-NN, linear models and naive Bayes,
        where ordinal codes would invent an order and a distance. Preprocessing is fitted on the
        whole sample rather than per fold: a negligible leak for a landmark, and no refits."""
        p = self.numeric.shape[1]
        ordinal = self.ordinal
        num = ordinal[:, :p]
        std = num.std(axis=0)
        num = (num - num.mean(axis=0)) / np.where(std > 0, std, 1.0)
        q = self.categorical.shape[1]
        per_column = int(np.clip(MAX_ONE_HOT // max(q, 1), 1, MAX_CATEGORIES))
        blocks = [num]
        for j in range(q):
            codes = ordinal[:, p + j].astype(np.int64)
            counts = np.bincount(codes)
            keep = np.argsort(-counts, kind="stable")[:per_column]
            keep = keep[counts[keep] > 0]
            blocks.append((codes[:, None] == keep[None, :]).astype(float))
        return np.hstack(blocks)


@dataclass(eq=False)
class Dataset:
    """The full input (kept by reference, for the few full-data scans) and its encoded sample.

    ``cache`` holds results of full-data work that groups compute once (see ``Group.warm_up``).
    """

    frame: pd.DataFrame
    y: np.ndarray
    task: str
    numeric_positions: list[int]
    categorical_positions: list[int]
    table: Table
    seed: int
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    @property
    def n_instances(self) -> int:
        return self.frame.shape[0]

    @property
    def n_features(self) -> int:
        return self.frame.shape[1]

    @cached_property
    def class_counts(self) -> np.ndarray:
        """Rows per class on the full data (empty for regression)."""
        if not self.is_classification:
            return np.zeros(0, dtype=np.int64)
        return np.bincount(self.y.astype(np.int64), minlength=self.table.n_classes)

    @property
    def n_classes(self) -> int:
        return self.table.n_classes


def prepare(X: Any, y: Any, task: str | None, seed: int, max_rows: int) -> Dataset:
    """Validate the input, drop rows without a target, settle the task, draw and encode the sample."""
    frame = _as_frame(X)
    target = _as_target(y)
    if len(frame) != len(target):
        raise ValueError(f"X has {len(frame)} rows but y has {len(target)}")
    missing = np.asarray(pd.isna(target), dtype=bool)
    if task is None:
        task = infer_task(target[~missing])
    elif task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    if task == "regression":
        values = target.astype(float)
        missing |= ~np.isfinite(values)
        n_classes = 0
    else:
        values, labels = _factorize(target[~missing])
        n_classes = len(labels)
        target = np.full(len(target), -1, dtype=np.int64)
        target[~missing] = values
        values = target
    if missing.any():
        keep = np.flatnonzero(~missing)
        frame, values = frame.iloc[keep], values[keep]
    if len(values) == 0:
        raise ValueError("no rows with a target value")

    kinds = np.array([_is_numeric(dtype) for dtype in frame.dtypes], dtype=bool)
    numeric_positions = np.flatnonzero(kinds).tolist()
    categorical_positions = np.flatnonzero(~kinds).tolist()
    n, d = frame.shape
    rng = np.random.default_rng(seed)
    columns = np.sort(rng.choice(d, MAX_COLUMNS, replace=False)) if d > MAX_COLUMNS else np.arange(d)
    rows = min(n, max_rows)
    order = _stratified_order(values, seed) if task != "regression" else rng.permutation(n)
    sample = frame.iloc[order[:rows], columns]
    numeric = sample.iloc[:, np.flatnonzero(kinds[columns])].to_numpy(dtype=float, na_value=np.nan)
    numeric = np.where(np.isfinite(numeric), numeric, np.nan)  # a fresh, writable array
    cat_columns = np.flatnonzero(~kinds[columns])
    categorical = np.empty((rows, len(cat_columns)))
    for i, j in enumerate(cat_columns):
        categorical[:, i] = _codes(sample.iloc[:, j])
    table = Table(numeric, categorical, values[order[:rows]], n_classes)
    return Dataset(frame, values, task, numeric_positions, categorical_positions, table, seed)


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got shape {arr.shape}")
    frame = pd.DataFrame(arr)
    return frame.infer_objects() if arr.dtype == object else frame


def _as_target(y: Any) -> np.ndarray:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError("y must be one column")
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        if _is_numeric(y.dtype):
            return y.to_numpy(dtype=float, na_value=np.nan)
        return y.to_numpy(dtype=object, na_value=None)
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"y must be 1-dimensional, got shape {arr.shape}")
    return arr


def _is_numeric(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes in sorted-label order (so they do not depend on row order); mixed types sort as text."""
    try:
        codes, labels = pd.factorize(values, sort=True)
    except TypeError:
        codes, labels = pd.factorize(np.asarray([str(v) for v in values], dtype=object), sort=True)
    return codes.astype(np.int64), np.asarray(labels)


def _codes(col: pd.Series) -> np.ndarray:
    """Ordinal codes of a categorical column as floats, NaN where missing."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
    else:
        try:
            codes, _ = pd.factorize(col, sort=True)
        except TypeError:
            codes, _ = pd.factorize(col.map(str, na_action="ignore"), sort=True)
    out = np.asarray(codes, dtype=float)
    out[out < 0] = np.nan
    return out


def _stratified_order(codes: np.ndarray, seed: int) -> np.ndarray:
    """A row order whose every prefix is a stratified sample holding one row of each class first.

    Each row gets the key (rank within its class + U(0, 1)) / class size, i.e. its evenly spaced
    position in its class; sorting by it interleaves classes in proportion. The first row of each
    class is moved to the front so rare classes are never lost by a small prefix.
    """
    rng = np.random.default_rng(seed)
    n = len(codes)
    perm = rng.permutation(n)
    c = codes[perm]
    counts = np.bincount(c)
    by_class = np.argsort(c, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n)
    rank[by_class] = np.arange(n) - np.repeat(starts, counts)
    u = rng.random(n)
    key = (rank + u) / counts[c]
    first = rank == 0
    key[first] = u[first] - 1.0
    return perm[np.argsort(key, kind="stable")]
