"""How a configuration is validated: holdout or k-fold CV, stratified for classification.

``resampling="auto"`` spends more of a small dataset on validation (5-fold CV under 5,000 rows, where a
holdout score is too noisy to rank models and a fit is cheap) and less of a larger one (a 20 % holdout,
where k-fold CV would cost k times the fits, i.e. far fewer trials in the same budget, for a score
whose noise is already small).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Resampling:
    kind: str  # "cv" | "holdout"
    n_folds: int = 5
    holdout_fraction: float = 0.2

    def describe(self) -> str:
        return f"{self.n_folds}-fold CV" if self.kind == "cv" else f"{self.holdout_fraction:.0%} holdout"


def resolve_resampling(resampling: str | int | float | Resampling, n_rows: int) -> Resampling:
    """Turn the user's ``resampling`` ("auto", "cv", "holdout", k folds, a holdout fraction) into a plan."""
    if isinstance(resampling, Resampling):
        return resampling
    if isinstance(resampling, bool):
        raise ValueError(f"resampling must be 'auto', 'cv', 'holdout', a fold count or a fraction, got {resampling!r}")
    if isinstance(resampling, int):
        if resampling < 2:
            raise ValueError(f"resampling: k-fold CV needs at least 2 folds, got {resampling}")
        return Resampling("cv", n_folds=resampling)
    if isinstance(resampling, float):
        if not 0.0 < resampling < 1.0:
            raise ValueError(f"resampling: a holdout fraction must be in (0, 1), got {resampling}")
        return Resampling("holdout", holdout_fraction=resampling)
    if resampling == "cv":
        return Resampling("cv", n_folds=5)
    if resampling == "holdout":
        return Resampling("holdout", holdout_fraction=0.2 if n_rows > 5000 else 0.33)
    if resampling == "auto":
        if n_rows < 5000:
            return Resampling("cv", n_folds=5)
        return Resampling("holdout", holdout_fraction=0.2)
    raise ValueError(f"resampling must be 'auto', 'cv', 'holdout', a fold count or a fraction, got {resampling!r}")


def make_splits(y: np.ndarray, task: str, plan: Resampling, seed: int) -> list[Split]:
    """Train/validation index pairs; stratified where every class has enough members."""
    n = len(y)
    idx = np.arange(n)
    stratify = task != "regression" and np.bincount(y.astype(int)).min() >= (min(plan.n_folds, n) if plan.kind == "cv"
                                                                              else 2)
    if plan.kind == "cv":
        if n < 2:
            raise ValueError(f"cross-validation needs at least 2 rows, got {n}")
        plan = Resampling("cv", min(plan.n_folds, n))  # tiny data: fewer folds rather than no search
        cv = StratifiedKFold(plan.n_folds, shuffle=True, random_state=seed) if stratify else \
            KFold(plan.n_folds, shuffle=True, random_state=seed)
        return [(tr, va) for tr, va in cv.split(idx, y if stratify else None)]
    splitter = StratifiedShuffleSplit if stratify else ShuffleSplit
    ss = splitter(n_splits=1, test_size=plan.holdout_fraction, random_state=seed)
    return [next(ss.split(idx, y if stratify else None))]


def validation_rows(splits: list[Split]) -> np.ndarray:
    """Rows that carry a validation prediction, in the order predictions are stored."""
    return np.concatenate([va for _, va in splits])


def subsample(train: np.ndarray, y: np.ndarray, fraction: float, task: str, seed: int, min_rows: int = 50) -> np.ndarray:
    """A (stratified) fraction of the training rows: the 'rows' fidelity of multi-fidelity search."""
    if fraction >= 1.0:
        return train
    k = min(max(int(round(fraction * len(train))), min_rows), len(train))
    if k >= len(train):
        return train
    rng = np.random.default_rng(seed)
    if task == "regression":
        return np.sort(rng.choice(train, size=k, replace=False))
    labels = y[train]
    classes, counts = np.unique(labels, return_counts=True)
    # at least one row per class, the rest in proportion
    quota = np.maximum(1, np.floor(counts / counts.sum() * k).astype(int))
    chosen = [rng.choice(train[labels == c], size=min(q, cnt), replace=False)
              for c, q, cnt in zip(classes, quota, counts)]
    return np.sort(np.concatenate(chosen))
