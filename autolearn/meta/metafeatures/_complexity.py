"""Data-complexity meta-features (classification): how hard the class boundary is.

F1 and F2 (Ho & Basu, 2002) look at one feature at a time and run on the sample with the ordinal,
imputed features. Concept variation (Vilalta, 1999) compares each point with its neighbours, which
needs distances, so it runs on a smaller prefix of the sample and, instead of weighing every pair,
only its ``NEIGHBOURS`` nearest neighbours (the far ones carry almost no weight anyway). Data
inconsistency needs exact duplicates, which a sample would mostly miss, so it hashes the full data
when that is affordable (in ``warm_up``, outside the timing pilot), and the sample beyond.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

from autolearn.meta.metafeatures._base import NAN, Deadline, Group
from autolearn.meta.metafeatures._data import Dataset, Table

CONCEPT_ROWS = 2_000
NEIGHBOURS = 10
ALPHA = 2.0  # Vilalta's weight steepness
MAX_PAIRS = 2_000  # class pairs for F2 (a random subset beyond this)
FULL_HASH_CELLS = 10_000_000  # data inconsistency hashes the full data up to this size (~0.5 s)

NAMES = (
    "fisher_ratio_max",
    "fisher_ratio_inverse",
    "volume_overlap",
    "concept_variation",
    "data_inconsistency",
)


def compute(data: Dataset, table: Table, deadline: Deadline) -> dict[str, float]:
    if not data.is_classification:
        return dict.fromkeys(NAMES, NAN)
    x, y, k = table.ordinal, table.y, table.n_classes
    f1 = float(fisher_ratios(x, y, k).max()) if x.shape[1] else NAN
    return {
        "fisher_ratio_max": f1,
        "fisher_ratio_inverse": 1.0 / (1.0 + f1),
        "volume_overlap": volume_overlap(x, y, k, np.random.default_rng(data.seed)),
        "concept_variation": concept_variation(x[:CONCEPT_ROWS], y[:CONCEPT_ROWS]),
        "data_inconsistency": inconsistency(data),
    }


def fisher_ratios(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Per feature, between-class over within-class scatter (the multiclass form of Fisher's ratio):
    sum_c n_c (mean_c - mean)^2 / sum_c sum_{i in c} (x_i - mean_c)^2.

    A feature whose classes do not spread at all but whose means differ separates perfectly: +inf.
    """
    counts = np.bincount(y, minlength=k).astype(float)
    members = sparse.csr_matrix((np.ones(len(y)), (y, np.arange(len(y)))), shape=(k, len(y)))  # sparse: k may be large
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (members @ x) / counts[:, None]
    means = np.nan_to_num(means)  # classes absent from the sample weigh nothing anyway
    between = (counts[:, None] * (means - x.mean(axis=0)) ** 2).sum(axis=0)
    within = ((x - means[y]) ** 2).sum(axis=0)
    scale = (x**2).sum(axis=0) + 1.0
    flat = within <= 1e-12 * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = between / within
    return np.where(flat, np.where(between > 1e-12 * scale, np.inf, 0.0), ratio)


def volume_overlap(x: np.ndarray, y: np.ndarray, k: int, rng: np.random.Generator) -> float:
    """F2: for a pair of classes, the product over features of the overlap of their ranges divided
    by the range of both; averaged over class pairs. 0 when some feature separates the ranges."""
    if x.shape[1] == 0 or k < 2:
        return NAN
    present = np.flatnonzero(np.bincount(y, minlength=k))
    lo = np.full((k, x.shape[1]), np.inf)
    hi = np.full((k, x.shape[1]), -np.inf)
    np.minimum.at(lo, y, x)
    np.maximum.at(hi, y, x)
    m = len(present)
    if m < 2:
        return NAN
    if m * (m - 1) // 2 <= MAX_PAIRS:
        i, j = np.triu_indices(m, 1)
    else:  # random pairs, without building all m^2 / 2 of them
        i = rng.integers(0, m, MAX_PAIRS)
        j = (i + rng.integers(1, m, MAX_PAIRS)) % m
    a, b = present[i], present[j]
    overlap = np.maximum(np.minimum(hi[a], hi[b]) - np.maximum(lo[a], lo[b]), 0.0)
    span = np.maximum(hi[a], hi[b]) - np.minimum(lo[a], lo[b])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(span > 0, overlap / span, 1.0)  # a feature constant on both: no separation
    return float(np.prod(share, axis=1).mean())


def concept_variation(x: np.ndarray, y: np.ndarray) -> float:
    """Mean over points of the weighted share of neighbours with another label.

    Features are min-max scaled to [0, 1], so distances lie in [0, sqrt(d)]; a neighbour at distance
    delta weighs 2^(-ALPHA * delta / (sqrt(d) - delta)), 1 for a twin and 0 at the far corner.
    """
    n, d = x.shape
    if n < 2 or d == 0:
        return NAN
    span = x.max(axis=0) - x.min(axis=0)
    z = (x - x.min(axis=0)) / np.where(span > 0, span, 1.0)
    nn = NearestNeighbors(n_neighbors=min(NEIGHBOURS, n - 1)).fit(z)
    dist, idx = nn.kneighbors()  # without a query, a point is not its own neighbour
    root = np.sqrt(d)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        weight = np.where(dist < root, np.exp2(-ALPHA * dist / (root - dist)), 0.0)
    differs = y[idx] != y[:, None]
    total = weight.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_point = (weight * differs).sum(axis=1) / total
    per_point = per_point[total > 0]
    return float(per_point.mean()) if per_point.size else NAN


def inconsistency(data: Dataset) -> float:
    """Share of rows whose exact feature vector (missing included) also occurs with another label.

    Rows are hashed (64 bits: collisions are negligible) and sorted by hash; a run of equal hashes
    is a conflict when its labels' min and max differ. Full data up to ``FULL_HASH_CELLS``.
    """
    if "data_inconsistency" not in data.cache:
        if data.n_instances * data.n_features <= FULL_HASH_CELLS:
            frame, y = data.frame, data.y
        else:
            table = data.table
            frame, y = pd.DataFrame(np.hstack([table.numeric, table.categorical])), table.y
        if frame.shape[1] == 0:
            rows = np.zeros(len(y), dtype=np.uint64)
        else:
            rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        order = np.argsort(rows)
        rows, labels = rows[order], y[order]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        sizes = np.diff(np.r_[starts, len(rows)])
        mixed = np.minimum.reduceat(labels, starts) != np.maximum.reduceat(labels, starts)
        data.cache["data_inconsistency"] = float(sizes[mixed].sum() / len(rows))
    return data.cache["data_inconsistency"]


def _warm_up(data: Dataset) -> None:
    if data.is_classification:
        inconsistency(data)


GROUP = Group("complexity", NAMES, compute, sample_rows=10_000, cost_exponent=1.0, warm_up=_warm_up)
