"""In-memory run history: the default when no storage is given, and the reference the SQL storage matches.

Values are normalised here exactly as the SQL storage's JSON columns would return them (numpy scalars become
Python scalars, tuples inside ``info`` become lists, non-string keys and non-JSON objects are refused), so a
search that works in memory works unchanged on SQLite or PostgreSQL. The helpers at the top are shared with
:mod:`autolearn.storage.sql` for that reason.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from autolearn.records import Limits, Status, Suggestion, TrialRecord, TrialResult, TrialSpec
from autolearn.storage._base import Storage, StudyExistsError, StudyInfo, StudyNotFoundError

DIRECTIONS = ("minimize", "maximize")


def plain(obj: Any, where: str = "value") -> Any:
    """A copy of ``obj`` made of exact JSON types (dict with str keys, list, str, int, float, bool, None).

    Exact types matter: a config's ``3`` must come back as ``int`` and ``3.0`` as ``float`` (a model's
    ``n_estimators`` rejects floats), and a numpy scalar from ConfigSpace must not leak into the history.
    Non-finite floats are kept; the SQL storage encodes them itself.
    """
    if obj is None:
        return None
    if isinstance(obj, bool):  # before int: bool is an int
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, np.generic):
        return plain(obj.item(), where)
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r} is not a string (JSON would silently turn it into one)")
            out[str(key)] = plain(value, f"{where}[{key!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [plain(value, f"{where}[{i}]") for i, value in enumerate(obj)]
    raise TypeError(f"{where} is a {type(obj).__name__} ({obj!r:.80}); the run history stores JSON types and "
                    "numpy scalars only")


def copy_plain(obj: Any) -> Any:
    """Deep copy of data already made :func:`plain`: callers may mutate what they get without touching the store."""
    if isinstance(obj, dict):
        return {key: copy_plain(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [copy_plain(value) for value in obj]
    return obj


def check_name(name: str) -> str:
    """Study names are keys in a unique column of at most 512 characters on every backend."""
    if not isinstance(name, str) or not 0 < len(name) <= 512:
        raise ValueError(f"a study name must be a non-empty string of at most 512 characters, got {name!r:.80}")
    return name


def check_directions(directions: Iterable[str] | str) -> tuple[str, ...]:
    """Validated directions; a bare string is one objective (``tuple("minimize")`` would be 8 letters)."""
    dirs = (directions,) if isinstance(directions, str) else tuple(directions)
    if not dirs or any(d not in DIRECTIONS for d in dirs):
        raise ValueError(f"directions must be a non-empty sequence of {DIRECTIONS}, got {directions!r}")
    return dirs


def check_loaded(stored: StudyInfo, directions: tuple[str, ...]) -> StudyInfo:
    """Resuming a study under other directions would silently invert what the optimizer learns."""
    if stored.directions != directions:
        raise ValueError(f"study {stored.name!r} exists with directions {stored.directions}, not {directions}")
    return stored


def not_found(name: str, names: list[str]) -> StudyNotFoundError:
    existing = ", ".join(repr(n) for n in names) if names else "none"
    return StudyNotFoundError(f"no study named {name!r} in the run history; existing studies: {existing}")


def new_spec(suggestion: Suggestion, trial_id: int, seed: int, limits: Limits) -> TrialSpec:
    """The spec :meth:`Storage.add_trial` stores, with every field coerced to the type it is read back as."""
    return TrialSpec(
        trial_id=trial_id,
        config=plain(suggestion.config, "config"),
        budget=float(suggestion.budget),
        instance=None if suggestion.instance is None else str(suggestion.instance),
        seed=int(seed),
        limits=Limits(*(None if v is None else float(v) for v in (limits.wall_time, limits.memory_mb))),
        origin=str(suggestion.origin),
        parent=None if suggestion.parent is None else int(suggestion.parent),
    )


def clean_result(result: TrialResult) -> TrialResult:
    """The result as it is read back (float values, plain info, a real :class:`Status`)."""
    return TrialResult(
        trial_id=int(result.trial_id),
        status=Status(result.status),
        values=tuple(float(v) for v in result.values),
        duration=float(result.duration),
        started=float(result.started),
        error=str(result.error),
        info=plain(result.info, "info"),
        worker=str(result.worker),
    )


def copy_spec(spec: TrialSpec) -> TrialSpec:
    return dataclasses.replace(spec, config=copy_plain(spec.config))


def copy_record(record: TrialRecord) -> TrialRecord:
    spec = copy_spec(record.spec)
    result = record.result
    if result is not None:
        result = dataclasses.replace(result, info=copy_plain(result.info))
    return TrialRecord(spec, result)


class InMemoryStorage(Storage):
    """Run history in a dict, guarded by a lock so threads of one process can share it.

    Trial ids are list positions, so they are 0, 1, 2, ... per study as in the SQL storage.
    Nothing survives the process: pass a path to :func:`autolearn.storage.get_storage` for that.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._studies: dict[str, StudyInfo] = {}
        self._trials: dict[str, list[TrialRecord]] = {}

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            return {"_studies": self._studies, "_trials": self._trials}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def _require(self, name: str) -> list[TrialRecord]:
        if name not in self._trials:
            raise not_found(name, list(self._studies))
        return self._trials[name]

    def create_study(
        self, name: str, directions: tuple[str, ...], meta: dict[str, Any] | None = None, load_if_exists: bool = False
    ) -> StudyInfo:
        name, dirs, clean_meta = check_name(name), check_directions(directions), plain(meta or {}, "meta")
        with self._lock:
            if name in self._studies:
                if not load_if_exists:
                    raise StudyExistsError(f"study {name!r} already exists; pass load_if_exists=True to resume it")
                return check_loaded(self.get_study(name), dirs)
            self._studies[name] = StudyInfo(name, dirs, clean_meta)
            self._trials[name] = []
            return self.get_study(name)

    def get_study(self, name: str) -> StudyInfo:
        with self._lock:
            self._require(name)
            info = self._studies[name]
            return StudyInfo(info.name, info.directions, copy_plain(info.meta))

    def study_names(self) -> list[str]:
        with self._lock:
            return list(self._studies)

    def update_meta(self, name: str, meta: dict[str, Any]) -> None:
        clean_meta = plain(meta, "meta")
        with self._lock:
            self._require(name)
            info = self._studies[name]
            self._studies[name] = StudyInfo(info.name, info.directions, {**info.meta, **clean_meta})

    def add_trial(self, study: str, suggestion: Suggestion, seed: int, limits: Limits) -> TrialSpec:
        spec = new_spec(suggestion, -1, seed, limits)
        with self._lock:
            records = self._require(study)
            spec = dataclasses.replace(spec, trial_id=len(records))
            records.append(TrialRecord(spec))
        return copy_spec(spec)

    def set_result(self, study: str, result: TrialResult) -> None:
        clean = clean_result(result)
        with self._lock:
            records = self._require(study)
            if not 0 <= clean.trial_id < len(records):
                raise KeyError(f"study {study!r} has no trial {clean.trial_id}")
            record = records[clean.trial_id]
            if record.result is not None:
                raise ValueError(f"trial {clean.trial_id} of study {study!r} already has a result "
                                 f"({record.result.status.value})")
            records[clean.trial_id] = TrialRecord(record.spec, clean)

    def trials(self, study: str) -> list[TrialRecord]:
        with self._lock:
            records = list(self._require(study))
        return [copy_record(r) for r in records]

    def n_trials(self, study: str) -> int:
        with self._lock:
            return len(self._require(study))

    def running(self, study: str) -> list[TrialSpec]:
        with self._lock:
            specs = [r.spec for r in self._require(study) if r.result is None]
        return [copy_spec(s) for s in specs]

    def trial(self, study: str, trial_id: int) -> TrialRecord:
        with self._lock:
            records = self._require(study)
            if not 0 <= trial_id < len(records):
                raise KeyError(f"study {study!r} has no trial {trial_id}")
            record = records[trial_id]
        return copy_record(record)
