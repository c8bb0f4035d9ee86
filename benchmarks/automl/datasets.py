"""Which datasets a run uses, and loading them into ``(X, y, task)``.

A dataset is named on the command line as

* a name from ``index.csv`` of a folder laid out like ``shared/datasets`` (``collection/name`` when the
  name is in more than one collection),
* a suite file (``small.txt`` is looked up in ``benchmarks/automl/suites/``), one item per line,
* a path to an ARFF / CSV / Parquet file or a PMLB folder (``--target`` names the label column; the
  task is inferred unless ``--task`` is given), or
* ``synthetic:binary`` / ``synthetic:multiclass`` / ``synthetic:regression``: small tables made by
  scikit-learn, so the smoke run and the tests need no shared folder.

The task of an indexed dataset comes from the index's ``task`` column, never from inference: a
numerically coded class label would otherwise be taken for a regression target.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autolearn.data import load_table

TASKS = ("binary", "multiclass", "regression")
SUITES_DIR = Path(__file__).resolve().parent / "suites"
REPO_ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = ("synthetic:binary", "synthetic:multiclass", "synthetic:regression")


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from; ``name`` is its identity in results and in split seeds."""

    name: str
    path: str | None = None
    target: str | None = None
    task: str | None = None
    collection: str = ""


@dataclass(frozen=True)
class LoadedDataset:
    """A dataset ready to split: rows with a missing target already dropped (and counted)."""

    spec: DatasetSpec
    X: pd.DataFrame
    y: pd.Series
    task: str
    n_dropped_missing_target: int


def default_data_root() -> Path:
    """``$AUTOLEARN_DATASETS`` or ``../shared/datasets`` beside the repository (see DEVELOPING.md)."""
    return Path(os.environ.get("AUTOLEARN_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))


def read_index(root: Path) -> pd.DataFrame:
    """The dataset folder's ``index.csv`` (empty frame if the folder has none)."""
    index = Path(root) / "index.csv"
    if not index.exists():
        return pd.DataFrame(columns=["name", "collection", "path", "format", "target", "task"])
    return pd.read_csv(index)


def read_suite(path: Path) -> list[str]:
    """Items of a suite file: one per line; blank lines and ``#`` comments ignored."""
    items = []
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            items.append(line)
    return items


def _suite_path(item: str) -> Path | None:
    if not item.endswith(".txt"):
        return None
    for candidate in (Path(item), SUITES_DIR / item):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"suite file not found: {item} (looked in . and {SUITES_DIR})")


def resolve(items: list[str], root: Path | None = None, target: str | None = None,
            task: str | None = None) -> list[DatasetSpec]:
    """Turn command-line items (names, suite files, paths, synthetic names) into specs, in order."""
    root = default_data_root() if root is None else Path(root)
    index = read_index(root)
    specs: list[DatasetSpec] = []
    for item in items:
        suite = _suite_path(item)
        if suite is not None:
            specs.extend(resolve(read_suite(suite), root, target, task))
        elif item in SYNTHETIC:
            specs.append(DatasetSpec(name=item.replace(":", "_"), path=item, task=item.split(":")[1]))
        elif Path(item).exists() and not _in_index(index, item):
            path = Path(item)
            name = path.name.split(".")[0]
            specs.append(DatasetSpec(name=name, path=str(path.resolve()), target=target, task=task))
        else:
            specs.append(_from_index(index, root, item))
    names = [s.name for s in specs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"datasets named twice (results are keyed by name): {duplicated}")
    return specs


def _in_index(index: pd.DataFrame, item: str) -> bool:
    return bool(len(index)) and (item in set(index["name"]) or "/" in item and _match(index, item).any())


def _match(index: pd.DataFrame, item: str) -> pd.Series:
    if "/" in item:
        collection, name = item.split("/", 1)
        return (index["collection"] == collection) & (index["name"] == name)
    return index["name"] == item


def _from_index(index: pd.DataFrame, root: Path, item: str) -> DatasetSpec:
    if not len(index):
        raise FileNotFoundError(f"{item!r} is neither a file nor a dataset of {root / 'index.csv'} (no such index)")
    rows = index[_match(index, item)]
    if rows.empty:
        raise KeyError(f"dataset {item!r} is not in {root / 'index.csv'}")
    if len(rows) > 1:
        options = ", ".join(f"{c}/{n}" for c, n in zip(rows["collection"], rows["name"]))
        raise KeyError(f"dataset {item!r} is in several collections; name one of: {options}")
    row = rows.iloc[0]
    target = row.get("target")
    return DatasetSpec(
        name=item.replace("/", "__"), path=str(root / row["path"]),
        target=None if pd.isna(target) else str(target),
        task=str(row["task"]), collection=str(row["collection"]),
    )


def synthetic(kind: str, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Small tables with a categorical column and some missing values, for the smoke run and tests."""
    from sklearn.datasets import make_classification, make_regression

    rng = np.random.default_rng(seed)
    if kind == "regression":
        Xa, ya = make_regression(n_samples=400, n_features=6, n_informative=4, noise=5.0, random_state=seed)
    else:
        n_classes = 2 if kind == "binary" else 3
        Xa, ya = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=n_classes,
                                     random_state=seed)
    X = pd.DataFrame(Xa, columns=[f"x{i}" for i in range(Xa.shape[1])])
    X["colour"] = pd.Series(rng.choice(["red", "green", "blue"], size=len(X)), dtype="object")
    X.loc[rng.random(len(X)) < 0.05, "x0"] = np.nan
    y = pd.Series(ya if kind == "regression" else np.asarray(["no", "yes", "maybe"])[ya], name="target")
    return X, y


def infer_task(y: pd.Series) -> str:
    """Only for files given by path without ``--task``: float-valued with many values → regression."""
    values = y.dropna()
    n_unique = values.nunique()
    numeric = pd.api.types.is_numeric_dtype(values)
    if numeric and (n_unique > 20 or not np.allclose(values, np.round(values.astype(float)))):
        return "regression"
    return "binary" if n_unique <= 2 else "multiclass"


def load(spec: DatasetSpec) -> LoadedDataset:
    """Read a dataset and drop the rows whose target is missing (they can be neither fit nor scored)."""
    if spec.path in SYNTHETIC:
        X, y = synthetic(spec.path.split(":")[1])
    else:
        X, y = load_table(spec.path, target=spec.target)
        if y is None:
            raise ValueError(f"{spec.path}: no target column (give --target)")
    task = spec.task or infer_task(y)
    if task not in TASKS:
        raise ValueError(f"{spec.name}: unknown task {task!r}; expected one of {TASKS}")
    missing = y.isna().to_numpy()
    X, y = X.loc[~missing].reset_index(drop=True), y.loc[~missing].reset_index(drop=True)
    if task == "regression":
        y = pd.to_numeric(y, errors="raise").astype(float)
    n_classes = y.nunique()
    if task == "binary" and n_classes != 2:
        raise ValueError(f"{spec.name}: task is binary but the target has {n_classes} classes")
    return LoadedDataset(spec=spec, X=X, y=y, task=task, n_dropped_missing_target=int(missing.sum()))
