"""Fixed, seeded, stratified train/test splits, and the Parquet task files every system reads.

A comparison is only fair if every system is trained and scored on the same rows. So the split is a
function of the dataset's name, the seed and the target alone (never of the system, the run order or
the machine), it is saved the first time it is made, and the saved copy is what later runs use; each
result line carries a fingerprint of its test rows so that a reader can check it.

The default (``folds=1``) is one 75/25 split per seed: fold 0 of a seeded 4-fold stratified split.
``folds=k`` gives ``k`` outer folds. Classification strata are the classes (classes too rare to appear
in every fold are pooled into one stratum); regression strata are quantile bins of the target, so the
test rows cover the target's range as the training rows do.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

TARGET = "target"


@dataclass(frozen=True)
class Split:
    """Row indices (into the loaded dataset, missing targets already dropped) of one outer fold."""

    fold: int
    train: np.ndarray
    test: np.ndarray

    @property
    def fingerprint(self) -> str:
        """Short hash of the test rows: equal fingerprints mean the systems saw the same split."""
        return hashlib.sha1(np.sort(self.test).astype(np.int64).tobytes()).hexdigest()[:12]


def split_seed(dataset: str, seed: int) -> int:
    """The random state of a (dataset, seed) pair; stable across runs, machines and Python versions."""
    return zlib.crc32(f"{dataset}\0{seed}".encode()) & 0x7FFFFFFF


def strata(y: pd.Series, task: str, n_splits: int) -> np.ndarray:
    """Labels to stratify on: classes (rare ones pooled) or quantile bins of a regression target."""
    if task == "regression":
        n_bins = int(max(1, min(10, len(y) // (2 * n_splits))))
        ranks = pd.Series(np.asarray(y, dtype=float)).rank(method="first").to_numpy()
        return np.minimum((ranks - 1) * n_bins // len(y), n_bins - 1).astype(int)
    codes, uniques = pd.factorize(y, sort=True)
    counts = np.bincount(codes, minlength=len(uniques))
    rare = counts[codes] < n_splits
    return np.where(rare, -1, codes)


def make_splits(dataset: str, y: pd.Series, task: str, seed: int, folds: int = 1) -> list[Split]:
    """Outer folds of ``dataset`` for ``seed`` (see the module docstring for what ``folds`` means)."""
    if folds < 1:
        raise ValueError(f"folds must be at least 1, got {folds}")
    n_splits = 4 if folds == 1 else folds
    labels = strata(y, task, n_splits)
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=split_seed(dataset, seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a pooled stratum smaller than n_splits
        pairs = list(cv.split(np.zeros(len(labels)), labels))
    return [Split(fold=i, train=np.sort(tr), test=np.sort(te)) for i, (tr, te) in enumerate(pairs[:folds])]


def load_or_make_splits(path: Path, dataset: str, y: pd.Series, task: str, seed: int, folds: int) -> list[Split]:
    """The saved splits at ``path`` if they match this data, else new ones (saved for next time)."""
    path = Path(path)
    if path.exists():
        saved = np.load(path)
        if int(saved["n_rows"]) == len(y) and int(saved["folds"]) == folds:
            return [Split(fold=i, train=saved[f"train{i}"], test=saved[f"test{i}"]) for i in range(folds)]
        raise ValueError(f"{path} was made for {int(saved['n_rows'])} rows and {int(saved['folds'])} folds, "
                         f"but {dataset} now has {len(y)} rows and {folds} folds: use another --out")
    splits = make_splits(dataset, y, task, seed, folds)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"train{s.fold}": s.train for s in splits} | {f"test{s.fold}": s.test for s in splits}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, n_rows=len(y), folds=folds, **arrays)
    tmp.replace(path)
    return splits


def safe_columns(columns: pd.Index) -> list[str]:
    """Column names every peer accepts (LightGBM rejects JSON characters, H2O and others dislike some).

    The mapping is deterministic, so every system sees the same names.
    """
    names: list[str] = []
    seen: set[str] = {TARGET}
    for i, col in enumerate(columns):
        name = re.sub(r"[^0-9A-Za-z_]+", "_", str(col)).strip("_") or f"f{i}"
        if name[0].isdigit():
            name = f"f_{name}"
        while name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        names.append(name)
    return names


def encode_target(y: pd.Series, task: str) -> tuple[np.ndarray, list[str]]:
    """Class labels as codes 0..K-1 (sorted labels of the whole dataset), so every peer sees integers
    and probabilities can be aligned to one column order; regression targets pass through."""
    if task == "regression":
        return np.asarray(y, dtype=float), []
    codes, uniques = pd.factorize(y, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def write_task_files(task_dir: Path, X: pd.DataFrame, y_encoded: np.ndarray, split: Split, meta: dict) -> Path:
    """Write ``train.parquet`` (features + ``target``), ``test.parquet`` (features only) and
    ``task.json``; the test labels stay with the harness, so no system can see them."""
    task_dir = Path(task_dir)
    if (task_dir / "task.json").exists():
        return task_dir
    task_dir.mkdir(parents=True, exist_ok=True)
    X = X.copy()
    X.columns = safe_columns(X.columns)
    for col in X.columns:  # one Parquet type per column: mixed object columns become strings
        if X[col].dtype == object:
            X[col] = X[col].map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    train = X.iloc[split.train].reset_index(drop=True)
    train[TARGET] = y_encoded[split.train]
    train.to_parquet(task_dir / "train.parquet", index=False)
    X.iloc[split.test].reset_index(drop=True).to_parquet(task_dir / "test.parquet", index=False)
    info = dict(meta, target=TARGET, n_train=len(split.train), n_test=len(split.test), fold=split.fold,
                split_fingerprint=split.fingerprint)
    tmp = task_dir / "task.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(task_dir / "task.json")  # written last: its presence means the folder is complete
    return task_dir
