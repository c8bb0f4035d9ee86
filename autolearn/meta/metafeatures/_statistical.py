"""Statistical meta-features: shape of the numeric distributions, redundancy, sparsity, and the
class or target distribution.

Moments and correlations use the sample and ignore missing values (pairwise-complete correlations,
so imputation does not shrink them). Class and target distributions use the full target: it is one
column and cheap, and class imbalance is exactly what subsampling would blur.
"""

from __future__ import annotations

import numpy as np

from autolearn.meta.metafeatures._base import NAN, Deadline, Group, describe, entropy_bits
from autolearn.meta.metafeatures._data import Dataset, Table

MAX_CORRELATION_COLUMNS = 200  # pairwise correlations cost O(rows * columns^2): a random subset beyond this

NAMES = (
    "skewness_min",
    "skewness_mean",
    "skewness_max",
    "skewness_std",
    "kurtosis_min",
    "kurtosis_mean",
    "kurtosis_max",
    "kurtosis_std",
    "feature_correlation_mean",
    "sparsity",
    "class_ratio_min_max",
    "class_balance_entropy",
    "class_prob_min",
    "class_prob_max",
    "class_prob_mean",
    "class_prob_std",
    "target_skewness",
    "target_kurtosis",
    "target_correlation_mean",
    "target_correlation_max",
)


def compute(data: Dataset, table: Table, deadline: Deadline) -> dict[str, float]:
    x = table.numeric
    skew, kurt = moments(x)
    out = {**describe("skewness", skew), **describe("kurtosis", kurt)}
    cols = np.arange(x.shape[1])
    if len(cols) > MAX_CORRELATION_COLUMNS:
        rng = np.random.default_rng(data.seed)
        cols = np.sort(rng.choice(cols, MAX_CORRELATION_COLUMNS, replace=False))
    out["feature_correlation_mean"] = _mean_abs(_upper(pairwise_correlation(x[:, cols])))
    present = ~np.isnan(x)
    out["sparsity"] = float((x == 0).sum() / present.sum()) if present.any() else NAN
    out.update(_class_distribution(data.class_counts) if data.is_classification else dict.fromkeys(_CLASS, NAN))
    if data.is_classification:
        out.update(dict.fromkeys(_TARGET, NAN))
    else:
        t_skew, t_kurt = moments(data.y[:, None])
        r = np.abs(target_correlation(x, table.y))
        r = r[np.isfinite(r)]
        out.update(
            target_skewness=float(t_skew[0]),
            target_kurtosis=float(t_kurt[0]),
            target_correlation_mean=float(r.mean()) if r.size else NAN,
            target_correlation_max=float(r.max()) if r.size else NAN,
        )
    return out


_CLASS = [n for n in NAMES if n.startswith("class_")]
_TARGET = [n for n in NAMES if n.startswith("target_")]


def moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column skewness and excess kurtosis of the present values (biased estimators, as
    ``scipy.stats.skew``/``kurtosis`` by default); NaN for constant or empty columns."""
    if x.shape[1] == 0:
        return np.zeros(0), np.zeros(0)
    present = ~np.isnan(x)
    count = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # masked sums instead of np.nanmean (which copies per call) and products instead of
        # ** 3 / ** 4 (numpy's general pow): together ~10x faster on wide samples
        mean = np.where(present, x, 0.0).sum(axis=0) / count
        dev = np.where(present, x - mean, 0.0)
        sq = dev * dev
        m2 = sq.sum(axis=0) / count
        m3 = (sq * dev).sum(axis=0) / count
        m4 = (sq * sq).sum(axis=0) / count
        flat = ~(m2 > (10 * np.finfo(float).resolution * mean) ** 2)  # also NaN m2
        skew = np.where(flat, NAN, m3 / m2**1.5)
        kurt = np.where(flat, NAN, m4 / m2**2 - 3.0)
    return skew, kurt


def pairwise_correlation(x: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix over pairwise-complete rows, by five matrix products.

    Columns are centred first to avoid cancellation; near-constant pairs get NaN.
    """
    x = x - np.nanmean(x, axis=0)  # all-NaN columns stay NaN (the runner silences the warning)
    present = ~np.isnan(x)
    m = present.astype(float)
    x0 = np.where(present, x, 0.0)
    n = m.T @ m
    sx = x0.T @ m  # [i, j]: sum of x_i over rows where both i and j are present
    sxx = (x0**2).T @ m
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        vx = sxx - sx**2 / n
        vy = vx.T
        tiny = 1e-12 * np.maximum(sxx, sxx.T)
        r = np.where((vx > tiny) & (vy > tiny) & (n >= 2), cov / np.sqrt(vx * vy), NAN)
    return np.clip(r, -1.0, 1.0)


def target_correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column with ``y`` over the rows where the column is present."""
    return pairwise_correlation(np.column_stack([x, y]))[:-1, -1]


def _class_distribution(counts: np.ndarray) -> dict[str, float]:
    p = counts / counts.sum()
    k = len(counts)
    return {
        "class_ratio_min_max": float(counts.min() / counts.max()),
        "class_balance_entropy": entropy_bits(counts) / np.log2(k) if k > 1 else NAN,
        "class_prob_min": float(p.min()),
        "class_prob_max": float(p.max()),
        "class_prob_mean": float(p.mean()),
        "class_prob_std": float(p.std()),
    }


def _upper(matrix: np.ndarray) -> np.ndarray:
    return matrix[np.triu_indices(matrix.shape[0], 1)]


def _mean_abs(values: np.ndarray) -> float:
    v = np.abs(values[np.isfinite(values)])
    return float(v.mean()) if v.size else NAN


GROUP = Group("statistical", NAMES, compute, sample_rows=10_000)
