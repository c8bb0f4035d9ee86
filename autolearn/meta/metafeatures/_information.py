"""Information-theoretic meta-features: how much each feature says about the class.

Numeric features are discretized into ``BINS`` equal-frequency bins (quantile edges, so an outlier
does not squeeze everything into one bin); categoricals keep their categories; a missing value is a
value of its own in both. Entropies are in bits. Attribute entropy needs no labels and is also given
for regression; the class-based features are NaN there.
"""

from __future__ import annotations

import numpy as np

from autolearn.meta.metafeatures._base import NAN, Deadline, Group, entropy_bits
from autolearn.meta.metafeatures._data import Dataset, Table

BINS = 10

NAMES = (
    "class_entropy",
    "attr_entropy_mean",
    "mutual_info_mean",
    "equivalent_n_features",
    "noise_signal_ratio",
)


def compute(data: Dataset, table: Table, deadline: Deadline) -> dict[str, float]:
    columns = [discretize(table.numeric[:, j]) for j in range(table.numeric.shape[1])]
    columns += [_missing_as_code(table.categorical[:, j]) for j in range(table.categorical.shape[1])]
    attr_entropy = [entropy_bits(np.bincount(c)) for c in columns]
    out = dict.fromkeys(NAMES, NAN)
    out["attr_entropy_mean"] = float(np.mean(attr_entropy)) if columns else NAN
    if not data.is_classification:
        return out
    k = table.n_classes
    h_class = entropy_bits(np.bincount(table.y, minlength=k))
    mutual_info = [h_class + h_x - _joint_entropy(c, table.y, k) for c, h_x in zip(columns, attr_entropy)]
    mean_mi = float(np.mean(mutual_info)) if columns else NAN
    out["class_entropy"] = entropy_bits(data.class_counts)  # exact; the ratios use h_class of the same rows as MI
    out["mutual_info_mean"] = mean_mi
    if mean_mi > 1e-12:  # both ratios divide by the signal; undefined when no feature carries any
        out["equivalent_n_features"] = h_class / mean_mi
        out["noise_signal_ratio"] = (out["attr_entropy_mean"] - mean_mi) / mean_mi
    return out


def discretize(x: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Equal-frequency bin codes 0..; missing values get the code after the last bin."""
    present = ~np.isnan(x)
    codes = np.full(len(x), 0, dtype=np.int64)
    if present.any():
        edges = np.unique(np.quantile(x[present], np.linspace(0, 1, bins + 1)[1:-1]))
        codes[present] = np.searchsorted(edges, x[present], side="right")
        codes[~present] = len(edges) + 1
    return codes


def _joint_entropy(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """H(A, B) for codes ``b`` < ``k``; counts only the pairs that occur (many categories times many
    classes would make a dense count table huge)."""
    _, counts = np.unique(a * k + b, return_counts=True)
    return entropy_bits(counts)


def _missing_as_code(codes: np.ndarray) -> np.ndarray:
    present = ~np.isnan(codes)
    top = int(codes[present].max()) + 1 if present.any() else 0
    return np.where(present, codes, top).astype(np.int64)


GROUP = Group("information_theoretic", NAMES, compute, sample_rows=10_000)
