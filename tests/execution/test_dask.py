"""DaskRunner on a 2-worker LocalCluster: the search loop runs on it unchanged, limits and crashes end as
they do on LocalRunner, a killed Dask worker costs one CRASHED trial and never the search."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import cloudpickle
import numpy as np
import psutil
import pytest

pytest.importorskip("distributed", reason="dask[distributed] is not installed (pip install 'autolearn[dask]')")

from autolearn.execution import LocalRunner  # noqa: E402
from autolearn.execution.dask import DaskRunner  # noqa: E402
from autolearn.records import Limits, Outcome, Status, TrialSpec  # noqa: E402
from autolearn.storage import SQLStorage, get_storage  # noqa: E402
from autolearn.tune.budget import Budget  # noqa: E402
from autolearn.tune.loop import run_search  # noqa: E402
from autolearn.tune.optimizers import make_optimizer  # noqa: E402
from autolearn.tune.space import as_configspace  # noqa: E402

# objectives travel by value: a trial's child would otherwise import this module, and with it distributed
cloudpickle.register_pickle_by_value(sys.modules[__name__])

POSTGRES_ENV = "AUTOLEARN_TEST_POSTGRES_URL"
SPACE = {"x": ("float", -5.0, 5.0)}


@pytest.fixture(scope="module")
def runner():
    try:
        r = DaskRunner(n_workers=2)
    except Exception as exc:  # noqa: BLE001 - no sockets, no processes, ...: say why and skip
        pytest.skip(f"distributed could not start a 2-worker LocalCluster on 127.0.0.1 here: {exc!r}")
    yield r
    r.close()


def misbehave(spec):
    kind = spec.config["kind"]
    if kind == "segfault":
        ctypes.string_at(0)
    if kind == "hang":
        time.sleep(1000)
    if kind == "raise":
        raise RuntimeError("objective failed on purpose")
    if kind == "reserve":
        return np.empty(10**12)  # the address-space cap turns this into a MemoryError
    time.sleep(spec.config.get("sleep", 0.0))
    return Outcome((spec.config.get("value", 1.0),), {"pid": os.getpid()})


def collect(runner, timeout: float = 60.0) -> dict[int, object]:
    results, end = {}, time.monotonic() + timeout
    while runner.running():
        assert time.monotonic() < end, f"trials still running after {timeout} s: {runner.running()}"
        for done in runner.wait(timeout=5):
            results[done.spec.trial_id] = done.result
    return results


def search(runner, objective, storage, study: str, n_trials: int, limits: Limits | None = None) -> int:
    storage.create_study(study, ("minimize",), load_if_exists=True)
    optimizer = make_optimizer("random", as_configspace(SPACE, seed=0), seed=0)
    return run_search(optimizer=optimizer, runner=runner, objective=objective, storage=storage, study=study,
                      budget=Budget(max_trials=n_trials), limits=limits or Limits(30, None), seed=0, poll=0.5)


def quadratic(spec):
    time.sleep(0.3)
    return (spec.config["x"] - 2.0) ** 2


def overlap(results) -> int:
    """Most trials running at the same moment."""
    edges = sorted([(r.started, 1) for r in results] + [(r.started + r.duration, -1) for r in results])
    running = best = 0
    for _, step in edges:
        running += step
        best = max(best, running)
    return best


def test_cluster_listens_on_loopback_only(runner):
    info = runner.client.scheduler_info()
    assert runner.n_workers == 2 and runner.dashboard_link.startswith("http://127.0.0.1:")
    pids = list(runner.client.run(os.getpid).values()) + list(runner.client.run(os.getpid, nanny=True).values())
    ports = {int(a.rsplit(":", 1)[1]) for a in [info["address"], *info["workers"]]}
    ports.add(info["services"]["dashboard"])
    listening = []
    for proc in [psutil.Process(pid) for pid in pids] + [psutil.Process()]:
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and (proc.pid != os.getpid() or conn.laddr.port in ports):
                listening.append(conn.laddr.ip)
    assert listening and set(listening) <= {"127.0.0.1"}, listening


def test_run_search_finishes_the_trial_count_on_both_workers(runner):
    storage = get_storage(None)
    assert search(runner, quadratic, storage, "count", n_trials=10) == 10
    results = [r.result for r in storage.trials("count")]
    assert len(results) == 10 and all(r is not None and r.status is Status.SUCCESS for r in results)
    assert len({r.worker for r in results}) == 2
    assert overlap(results) == 2  # as many at once as there are worker threads, never more
    assert runner.running() == []


def test_limits_and_crashes_end_as_on_local_runner(runner):
    kinds = ["segfault", "hang", "raise", "reserve", "ok"]
    limits = Limits(wall_time=3.0, memory_mb=500)
    outcomes = {}
    with LocalRunner(1) as local:
        for name, r in (("local", local), ("dask", runner)):
            for i, kind in enumerate(kinds):
                r.submit(misbehave, TrialSpec(i, {"kind": kind, "value": 0.5}, limits=limits))
            outcomes[name] = collect(r)
    expected = [Status.CRASHED, Status.TIMEOUT, Status.FAILED, Status.MEMOUT, Status.SUCCESS]
    for name, results in outcomes.items():
        assert [results[i].status for i in range(len(kinds))] == expected, name
    for i in range(len(kinds)):  # the same reason word for word, apart from tracebacks' line numbers
        local, dask = outcomes["local"][i], outcomes["dask"][i]
        assert local.error.splitlines()[-1:] == dask.error.splitlines()[-1:]
    assert outcomes["dask"][4].values == (0.5,) and outcomes["dask"][4].info["pid"] != os.getpid()
    assert "SIGSEGV" in outcomes["dask"][0].error and "time limit of 3.0 s" in outcomes["dask"][1].error


def test_wait_returns_at_its_timeout_and_at_once_when_idle(runner):
    start = time.monotonic()
    assert runner.wait(timeout=1.0) == [] and time.monotonic() - start < 0.5
    runner.submit(misbehave, TrialSpec(0, {"kind": "ok", "sleep": 3.0}))
    start = time.monotonic()
    assert runner.wait(timeout=0.5) == []
    assert 0.4 <= time.monotonic() - start < 2.5
    assert collect(runner)[0].ok


def test_a_free_worker_never_waits_for_a_slow_one(runner):
    runner.submit(misbehave, TrialSpec(0, {"kind": "ok", "sleep": 4.0}))
    for i in range(1, 6):
        runner.submit(misbehave, TrialSpec(i, {"kind": "ok", "sleep": 0.1}))
    assert runner.free_slots == 0
    order = []
    while runner.running():
        order += [done.spec.trial_id for done in runner.wait(timeout=10)]
    assert order[-1] == 0 and sorted(order) == list(range(6))


def test_cancel_all_stops_running_and_queued_trials(runner):
    for i in range(3):
        runner.submit(misbehave, TrialSpec(i, {"kind": "hang"}, limits=Limits(600, None)))
    assert runner.wait(timeout=1.0) == []
    cancelled = runner.cancel_all()
    assert sorted(c.spec.trial_id for c in cancelled) == [0, 1, 2]
    assert all(c.result.status is Status.CANCELLED for c in cancelled) and runner.running() == []
    # the hanging children were killed: both worker threads take new trials at once
    start = time.monotonic()
    for i in range(2):
        runner.submit(misbehave, TrialSpec(10 + i, {"kind": "ok", "sleep": 0.5}))
    assert all(r.ok for r in collect(runner, timeout=20).values())
    assert time.monotonic() - start < 15


def test_a_scheduler_without_workers_is_reported_not_waited_on_forever(monkeypatch):
    import distributed

    import autolearn.execution.dask as dask_runner

    monkeypatch.setattr(dask_runner, "WORKER_WAIT_SECONDS", 1.0)
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as empty:
        with pytest.raises(RuntimeError, match="no Dask worker joined the scheduler at tcp://127.0.0.1:.*dask worker"):
            DaskRunner(address=empty.scheduler_address)


class ReadsDataFile:
    """Like the AutoML Evaluator: holds only the path of a data file written on the client."""

    def __init__(self, data_path: str) -> None:
        self.data_path = data_path

    def __call__(self, spec):
        payload = Path(self.data_path).read_bytes()
        return Outcome((float(len(payload)),), {"path": self.data_path, "head": payload[:5].decode()})


def test_data_file_is_shipped_to_workers_that_cannot_see_it(runner, tmp_path):
    path = tmp_path / "data.pkl"
    path.write_bytes(b"hello" + bytes(50_000))
    shipping = DaskRunner(client=runner.client, n_workers=1, ship_data=True)
    objective = ReadsDataFile(str(path))
    assert shipping.n_workers == 1  # on a cluster it did not start, n_workers caps the trials at once
    try:
        shipping.submit(objective, TrialSpec(0, {}))
        path.unlink()  # from now on only the shipped copy exists
        shipping.submit(objective, TrialSpec(1, {}))
        results = collect(shipping)
    finally:
        shipping.close()
    assert runner.client.status == "running"  # a runner never closes a client it was given
    for result in results.values():
        assert result.ok, result.error
        assert result.values == (50_005.0,) and result.info["head"] == "hello"
        assert result.info["path"].startswith(os.path.join(tempfile.gettempdir(), "autolearn-dask"))
    assert not Path(results[0].info["path"]).exists()  # removed when the runner closed


def test_run_search_writes_to_postgresql(runner):
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set, the PostgreSQL run over Dask is skipped "
                    "(e.g. postgresql+psycopg2://autolearn:autolearn@127.0.0.1:5432/autolearn_test)")
    study = f"dask-{uuid.uuid4().hex[:8]}"  # its own study: other tests may share the database
    storage = SQLStorage(url)
    try:
        assert search(runner, quadratic, storage, study, n_trials=6) == 6
    finally:
        storage.close()
    reopened = SQLStorage(url)
    try:
        records = reopened.trials(study)
    finally:
        reopened.close()
    assert [r.spec.trial_id for r in records] == list(range(6))
    assert all(r.result is not None and r.result.ok for r in records)


class SlowTrialThree:
    """Trial 3 hangs (its Dask worker gets killed meanwhile); each trial leaves a note of its processes."""

    def __init__(self, notes: str) -> None:
        self.notes = notes

    def __call__(self, spec):
        me = psutil.Process()
        note = {"child": me.pid, "ancestors": [p.pid for p in me.parents()]}
        Path(self.notes, f"{spec.trial_id}.json").write_text(json.dumps(note))
        time.sleep(1000 if spec.trial_id == 3 else 0.3)
        return (spec.config["x"] - 2.0) ** 2


def test_killed_dask_worker_marks_its_trial_crashed_and_the_search_goes_on(runner, tmp_path):
    # last in the file: its nanny restarts the killed worker, which other tests would wait for
    worker_pids = set(runner.client.run(os.getpid).values())
    killed = {}

    def kill_when_trial_three_runs() -> None:
        note = tmp_path / "3.json"
        end = time.monotonic() + 60
        while not note.exists() and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.2)
        info = json.loads(note.read_text())
        killed["worker"] = next(pid for pid in info["ancestors"] if pid in worker_pids)
        killed["child"] = info["child"]
        os.kill(killed["worker"], signal.SIGKILL)

    killer = threading.Thread(target=kill_when_trial_three_runs, daemon=True)
    killer.start()
    storage = get_storage(None)
    start = time.monotonic()
    finished = search(runner, SlowTrialThree(str(tmp_path)), storage, "killed", n_trials=10, limits=Limits(40, None))
    elapsed = time.monotonic() - start
    killer.join(timeout=5)
    assert finished == 10 and "worker" in killed
    results = {r.spec.trial_id: r.result for r in storage.trials("killed")}
    assert results[3].status is Status.CRASHED and "died while running this trial" in results[3].error
    assert all(results[i].ok for i in results if i != 3), {i: r.error for i, r in results.items() if not r.ok}
    assert elapsed < 35  # neither the hang nor a re-run of it held a worker until the 40 s limit
    # the orphaned child of the dead worker exited by itself
    end = time.monotonic() + 10
    while psutil.pid_exists(killed["child"]) and time.monotonic() < end:
        time.sleep(0.1)
    assert not psutil.pid_exists(killed["child"]) or psutil.Process(killed["child"]).status() == psutil.STATUS_ZOMBIE
    runner.client.wait_for_workers(2, timeout=60)  # the nanny brought the worker back
    assert runner.n_workers == 2
