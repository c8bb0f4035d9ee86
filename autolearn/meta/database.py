"""The meta-database: how fixed candidate configurations did on many datasets, and what those datasets
look like.

Shipped as ``autolearn/meta/data/metadb.json.gz`` (built by ``python -m benchmarks.build_metadb``).
Per task type it holds the candidate configurations, the dataset names, their meta-features and a
*normalized* loss matrix (dataset x configuration)::

    normalized = clip((loss - best) / (baseline - best), 0, 1)

``best`` is the dataset's best candidate loss and ``baseline`` the loss of predicting the training
prior (class frequencies, or the mean): 0 is the best candidate, 1 is no better than a constant.
Beside it, a *cost* matrix: each evaluation's time divided by the dataset's median evaluation time
(machine-independent, so a portfolio can prefer configurations that are good per second).
Raw min-max scaling was rejected because one catastrophic configuration (a log loss of 20) squashes
every useful difference to ~0; a constant predictor is a worst that means the same on every dataset.
Failed and timed-out evaluations count as 1; ``NaN`` means not evaluated. ``best_loss`` and
``baseline_loss`` are kept so raw losses below the baseline can be recovered.

Configurations are only meaningful for the space they were drawn from: :meth:`TaskTable.validate`
checks each against the current ``build_space(task)`` (a test calls it, so changing the space without
rebuilding the database fails loudly instead of silently recommending nothing).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace

from autolearn.meta._configs import is_valid

FORMAT = 1
DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "metadb.json.gz"
REBUILD_HINT = "rebuild it: python -m benchmarks.build_metadb (see its docstring)"


class StaleDatabaseError(ValueError):
    """A stored configuration is not valid in the current search space."""


def normalize(losses: np.ndarray, baseline: float) -> tuple[np.ndarray, float]:
    """Normalized losses of one dataset's row and its best loss (see the module docstring).

    ``losses``: raw losses, +inf for failures, NaN for "not evaluated". When no candidate beats the
    baseline (or the baseline is unknown), the worst finite loss takes its place.
    """
    losses = np.asarray(losses, dtype=float)
    finite = np.isfinite(losses)
    if not finite.any():
        return np.where(np.isnan(losses), np.nan, 1.0), math.nan
    best = float(losses[finite].min())
    worst = float(baseline) if math.isfinite(baseline) and baseline > best else float(losses[finite].max())
    span = worst - best
    with np.errstate(invalid="ignore"):
        scaled = np.zeros_like(losses) if span <= 0 else (losses - best) / span
    out = np.clip(scaled, 0.0, 1.0)
    out[np.isposinf(losses)] = 1.0
    out[np.isnan(losses)] = np.nan
    return out, best


@dataclass(frozen=True)
class TaskTable:
    """One task type's slice of the database; rows are datasets, columns of ``performance`` configurations."""

    task: str
    configs: tuple[dict[str, Any], ...]
    datasets: tuple[str, ...]
    metafeatures: pd.DataFrame  # datasets x meta-feature names
    performance: np.ndarray  # datasets x configs, normalized loss in [0, 1], NaN = not evaluated
    origins: tuple[str, ...] = ()  # per config: "default", "handmade:<name>", "random"
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)  # per dataset: best_loss, baseline_loss, ...
    cost: np.ndarray | None = None  # datasets x configs, evaluation time / the dataset's median; NaN unknown

    def __post_init__(self) -> None:
        shape = (len(self.datasets), len(self.configs))
        if self.performance.shape != shape:
            raise ValueError(f"{self.task}: performance has shape {self.performance.shape}, expected {shape}")
        if self.cost is not None and self.cost.shape != shape:
            raise ValueError(f"{self.task}: cost has shape {self.cost.shape}, expected {shape}")
        if len(self.metafeatures) != len(self.datasets):
            raise ValueError(f"{self.task}: {len(self.metafeatures)} meta-feature rows for {shape[0]} datasets")
        for array in (self.performance, self.cost):
            if array is not None:
                array.setflags(write=False)  # tables are shared through the load cache

    def __len__(self) -> int:
        return len(self.datasets)

    def index(self, dataset: str) -> int:
        try:
            return self.datasets.index(dataset)
        except ValueError:
            raise KeyError(f"dataset {dataset!r} is not in the {self.task} table") from None

    def without(self, datasets: str | Iterable[str] | None) -> TaskTable:
        """The table with these datasets masked out (leave-one-dataset-out); unknown names are ignored."""
        if datasets is None:
            return self
        drop = {datasets} if isinstance(datasets, str) else set(datasets)
        keep = np.array([name not in drop for name in self.datasets], dtype=bool)
        if keep.all():
            return self
        return replace(
            self,
            datasets=tuple(n for n, k in zip(self.datasets, keep) if k),
            metafeatures=self.metafeatures.loc[keep],
            performance=self.performance[keep].copy(),
            cost=None if self.cost is None else self.cost[keep].copy(),
            extra={name: np.asarray(values)[keep] for name, values in self.extra.items()},
        )

    def best_configs(self, dataset: str, n: int | None = None) -> list[int]:
        """Indices of ``dataset``'s configurations from best to worst (evaluated ones only; ties by index)."""
        row = self.performance[self.index(dataset)]
        order = [int(i) for i in np.argsort(row, kind="stable") if not np.isnan(row[i])]
        return order if n is None else order[:n]

    def validate(self, space: ConfigurationSpace | None = None) -> None:
        """Raise :class:`StaleDatabaseError` naming the first configuration not valid in ``space``
        (default: the current ``build_space(task)``)."""
        if space is None:
            from autolearn.space import build_space

            space = build_space(self.task)
        for i, config in enumerate(self.configs):
            reason = is_valid(space, config)
            if reason is not None:
                origin = self.origins[i] if i < len(self.origins) else "?"
                raise StaleDatabaseError(
                    f"meta-database is stale: {self.task} configuration #{i} ({origin}) {config!r} is not valid "
                    f"in the current search space ({reason}); {REBUILD_HINT}"
                )


@dataclass(frozen=True)
class MetaDatabase:
    """Every task's table plus how the database was built (``info``: protocol, date, names)."""

    tables: Mapping[str, TaskTable]
    info: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None

    def __getitem__(self, task: str) -> TaskTable:
        try:
            return self.tables[task]
        except KeyError:
            raise KeyError(f"the meta-database has no {task!r} table (it has {sorted(self.tables)})") from None

    def __contains__(self, task: object) -> bool:
        return task in self.tables

    @property
    def datasets(self) -> list[str]:
        return [name for table in self.tables.values() for name in table.datasets]

    def without(self, datasets: str | Iterable[str] | None) -> MetaDatabase:
        """The database with these datasets masked in every task table."""
        if datasets is None:
            return self
        drop = [datasets] if isinstance(datasets, str) else list(datasets)
        return replace(self, tables={t: table.without(drop) for t, table in self.tables.items()})

    def validate(self, spaces: Mapping[str, ConfigurationSpace] | None = None) -> None:
        """Check every table against ``spaces[task]`` or the current ``build_space(task)``."""
        for task, table in self.tables.items():
            table.validate(None if spaces is None else spaces.get(task))


# -- reading and writing ------------------------------------------------------------------------
def load_metadb(path: str | os.PathLike | None = None) -> MetaDatabase:
    """Read the database at ``path`` (default: the one shipped with autolearn); cached per file version."""
    resolved = Path(path) if path is not None else DEFAULT_PATH
    if not resolved.exists():
        raise FileNotFoundError(f"no meta-database at {resolved}; {REBUILD_HINT}")
    stat = resolved.stat()
    return _load(str(resolved.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, size: int) -> MetaDatabase:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    if raw.get("format") != FORMAT:
        raise ValueError(f"{path}: meta-database format {raw.get('format')!r}, this autolearn reads {FORMAT}")
    names = list(raw["metafeature_names"])
    tables = {}
    for task, t in raw["tasks"].items():
        datasets = tuple(t["datasets"])
        meta = pd.DataFrame(_array(t["metafeatures"], (len(datasets), len(names))), index=list(datasets),
                            columns=names)
        extra = {k: _array(v, (len(datasets),)) for k, v in t.get("extra", {}).items()}
        tables[task] = TaskTable(
            task=task, configs=tuple(t["configs"]), datasets=datasets, metafeatures=meta,
            performance=_array(t["performance"], (len(datasets), len(t["configs"]))),
            origins=tuple(t.get("origins", ())), extra=extra,
            cost=_array(t["cost"], (len(datasets), len(t["configs"]))) if "cost" in t else None,
        )
    info = {k: v for k, v in raw.items() if k not in ("tasks", "metafeature_names")}
    return MetaDatabase(tables, info, path)


def write_metadb(db: MetaDatabase, path: str | os.PathLike, digits: int = 4) -> Path:
    """Write ``db`` as gzipped JSON (NaN as null, floats rounded to keep the shipped file small)."""
    names: list[str] = []
    for table in db.tables.values():
        names += [c for c in table.metafeatures.columns if c not in names]
    tasks = {}
    for task, table in db.tables.items():
        tasks[task] = {
            "configs": list(table.configs), "origins": list(table.origins), "datasets": list(table.datasets),
            "metafeatures": _encode(table.metafeatures.reindex(columns=names).to_numpy(float), 6, relative=True),
            "performance": _encode(table.performance, digits),
            "extra": {k: _encode(np.asarray(v, float), 6, relative=True) for k, v in table.extra.items()},
        }
        if table.cost is not None:
            tasks[task]["cost"] = _encode(table.cost, 2, relative=True)
    raw = {"format": FORMAT, **dict(db.info), "metafeature_names": names, "tasks": tasks}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(raw, fh, separators=(",", ":"), allow_nan=False)
    tmp.replace(path)
    return path


def _encode(values: np.ndarray, digits: int, relative: bool = False) -> Any:
    """Nested lists of rounded floats; NaN -> None, +-inf -> +-1e300 (JSON has neither)."""
    def one(v: float) -> float | None:
        if math.isnan(v):
            return None
        if math.isinf(v):
            return math.copysign(1e300, v)
        if relative:
            return float(f"{v:.{digits}g}")
        rounded = round(v, digits)
        return int(rounded) if rounded == int(rounded) else rounded

    return [_encode(row, digits, relative) for row in values] if values.ndim > 1 else [one(float(v)) for v in values]


def _array(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = np.array(values if len(values) else np.empty(shape), dtype=float)  # None -> nan
    return array.reshape(shape)
