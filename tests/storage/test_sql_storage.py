"""SQL storage beyond the interface contract: several processes, SIGKILL, paths and URLs, pickling, size."""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import pickle
import signal
import sqlite3
import threading
import time
import traceback

import pytest
import sqlalchemy as sa

from autolearn.records import Limits, Status, Suggestion, TrialResult
from autolearn.storage import SQLStorage, get_storage
from autolearn.storage.sql import SCHEMA_VERSION, trials, version_table

# fork: the children inherit the imported modules (a spawned child would spend seconds importing autolearn),
# and it exercises the storage's rule of never reusing the parent's connections.
FORK = mp.get_context("fork")


def _write_trials(url: str, study: str, n: int, worker: int, go, ack_fd: int) -> None:
    """Child process: ``n`` trials with results, acknowledging each id on ``ack_fd`` once set_result returned."""
    try:
        storage = SQLStorage(url)
        go.wait(30)
        for i in range(n):
            spec = storage.add_trial(study, Suggestion({"worker": worker, "i": i}), i, Limits())
            storage.set_result(study, TrialResult(spec.trial_id, Status.SUCCESS, (spec.trial_id * 0.5,),
                                                  worker=f"w{worker}"))
            os.write(ack_fd, f"{spec.trial_id}\n".encode())
        storage.close()
    except BaseException:
        traceback.print_exc()
        os._exit(1)


def _read_acks(read_fd: int) -> list[int]:
    with os.fdopen(read_fd, "rb") as pipe:
        return [int(line) for line in pipe.read().split()]


def test_parallel_writer_processes(sql_url):
    """4 processes x 50 trials into one store: no "database is locked", no collision, nothing lost."""
    n_procs, per_proc = 4, 50
    SQLStorage(sql_url).create_study("s", ("minimize",))
    go = FORK.Event()
    read_fd, write_fd = os.pipe()
    procs = [FORK.Process(target=_write_trials, args=(sql_url, "s", per_proc, k, go, write_fd))
             for k in range(n_procs)]
    for p in procs:
        p.start()
    os.close(write_fd)
    go.set()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * n_procs, "a writer process failed (its traceback is above)"
    acked = _read_acks(read_fd)

    records = SQLStorage(sql_url).trials("s")
    ids = [r.spec.trial_id for r in records]
    assert ids == list(range(n_procs * per_proc)), "ids must be distinct and gap-free"
    assert sorted(acked) == ids
    assert {(r.spec.config["worker"], r.spec.config["i"]) for r in records} == {
        (k, i) for k in range(n_procs) for i in range(per_proc)}
    for r in records:
        assert r.result is not None and r.result.values == (r.spec.trial_id * 0.5,)
        assert r.result.worker == f"w{r.spec.config['worker']}"


def test_sigkill_loses_no_acknowledged_result(sql_url):
    """A writer killed mid-way: every trial whose set_result returned is there after reopening."""
    SQLStorage(sql_url).create_study("s", ("minimize",))
    go = FORK.Event()
    go.set()
    read_fd, write_fd = os.pipe()
    child = FORK.Process(target=_write_trials, args=(sql_url, "s", 100_000, 0, go, write_fd))
    child.start()
    os.close(write_fd)
    acked: list[int] = []
    with os.fdopen(read_fd, "rb") as pipe:
        while len(acked) < 40:
            line = pipe.readline()
            assert line, f"the writer died early (exit code {child.exitcode})"
            acked.append(int(line))
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        acked += [int(line) for line in pipe.read().split()]  # acknowledged before the kill, still in the pipe
    assert child.exitcode == -signal.SIGKILL

    reopened = SQLStorage(sql_url)
    records = {r.spec.trial_id: r for r in reopened.trials("s")}
    missing = [i for i in acked if i not in records or records[i].result is None]
    assert not missing, f"acknowledged trials lost after SIGKILL: {missing}"
    assert len(records) - len(acked) <= 1, "at most the trial being written when killed is unacknowledged"
    spec = reopened.add_trial("s", Suggestion({}), 0, Limits())  # the store is still writable
    assert spec.trial_id == max(records) + 1


def test_storage_survives_fork_and_pickle(sql_url):
    """A storage handed to a worker by fork or by pickle reconnects there instead of sharing connections."""
    storage = SQLStorage(sql_url)
    storage.create_study("s", ("minimize",))
    storage.add_trial("s", Suggestion({"x": 1}), 0, Limits())  # the parent now holds pooled connections

    def child() -> None:
        spec = storage.add_trial("s", Suggestion({"x": 2}), 0, Limits())
        storage.set_result("s", TrialResult(spec.trial_id, Status.SUCCESS, (1.0,)))
        os._exit(0)

    proc = FORK.Process(target=child)
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.url == storage.url
    assert [r.spec.config["x"] for r in clone.trials("s")] == [1, 2]
    assert [r.result is not None for r in storage.trials("s")] == [False, True]  # parent's pool still works
    storage.close()
    clone.close()


def test_reads_ten_thousand_trials(sql_url):
    """A large study reads back complete and in order (its speed is measured by a benchmark, not here)."""
    storage = SQLStorage(sql_url)
    storage.create_study("big", ("minimize",))
    spec = storage.add_trial("big", Suggestion({"x": 0.5, "n": 1, "model": "tree"}), 0, Limits(60.0))
    storage.set_result("big", TrialResult(spec.trial_id, Status.SUCCESS, (0.1,), 1.0, 1.0, info={"a": [1.0]}))
    with storage._get_engine().begin() as conn:  # bulk copies of that row: 10,000 one-by-one commits are slow
        row = conn.execute(sa.select(trials).where(trials.c.trial_id == 0)).mappings().one()
        rows = [{**row, "trial_id": i, "values": [i * 1e-3, math.inf]} for i in range(1, 10_000)]
        conn.execute(sa.insert(trials), rows)
    records = storage.trials("big")
    assert [r.spec.trial_id for r in records] == list(range(10_000))
    assert records[-1].result.values == (9.999, math.inf) and records[-1].spec.config["n"] == 1


def test_paths_and_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = get_storage("run_dir/nested/history.sqlite")  # directory created, path made absolute
    assert isinstance(relative, SQLStorage) and relative.url.database == str(tmp_path / "run_dir/nested/history.sqlite")
    relative.create_study("s", ("minimize",))
    assert get_storage(tmp_path / "run_dir/nested/history.sqlite").study_names() == ["s"]
    assert get_storage(f"sqlite:///{tmp_path}/run_dir/nested/history.sqlite").study_names() == ["s"]
    assert get_storage("sqlite:///rel.sqlite").url.database == str(tmp_path / "rel.sqlite")
    with sqlite3.connect(tmp_path / "run_dir/nested/history.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_uncreatable_location_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match="cannot create the directory .*a_file"):
        SQLStorage(blocker / "sub" / "history.sqlite")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        SQLStorage(tmp_path)
    with pytest.raises(ValueError, match="in-memory"):
        SQLStorage("sqlite://")


def test_refuses_foreign_tables_and_newer_schema(tmp_path):
    foreign = tmp_path / "optuna.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name TEXT)")
    with pytest.raises(ValueError, match="did not create"):
        SQLStorage(foreign)

    path = tmp_path / "new.sqlite"
    storage = SQLStorage(path)
    with storage._get_engine().begin() as conn:
        conn.execute(sa.update(version_table).values(schema_version=SCHEMA_VERSION + 1))
    storage.close()
    with pytest.raises(RuntimeError, match="newer autolearn"):
        SQLStorage(path)


def test_repr_hides_password():
    url = "postgresql+psycopg2://user:secret@localhost:1/db"
    storage = SQLStorage.__new__(SQLStorage)
    storage.url = sa.make_url(url)
    assert "secret" not in repr(storage)


def test_get_storage_dispatch(tmp_path):
    from autolearn.storage import InMemoryStorage

    memory = get_storage(None)
    assert isinstance(memory, InMemoryStorage)
    assert get_storage(memory) is memory
    with pytest.raises(TypeError, match="storage must be"):
        get_storage(42)  # type: ignore[arg-type]


def test_write_waits_for_a_held_lock(tmp_path):
    """A writer blocked by another connection's open write transaction waits instead of failing."""
    path = tmp_path / "h.sqlite"
    storage = SQLStorage(path)
    storage.create_study("s", ("minimize",))
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.5, blocker.execute, ("COMMIT",))
    timer.start()
    start = time.monotonic()
    spec = storage.add_trial("s", Suggestion({}), 0, Limits())
    assert spec.trial_id == 0 and time.monotonic() - start >= 0.4
    timer.join()
    blocker.close()


def test_get_storage_opens_urls(sql_url):
    storage = get_storage(sql_url)
    assert isinstance(storage, SQLStorage) and storage.url == sa.make_url(sql_url)
    storage.create_study("s", ("minimize",))
    assert get_storage(sql_url).study_names() == ["s"]
