"""Which datasets of the meta-database look like a new one: k nearest neighbours over meta-features.

Meta-features live on wildly different scales (rows in the millions, ratios in [0, 1], kurtosis in the
thousands) and are heavy-tailed, so each one is first squashed with a signed ``log1p`` and then
scaled robustly (median and IQR of the database, which a few giant datasets cannot drag). Values are
clipped to +-``CLIP`` scaled units so that an infinite Fisher ratio is just "very large".

Missing values are the rule, not the exception (classification-only features on regression, groups
skipped for lack of time), so distances use only the features present on both sides and are
averaged over them (a root-mean-square rather than a sum), which keeps pairs with fewer shared features
comparable to pairs with many. Features constant over the database carry no information and get
weight 0.

``learn_weights`` is a one-shot metric learning: a feature's weight is how well its differences
between two datasets predict how differently the candidates performed on them (the Spearman
correlation over dataset pairs, floored at 0). Features that do not predict performance drop out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from autolearn.meta.database import TaskTable

DISTANCES = ("euclidean", "manhattan", "cosine")
CLIP = 5.0
_IQR_TO_STD = 1.349  # IQR of a standard normal: scaled units read like standard deviations
_LEARNED: dict[int, tuple[np.ndarray, pd.Series]] = {}


def squash(values: np.ndarray) -> np.ndarray:
    """Signed log1p: keeps sign and order, tames heavy tails (and maps inf to inf, clipped later)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.sign(values) * np.log1p(np.abs(values))


@dataclass(frozen=True)
class RobustScaler:
    """Per-feature centre and scale fitted on the database; NaN-safe."""

    names: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray  # NaN where the feature is constant or absent: it gets weight 0

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> RobustScaler:
        values = squash(frame.to_numpy(float))
        values[~np.isfinite(values)] = np.nan  # inf does not belong in a median or IQR
        center = np.full(values.shape[1], np.nan)
        scale = np.full(values.shape[1], np.nan)
        for j in range(values.shape[1]):
            column = values[:, j][~np.isnan(values[:, j])]
            if len(column) < 2:
                continue
            q25, q50, q75 = np.percentile(column, [25, 50, 75])
            spread = (q75 - q25) / _IQR_TO_STD
            if spread <= 1e-12:  # more than half the values tie: fall back to the std
                spread = float(column.std())
            center[j] = q50
            scale[j] = spread if spread > 1e-12 else np.nan
        return cls(tuple(frame.columns), center, scale)

    def transform(self, frame: pd.DataFrame | pd.Series) -> np.ndarray:
        """Scaled values, shape (n, features) in this scaler's feature order (missing names are NaN)."""
        if isinstance(frame, pd.Series):
            frame = frame.to_frame().T
        values = squash(frame.reindex(columns=list(self.names)).to_numpy(float))
        with np.errstate(invalid="ignore"):
            return np.clip((values - self.center) / self.scale, -CLIP, CLIP)

    @property
    def usable(self) -> np.ndarray:
        return np.isfinite(self.scale)


def distances(query: np.ndarray, reference: np.ndarray, metric: str = "euclidean",
              weights: np.ndarray | None = None) -> np.ndarray:
    """Distance of one scaled ``query`` row to each row of ``reference``, over shared features.

    Rows sharing no feature with the query are at +inf.
    """
    if metric not in DISTANCES:
        raise ValueError(f"distance must be one of {DISTANCES}, got {metric!r}")
    query = np.asarray(query, float).ravel()
    reference = np.atleast_2d(np.asarray(reference, float))
    w = np.ones_like(query) if weights is None else np.asarray(weights, float).ravel()
    present = np.isfinite(query) & np.isfinite(reference) & (w > 0)
    wm = np.where(present, w, 0.0)
    q = np.where(present, query, 0.0)
    r = np.where(present, reference, 0.0)
    total = wm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "euclidean":
            out = np.sqrt((wm * (q - r) ** 2).sum(axis=1) / total)
        elif metric == "manhattan":
            out = (wm * np.abs(q - r)).sum(axis=1) / total
        else:
            dot = (wm * q * r).sum(axis=1)
            norms = np.sqrt((wm * q * q).sum(axis=1) * (wm * r * r).sum(axis=1))
            out = np.where(norms > 0, 1.0 - dot / norms, 1.0)
    return np.where(total > 0, out, np.inf)


def nearest(query: pd.Series, table: TaskTable, k: int = 5, *, distance: str = "euclidean",
            weights: Mapping[str, float] | str | None = None) -> list[tuple[str, float]]:
    """The ``k`` datasets of ``table`` closest to the meta-features ``query``: ``[(name, distance)]``.

    ``weights``: per-feature weights (features not named weigh 1), or ``"learned"`` for
    :func:`learn_weights` on ``table``. Ties are broken by database order.
    """
    if len(table) == 0:
        return []
    scaler = RobustScaler.fit(table.metafeatures)
    w = _weight_vector(scaler, table, weights)
    d = distances(scaler.transform(query)[0], scaler.transform(table.metafeatures), distance, w)
    order = np.argsort(d, kind="stable")[: max(k, 0)]
    return [(table.datasets[i], float(d[i])) for i in order if np.isfinite(d[i])]


def learn_weights(table: TaskTable, max_pairs: int = 20_000, seed: int = 0) -> pd.Series:
    """Per-feature weights from how well feature differences predict performance differences.

    Performance distance of two datasets: mean absolute difference of their normalized losses over
    configurations evaluated on both. Weight of a feature: Spearman correlation between its absolute
    scaled difference and the performance distance over dataset pairs, floored at 0 and normalized to
    mean 1 over the features that get any. Uniform weights when nothing correlates.
    """
    scaler = RobustScaler.fit(table.metafeatures)
    z = scaler.transform(table.metafeatures)
    n = len(table)
    pairs = np.array([(a, b) for a in range(n) for b in range(a + 1, n)], dtype=int).reshape(-1, 2)
    if len(pairs) > max_pairs:
        pairs = pairs[np.random.default_rng(seed).choice(len(pairs), max_pairs, replace=False)]
    weights = np.zeros(len(scaler.names))
    if len(pairs) >= 5:
        perf = table.performance
        both = ~np.isnan(perf[pairs[:, 0]]) & ~np.isnan(perf[pairs[:, 1]])
        diff = np.where(both, np.abs(np.nan_to_num(perf[pairs[:, 0]]) - np.nan_to_num(perf[pairs[:, 1]])), 0.0)
        target = diff.sum(axis=1) / np.maximum(both.sum(axis=1), 1)
        for j in np.flatnonzero(scaler.usable):
            delta = np.abs(z[pairs[:, 0], j] - z[pairs[:, 1], j])
            ok = np.isfinite(delta)
            if ok.sum() >= 5 and np.ptp(delta[ok]) > 0 and np.ptp(target[ok]) > 0:
                rho = spearmanr(delta[ok], target[ok]).statistic
                weights[j] = max(float(rho), 0.0) if np.isfinite(rho) else 0.0
    if weights.sum() <= 0:
        weights = scaler.usable.astype(float)
    else:
        weights = weights / weights[weights > 0].mean()
    return pd.Series(weights, index=list(scaler.names), name="weight")


def _learned(table: TaskTable) -> pd.Series:
    """learn_weights, cached per table (keyed by its performance array, which the cache keeps alive)."""
    perf = table.performance
    hit = _LEARNED.get(id(perf))
    if hit is None or hit[0] is not perf:
        if len(_LEARNED) >= 16:
            _LEARNED.pop(next(iter(_LEARNED)))
        hit = _LEARNED[id(perf)] = (perf, learn_weights(table))
    return hit[1]


def _weight_vector(scaler: RobustScaler, table: TaskTable, weights: Mapping[str, float] | str | None) -> np.ndarray:
    if weights is None:
        w = np.ones(len(scaler.names))
    elif isinstance(weights, str):
        if weights != "learned":
            raise ValueError(f"weights must be a mapping of feature -> weight, 'learned' or None, got {weights!r}")
        w = _learned(table).reindex(list(scaler.names)).fillna(0.0).to_numpy(float)
    else:
        unknown = set(weights) - set(scaler.names)
        if unknown:
            raise ValueError(f"weights for unknown meta-features: {sorted(unknown)}")
        w = np.array([float(weights.get(name, 1.0)) for name in scaler.names])
        if (w < 0).any():
            raise ValueError("meta-feature weights must be >= 0")
    return np.where(scaler.usable, w, 0.0)
