"""One view of a search for every plot, the HTML report and the dashboard, whatever it came from.

A search can be at hand as a fitted estimator, its ``SearchResult``, a ``tune`` ``Study``, a run
directory (``RUN_DIR/history.sqlite``), a saved model (``.pkl``), a SQLite file, any SQLAlchemy URL or
a :class:`~autolearn.storage.Storage`. :func:`load_run` turns each into a :class:`RunData` so the
consumers never branch on where the trials came from. A finished AutoML search writes its ensemble
weights and phase timings into the run history; a search that was interrupted, or a ``tune`` study, has
none, and the plots that need them raise :class:`NoDataError`.

Scores: stored values are losses (lower is better). People read the metric as they know it, so
:meth:`RunData.score` turns a loss back into the metric's own orientation (ROC AUC up, RMSE down) or,
for a ``tune`` study, into the value its objective returned.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from autolearn.records import TrialRecord
from autolearn.storage import Storage

AUTOML_STUDY = "automl"  # the study name autolearn.automl writes
REFIT = "refit"  # TrialSpec.instance of a final refit on all rows (autolearn.evaluation.evaluate.REFIT)

RunSource = Any  # estimator | SearchResult | Study | Storage | RunData | str | os.PathLike


class NoDataError(ValueError):
    """The run lacks what a plot needs (no second objective, one budget only, no ensemble weights...).

    A ValueError, so callers that only want "the plots that apply" (the HTML report) catch it and say why.
    """


@dataclass(frozen=True)
class Member:
    """One model of the final ensemble."""

    weight: float
    trial_id: int
    config: Mapping[str, Any]


@dataclass(frozen=True)
class RunData:
    """Records of one search plus what is needed to read them.

    ``objectives`` names each objective (the metric name for AutoML runs); ``greater_is_better`` and
    ``optimum`` turn a stored loss into that objective's value: ``optimum - loss`` when greater is
    better, else ``optimum + loss``.
    """

    records: list[TrialRecord]
    objectives: tuple[str, ...]
    greater_is_better: tuple[bool, ...]
    optimum: tuple[float, ...]
    task: str | None = None  # "binary" | "multiclass" | "regression"; None for a tune study
    members: list[Member] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    source: str = ""
    study: str = AUTOML_STUDY

    @property
    def metric(self) -> str:
        return self.objectives[0]

    @property
    def is_automl(self) -> bool:
        return self.task is not None

    def score(self, loss: float, objective: int = 0) -> float:
        """A stored loss in the objective's own orientation (NaN for a trial without one)."""
        if not math.isfinite(loss):
            return math.nan
        return self.optimum[objective] - loss if self.greater_is_better[objective] else self.optimum[objective] + loss

    def best_is_max(self, objective: int = 0) -> bool:
        return self.greater_is_better[objective]

    def finished(self, include_refits: bool = False) -> list[TrialRecord]:
        """Trials with a result, refits (which fit a chosen config on all rows, unscored) left out by default."""
        return [r for r in self.records if r.result is not None and (include_refits or r.spec.instance != REFIT)]

    def successes(self) -> list[TrialRecord]:
        """Scored validation trials: the ones plots of scores can use."""
        return [r for r in self.finished() if r.result.ok and r.result.values]  # type: ignore[union-attr]

    def full_budget(self) -> list[TrialRecord]:
        """Successes at the highest budget reached: scores at lower fidelities are not comparable."""
        done = self.successes()
        if not done:
            return []
        top = max(r.spec.budget for r in done)
        return [r for r in done if math.isclose(r.spec.budget, top)]

    def comparable(self, min_trials: int = 5) -> list[TrialRecord]:
        """Successes at one budget, for plots that compare configurations: the highest budget with at least
        ``min_trials`` successes, else the budget with the most (ASHA promotes few trials to the top rung)."""
        by_budget: dict[float, list[TrialRecord]] = {}
        for r in self.successes():
            by_budget.setdefault(round(r.spec.budget, 9), []).append(r)
        if not by_budget:
            return []
        enough = [b for b in by_budget if len(by_budget[b]) >= min_trials]
        return by_budget[max(enough)] if enough else max(by_budget.values(), key=len)


def load_run(source: RunSource, study: str | None = None) -> RunData:
    """A :class:`RunData` from a fitted model, a ``SearchResult``, a ``Study``, a storage, a run directory,
    a saved model file, a SQLite file or a SQLAlchemy URL.

    ``study`` picks a study in a storage holding several (default: ``"automl"`` when present, else the
    only one). Raises FileNotFoundError for a path that does not exist (a storage URL is never created
    by reading it) and ValueError when the source is ambiguous.
    """
    if isinstance(source, RunData):
        return source
    search = getattr(source, "search_", None)
    if search is not None:
        return _from_search(search, f"{type(source).__name__} (fitted)")
    if hasattr(source, "get_params") and hasattr(source, "time_budget"):
        raise ValueError(f"this {type(source).__name__} is not fitted yet: call fit first")
    if hasattr(source, "records") and hasattr(source, "metric") and hasattr(source, "members"):
        return _from_search(source, "SearchResult")
    from autolearn.tune.study import Study

    if isinstance(source, Study):
        return read_storage(source.storage, source.name, f"study {source.name}")
    if isinstance(source, Storage):
        return read_storage(source, study, repr(source))
    if isinstance(source, (str, os.PathLike)):
        return _from_location(source, study)
    raise TypeError(f"cannot read a search from {type(source).__name__}; give a fitted AutoClassifier/AutoRegressor, "
                    "a Study, a Storage, a run directory, a saved model file or a storage URL")


def open_storage(location: str | os.PathLike[str]) -> Storage:
    """The storage at a run directory, SQLite file or SQLAlchemy URL, without creating anything new."""
    from autolearn.storage import SQLStorage

    text = os.fspath(location)
    if "://" in text:
        if text.startswith("sqlite:///") and not Path(text[len("sqlite:///"):]).expanduser().exists():
            raise FileNotFoundError(f"no run history at {text}")
        return SQLStorage(text)
    path = Path(text).expanduser()
    if path.is_dir():
        path = path / "history.sqlite"
    if not path.exists():
        raise FileNotFoundError(f"no run history at {path} (give a run directory holding history.sqlite, a SQLite "
                                "file or a storage URL)")
    return SQLStorage(path)


def _from_location(location: str | os.PathLike[str], study: str | None) -> RunData:
    text = os.fspath(location)
    if "://" not in text and Path(text).suffix in (".pkl", ".pickle") and Path(text).is_file():
        from autolearn import load

        return load_run(load(text))
    storage = open_storage(location)
    try:
        return read_storage(storage, study, text)
    finally:
        storage.close()


def _pick_study(storage: Storage, study: str | None) -> str:
    if study is not None:
        return study
    names = storage.study_names()
    if AUTOML_STUDY in names:
        return AUTOML_STUDY
    if len(names) == 1:
        return names[0]
    raise ValueError(f"the storage holds {len(names)} studies ({', '.join(names) or 'none'}); name one with study=")


def read_storage(storage: Storage, study: str | None, source: str) -> RunData:
    """The run in ``storage`` (study chosen as in :func:`load_run`); the dashboard calls it on every refresh."""
    name = _pick_study(storage, study)
    info = storage.get_study(name)
    records = storage.trials(name)
    task = info.meta.get("task")
    if task is not None and "metric" in info.meta:
        gib, optimum = _orientation(str(info.meta["metric"]), task)
        # the search writes its final members and phase timings into the study when it ends
        members = _members(info.meta.get("members", []), records)
        return RunData(records, (str(info.meta["metric"]),), (gib,), (optimum,), task, members,
                       dict(info.meta.get("timings", {})), source, name)
    return _study_run(records, tuple(info.directions), source, name)


def _study_run(records: list[TrialRecord], directions: Sequence[str], source: str, name: str) -> RunData:
    n = len(directions)
    names = ("value",) if n == 1 else tuple(f"value {i}" for i in range(n))
    gib = tuple(d == "maximize" for d in directions)
    return RunData(records, names, gib, (0.0,) * n, None, source=source, study=name)


def _orientation(metric: str, task: str) -> tuple[bool, float]:
    """Greater-is-better and optimum of a stored metric name; an unknown (callable) metric is read as
    autolearn reads callables: greater is better, optimum 0 (see ``metrics._optimum_unknown``)."""
    from autolearn.evaluation.metrics import get_metric

    try:
        m = get_metric(metric, task)
    except ValueError:
        return True, 0.0
    return m.greater_is_better, m.optimum


def _members(weights: Iterable[Sequence[Any]], records: Sequence[TrialRecord]) -> list[Member]:
    """(trial id, weight) pairs as Members, heaviest first (trial -1 is the fallback model: not a trial)."""
    by_id = {r.spec.trial_id: r for r in records}
    members = [Member(float(w), int(t), dict(by_id[t].spec.config) if t in by_id else {})
               for t, w in weights if int(t) >= 0]
    return sorted(members, key=lambda m: -m.weight)


def _from_search(search: Any, source: str) -> RunData:
    m = search.metric
    return RunData(list(search.records), (m.name,), (m.greater_is_better,), (m.optimum,), search.task,
                   _members([(t, w) for w, _, t in search.members], search.records), dict(search.timings), source)


def run_leaderboard(run: RunData, top: int | None = None) -> pd.DataFrame:
    """Ranked finished trials: autolearn's leaderboard for AutoML runs, values and configs for studies."""
    if run.is_automl:
        from autolearn.leaderboard import leaderboard

        weights = {m.trial_id: m.weight for m in run.members}
        board = leaderboard(run.records, _Named(run.metric), weights)
        if not run.members:  # weights live in the fitted model; from the run history they would all read 0
            board = board.drop(columns="ensemble_weight")
        return board if top is None else board.head(top)
    rows = []
    for r in run.finished():
        res = r.result
        assert res is not None
        row: dict[str, Any] = {"trial": r.spec.trial_id}
        for i, name in enumerate(run.objectives):
            row[name] = run.score(res.values[i], i) if len(res.values) > i else math.nan
        row.update({"budget": r.spec.budget, "status": res.status.value, "duration": res.duration,
                    "config": ", ".join(f"{k}={_short(v)}" for k, v in r.spec.config.items()),
                    "_order": (not res.ok, -r.spec.budget, res.loss)})
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=["rank", "trial", *run.objectives, "budget", "status", "duration", "config"])
    frame = pd.DataFrame(rows).sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame if top is None else frame.head(top)


def worked(run: RunData) -> list[TrialRecord]:
    """Finished trials (refits included) that ran on a worker: those with a start time, less the ones
    cancelled before any worker took them (no worker name), which used no worker time."""
    return [r for r in run.finished(include_refits=True) if r.result is not None and r.result.started > 0
            and not (r.result.status.value == "cancelled" and not r.result.worker)]


def run_summary(run: RunData) -> dict[str, Any]:
    """Counts, best score and wall-clock facts of a run, for report headers and the dashboard."""
    finished = run.finished()
    statuses: dict[str, int] = {}
    for r in finished:
        statuses[r.result.status.value] = statuses.get(r.result.status.value, 0) + 1  # type: ignore[union-attr]
    best = run.full_budget()
    scores = [run.score(r.result.loss) for r in best]  # type: ignore[union-attr]
    best_score = (max(scores) if run.best_is_max() else min(scores)) if scores else None
    timed = [r.result for r in worked(run)]
    span = (max(t.started + t.duration for t in timed) - min(t.started for t in timed)) if timed else 0.0
    workers = {t.worker or "main" for t in timed}
    busy = sum(t.duration for t in timed)
    return {
        "trials": len([r for r in run.records if r.spec.instance != REFIT]),
        "running": len([r for r in run.records if r.result is None]),
        "statuses": statuses,
        "best_score": best_score,
        "span_seconds": span,
        "workers": len(workers),
        "utilization": busy / (span * len(workers)) if span > 0 and workers else None,
    }


class _Named:
    """The one attribute ``autolearn.leaderboard.leaderboard`` reads from a Metric."""

    def __init__(self, name: str) -> None:
        self.name = name


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


__all__ = ["Member", "NoDataError", "RunData", "load_run", "open_storage", "read_storage", "run_leaderboard", "run_summary", "worked"]
