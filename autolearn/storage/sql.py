"""Run history in a SQL database through SQLAlchemy Core: a SQLite file by default, any SQLAlchemy URL otherwise.

Why it is built this way:

* Several processes (parallel searches, Dask workers) write to one store, so trial ids are allocated inside a
  write transaction: on SQLite every write starts with ``BEGIN IMMEDIATE`` (the writer waits for the lock up
  to ``timeout`` instead of failing with "database is locked" when a read transaction would need upgrading),
  on server databases the study row is locked ``FOR UPDATE``; a duplicate key is retried as a last resort.
* SQLite runs in WAL mode so readers (a dashboard, a resumed search) never block the writers.
* Every write is its own committed transaction: a search killed with SIGKILL loses no acknowledged result.
* JSON is kept as text we encode ourselves, identical on every backend: JSON has no NaN/Infinity (and
  PostgreSQL's json type rejects them), so non-finite floats are written as ``{"__float__": "inf"}``;
  Python's json keeps ``1`` an int and ``1.0`` a float, so configs come back with their exact types.
* Core rather than the ORM: reading 10,000 trials is one SELECT turned into frozen records, nothing to track.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from autolearn.records import Limits, Status, Suggestion, TrialRecord, TrialResult, TrialSpec
from autolearn.storage._base import Storage, StudyExistsError, StudyInfo
from autolearn.storage.memory import (
    check_directions,
    check_loaded,
    check_name,
    clean_result,
    copy_plain,
    new_spec,
    not_found,
    plain,
)

SCHEMA_VERSION = 1
_FLOAT = "__float__"
_RETRIES = 20  # add_trial retries: a duplicate id (backends without FOR UPDATE) or a serialization failure


def _encode(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return {_FLOAT: "nan" if obj != obj else ("inf" if obj > 0 else "-inf")}
    if isinstance(obj, dict):
        return {key: _encode(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_encode(value) for value in obj]
    return obj


def _decode_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _FLOAT in obj:
        return float(obj[_FLOAT])
    return obj


def dumps(obj: Any) -> str:
    """Strict JSON text of :func:`~autolearn.storage.memory.plain` data, non-finite floats encoded."""
    return json.dumps(_encode(obj), allow_nan=False, separators=(",", ":"))


_DECODER = json.JSONDecoder(object_hook=_decode_object)  # one decoder: json.loads(object_hook=) builds one per call


class JSONText(sa.types.TypeDecorator):
    """A JSON column stored as text (see the module docstring for why not the backends' JSON types)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else _DECODER.decode(value)


metadata = sa.MetaData()

studies = sa.Table(
    "studies", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(512), nullable=False, unique=True),
    sa.Column("directions", JSONText, nullable=False),
    sa.Column("meta", JSONText, nullable=False),
    sa.Column("created", sa.Float, nullable=False),  # unix time, like TrialResult.started
)

# Float columns are nullable because SQLite stores NaN as NULL; it is read back as NaN.
trials = sa.Table(
    "trials", metadata,
    sa.Column("study_id", sa.Integer, sa.ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("trial_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("config", JSONText, nullable=False),
    sa.Column("budget", sa.Float),
    sa.Column("instance", sa.Text),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("limits", JSONText, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("parent", sa.Integer),
    sa.Column("status", sa.String(16)),  # NULL while the trial runs
    sa.Column("values", JSONText),
    sa.Column("duration", sa.Float),
    sa.Column("started", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("info", JSONText),
    sa.Column("worker", sa.Text),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

# Named for us: Optuna's RDB storage also has tables "studies", "trials" and "version_info".
version_table = sa.Table(
    "autolearn_version", metadata,
    sa.Column("schema_version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("library_version", sa.String(64), nullable=False),
)

# JSON columns are read as raw text and decoded in _records, which is the hot path of reading a study.
_TRIAL_COLUMNS = [sa.type_coerce(trials.c[name], sa.Text).label(name)
                  if isinstance(trials.c[name].type, JSONText) else trials.c[name] for name in (
                      "trial_id", "config", "budget", "instance", "seed", "limits", "origin", "parent",
                      "status", "values", "duration", "started", "error", "info", "worker")]
_STATUS = {status.value: status for status in Status}


def _is_transient(error: sa.exc.DBAPIError) -> bool:
    """A serialization failure or deadlock (PostgreSQL under REPEATABLE READ or SERIALIZABLE): just run again."""
    return getattr(error.orig, "pgcode", None) in ("40001", "40P01")


def _float(value: float | None) -> float:
    return math.nan if value is None else value


def _records(rows: list[sa.Row]) -> list[TrialRecord]:
    """Rows of :data:`_TRIAL_COLUMNS` as records, built by hand because a search re-reads its whole history
    (10,000 trials in a fraction of a second): one shared JSON decoder without decode()'s whitespace scan (we
    write compact JSON), one :class:`Limits` per distinct limits text (a search's trials nearly always share
    theirs), and the cyclic GC paused: these objects hold no cycles, yet its passes over the growing list
    were half the time."""
    decode = _DECODER.raw_decode
    limits_of: dict[str, Limits] = {}
    records = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for (trial_id, config, budget, instance, seed, limits, origin, parent,
             status, values, duration, started, error, info, worker) in rows:
            spec_limits = limits_of.get(limits)
            if spec_limits is None:
                fields = decode(limits)[0]
                spec_limits = limits_of[limits] = Limits(fields.get("wall_time"), fields.get("memory_mb"))
            spec = TrialSpec(trial_id, decode(config)[0], _float(budget), instance, seed, spec_limits, origin, parent)
            if status is None:
                records.append(TrialRecord(spec))
                continue
            result = TrialResult(trial_id, _STATUS[status], tuple(decode(values)[0]), _float(duration),
                                 _float(started), error or "", decode(info)[0] if info is not None else {},
                                 worker or "")
            records.append(TrialRecord(spec, result))
    finally:
        if gc_was_enabled:
            gc.enable()
    return records


def resolve_url(target: str | os.PathLike[str] | sa.URL) -> sa.URL:
    """A SQLAlchemy URL for a path or URL; SQLite paths are made absolute and their directory created.

    Absolute, so a storage pickled to a worker with another working directory opens the same file.
    """
    if isinstance(target, sa.URL):
        url = target
    elif isinstance(target, os.PathLike) or "://" not in str(target):
        url = sa.URL.create("sqlite", database=os.fspath(target))
    else:
        url = sa.make_url(str(target))
    if url.get_backend_name() != "sqlite":
        return url
    if url.database in (None, "", ":memory:") or str(url.database).startswith("file:"):
        raise ValueError(f"{url} is an in-memory or URI SQLite database; use a file path, or no storage "
                         "(get_storage(None)) for an in-memory run history")
    path = Path(url.database).expanduser().resolve()
    if path.is_dir():
        raise IsADirectoryError(f"the SQLite run history {path} is a directory; give a file path such as "
                                f"{path / 'history.sqlite'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot create the directory {path.parent} for the SQLite run history {path}: "
                      f"{e.strerror or e}") from e
    return url.set(database=str(path))


class SQLStorage(Storage):
    """Run history in a SQL database (SQLite file or any SQLAlchemy URL, e.g. ``postgresql+psycopg2://...``).

    Parameters
    ----------
    url : str or Path
        A file path (SQLite; its directory is created) or a SQLAlchemy URL.
    engine_kwargs : dict, optional
        Extra arguments for :func:`sqlalchemy.create_engine`.
    timeout : float, default=120
        Seconds a SQLite writer waits for another process's write to finish before failing.

    The storage can be pickled to other processes (it reconnects there) and survives ``fork``: a child never
    reuses the parent's connections.
    """

    def __init__(self, url: str | os.PathLike[str] | sa.URL, engine_kwargs: dict[str, Any] | None = None,
                 timeout: float = 120.0) -> None:
        self.url = resolve_url(url)
        self._engine_kwargs = dict(engine_kwargs or {})
        self._timeout = float(timeout)
        self._engine: sa.Engine | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._create_schema()

    def __repr__(self) -> str:
        return f"SQLStorage({self.url.render_as_string(hide_password=True)!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "engine_kwargs": self._engine_kwargs, "timeout": self._timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Connect lazily in the new process; the schema was checked where the storage was made."""
        self.url, self._engine_kwargs, self._timeout = state["url"], state["engine_kwargs"], state["timeout"]
        self._engine, self._pid, self._lock = None, 0, threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


    def _get_engine(self) -> sa.Engine:
        with self._lock:
            if self._engine is None or self._pid != os.getpid():
                if self._engine is not None:  # forked: the parent's connections are not ours to use or close
                    self._engine.dispose(close=False)
                self._engine = self._make_engine()
                self._pid = os.getpid()
            return self._engine

    def _make_engine(self) -> sa.Engine:
        kwargs = dict(self._engine_kwargs)
        if not self.is_sqlite:
            kwargs.setdefault("pool_pre_ping", True)  # searches run for hours; servers drop idle connections
            return sa.create_engine(self.url, **kwargs)
        kwargs["connect_args"] = {"timeout": self._timeout, "check_same_thread": False,
                                  **kwargs.get("connect_args", {})}
        engine = sa.create_engine(self.url, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")  # persistent; a no-op once the file is in WAL mode
            cursor.execute("PRAGMA synchronous = FULL")  # a commit is on disk, not only in the OS cache
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            # IMMEDIATE takes the write lock up front (waiting for it under busy_timeout); a deferred
            # transaction that reads and then writes can fail at once with "database is locked".
            write = conn.get_execution_options().get("autolearn_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[sa.Connection]:
        """One committed transaction; ``write`` takes SQLite's write lock at BEGIN."""
        with self._get_engine().connect() as conn:
            if write:
                conn.execution_options(autolearn_write=True)
            with conn.begin():
                yield conn

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose(close=self._pid == os.getpid())
                self._engine = None


    def _create_schema(self) -> None:
        from autolearn import __version__  # here: the package imports its estimators, which import storage
        for attempt in range(5):
            try:
                with self._transaction(write=True) as conn:
                    names = set(sa.inspect(conn).get_table_names())
                    if version_table.name not in names and names & {"studies", "trials"}:
                        raise ValueError(f"{self!r} holds 'studies'/'trials' tables that autolearn did not create "
                                         "(an Optuna storage?); use another database or file")
                    metadata.create_all(conn)
                    stored = conn.execute(sa.select(sa.func.max(version_table.c.schema_version))).scalar()
                    if stored is None:
                        conn.execute(sa.insert(version_table).values(
                            schema_version=SCHEMA_VERSION, library_version=__version__))
                    elif stored > SCHEMA_VERSION:
                        raise RuntimeError(f"{self!r} was written by a newer autolearn (schema {stored}, this "
                                           f"version reads {SCHEMA_VERSION}); upgrade autolearn")
                return
            except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
                if attempt == 4:  # another process created the tables at the same moment: look again
                    raise
                time.sleep(0.05 * (attempt + 1))
            except sa.exc.OperationalError as e:
                if self.is_sqlite and "unable to open" in str(e):
                    raise OSError(f"cannot open the SQLite run history {self.url.database}: {e.orig}") from e
                raise


    def _study_id(self, conn: sa.Connection, name: str, lock: bool = False) -> int:
        query = sa.select(studies.c.id).where(studies.c.name == name)
        study_id = conn.execute(query.with_for_update() if lock else query).scalar()
        if study_id is None:
            raise not_found(name, list(conn.execute(sa.select(studies.c.name).order_by(studies.c.id)).scalars()))
        return study_id

    def create_study(
        self, name: str, directions: tuple[str, ...], meta: dict[str, Any] | None = None, load_if_exists: bool = False
    ) -> StudyInfo:
        name, dirs, clean_meta = check_name(name), check_directions(directions), plain(meta or {}, "meta")
        try:
            with self._transaction(write=True) as conn:
                exists = conn.execute(sa.select(studies.c.id).where(studies.c.name == name)).first() is not None
                if not exists:
                    conn.execute(sa.insert(studies).values(name=name, directions=list(dirs), meta=clean_meta,
                                                           created=time.time()))
        except sa.exc.IntegrityError:  # a concurrent writer created it between our check and insert
            exists = True
        if exists:
            if not load_if_exists:
                raise StudyExistsError(f"study {name!r} already exists; pass load_if_exists=True to resume it")
            return check_loaded(self.get_study(name), dirs)
        return StudyInfo(name, dirs, copy_plain(clean_meta))

    def get_study(self, name: str) -> StudyInfo:
        with self._transaction() as conn:
            row = conn.execute(sa.select(studies.c.directions, studies.c.meta).where(studies.c.name == name)).first()
            if row is None:
                self._study_id(conn, name)  # raises, naming the studies that exist
        return StudyInfo(name, tuple(row[0]), row[1])

    def study_names(self) -> list[str]:
        with self._transaction() as conn:
            return list(conn.execute(sa.select(studies.c.name).order_by(studies.c.id)).scalars())

    def update_meta(self, name: str, meta: dict[str, Any]) -> None:
        clean_meta = plain(meta, "meta")
        with self._transaction(write=True) as conn:
            study_id = self._study_id(conn, name, lock=True)
            old = conn.execute(sa.select(studies.c.meta).where(studies.c.id == study_id)).scalar_one()
            conn.execute(sa.update(studies).where(studies.c.id == study_id).values(meta={**old, **clean_meta}))


    def add_trial(self, study: str, suggestion: Suggestion, seed: int, limits: Limits) -> TrialSpec:
        spec = new_spec(suggestion, -1, seed, limits)
        now = time.time()
        row = {"config": spec.config, "budget": spec.budget, "instance": spec.instance, "seed": spec.seed,
               "limits": {"wall_time": spec.limits.wall_time, "memory_mb": spec.limits.memory_mb},
               "origin": spec.origin, "parent": spec.parent, "created": now, "updated": now}
        for attempt in range(_RETRIES):
            try:
                with self._transaction(write=True) as conn:
                    study_id = self._study_id(conn, study, lock=True)  # serialises id allocation per study
                    trial_id = conn.execute(
                        sa.select(sa.func.coalesce(sa.func.max(trials.c.trial_id), -1) + 1)
                        .where(trials.c.study_id == study_id)).scalar_one()
                    conn.execute(sa.insert(trials).values(study_id=study_id, trial_id=trial_id, **row))
                return replace(spec, trial_id=int(trial_id), config=copy_plain(spec.config))
            except (sa.exc.IntegrityError, sa.exc.OperationalError) as e:
                if attempt == _RETRIES - 1 or not (isinstance(e, sa.exc.IntegrityError) or _is_transient(e)):
                    raise
                time.sleep(random.uniform(0.001, 0.01 * (attempt + 1)))
        raise AssertionError("unreachable")

    def set_result(self, study: str, result: TrialResult) -> None:
        clean = clean_result(result)
        if not 0 <= clean.trial_id < 2**31:  # beyond the INTEGER column: PostgreSQL would raise a DataError
            raise KeyError(f"study {study!r} has no trial {clean.trial_id}")
        key = (trials.c.trial_id == clean.trial_id)
        with self._transaction(write=True) as conn:
            study_id = self._study_id(conn, study)
            key = key & (trials.c.study_id == study_id)
            # "status IS NULL" makes the once-only rule atomic even when two processes race to report.
            updated = conn.execute(sa.update(trials).where(key & trials.c.status.is_(None)).values(
                status=clean.status.value, values=list(clean.values), duration=clean.duration,
                started=clean.started, error=clean.error, info=clean.info, worker=clean.worker,
                updated=time.time())).rowcount
            if updated != 1:
                status = conn.execute(sa.select(trials.c.status).where(key)).first()
                if status is None:
                    raise KeyError(f"study {study!r} has no trial {clean.trial_id}")
                raise ValueError(f"trial {clean.trial_id} of study {study!r} already has a result ({status[0]})")

    def trials(self, study: str) -> list[TrialRecord]:
        return self._select(study)

    def _select(self, study: str, where: Any = None) -> list[TrialRecord]:
        with self._transaction() as conn:
            study_id = self._study_id(conn, study)
            key = trials.c.study_id == study_id
            rows = conn.execute(sa.select(*_TRIAL_COLUMNS).where(key if where is None else key & where)
                                .order_by(trials.c.trial_id)).all()
        return _records(rows)

    def n_trials(self, study: str) -> int:
        with self._transaction() as conn:
            study_id = self._study_id(conn, study)
            return int(conn.execute(sa.select(sa.func.count()).select_from(trials)
                                    .where(trials.c.study_id == study_id)).scalar_one())

    def running(self, study: str) -> list[TrialSpec]:
        return [r.spec for r in self._select(study, trials.c.status.is_(None))]

    def trial(self, study: str, trial_id: int) -> TrialRecord:
        found = self._select(study, trials.c.trial_id == trial_id) if 0 <= trial_id < 2**31 else []
        if not found:
            raise KeyError(f"study {study!r} has no trial {trial_id}")
        return found[0]
