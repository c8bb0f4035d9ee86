"""Simple meta-features: sizes, column kinds, missing values and outliers.

They are the ones every consumer relies on (a recommender's first distance, a budget heuristic), so
the group always runs, even past the deadline. Missing-value ratios scan the full data when it has
at most ``FULL_SCAN_CELLS`` cells (about a second on one core) and the sample otherwise; the
outlier ratio is estimated on the sample, where quartiles are already precise.
"""

from __future__ import annotations

import math

import numpy as np

from autolearn.meta.metafeatures._base import NAN, Deadline, Group
from autolearn.meta.metafeatures._data import Dataset, Table

FULL_SCAN_CELLS = 50_000_000

NAMES = (
    "n_instances",
    "n_features",
    "n_classes",
    "n_numeric",
    "n_categorical",
    "categorical_ratio",
    "missing_ratio",
    "rows_with_missing_ratio",
    "columns_with_missing_ratio",
    "dimensionality",
    "log_dimensionality",
    "outlier_ratio",
)


def compute(data: Dataset, table: Table, deadline: Deadline) -> dict[str, float]:
    n, d = data.n_instances, data.n_features
    out = {
        "n_instances": float(n),
        "n_features": float(d),
        "n_classes": float(data.n_classes) if data.is_classification else NAN,
        "n_numeric": float(len(data.numeric_positions)),
        "n_categorical": float(len(data.categorical_positions)),
        "categorical_ratio": len(data.categorical_positions) / d if d else NAN,
        "dimensionality": d / n,
        "log_dimensionality": math.log(d / n) if d else NAN,
        "outlier_ratio": outlier_ratio(table.numeric),
    }
    if n * d <= FULL_SCAN_CELLS:
        missing = data.frame.isna().to_numpy()
    else:
        missing = np.hstack([np.isnan(table.numeric), np.isnan(table.categorical)])
    out["missing_ratio"] = float(missing.mean()) if missing.size else 0.0
    out["rows_with_missing_ratio"] = float(missing.any(axis=1).mean()) if d else 0.0
    out["columns_with_missing_ratio"] = float(missing.any(axis=0).mean()) if d else NAN
    return out


def outlier_ratio(numeric: np.ndarray) -> float:
    """Per numeric column, the share of present values outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR]; averaged."""
    present = ~np.isnan(numeric)
    counts = present.sum(axis=0)
    cols = counts > 0
    if not cols.any():
        return NAN
    x = numeric[:, cols]
    q1, q3 = np.nanpercentile(x, [25, 75], axis=0)
    iqr = q3 - q1
    with np.errstate(invalid="ignore"):
        outside = (x < q1 - 1.5 * iqr) | (x > q3 + 1.5 * iqr)
    return float((outside.sum(axis=0) / counts[cols]).mean())


GROUP = Group("simple", NAMES, compute, sample_rows=10_000, always=True)
