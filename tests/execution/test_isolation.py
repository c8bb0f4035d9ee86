"""Every way a trial can misbehave ends as a failed trial with the right reason, never as a dead search."""

import ctypes
import os
import time

import numpy as np
import pytest

from autolearn.execution import InlineRunner, IsolatedWorker, LocalRunner
from autolearn.records import Limits, Outcome, Status, TrialSpec


def misbehave(spec):
    kind = spec.config["kind"]
    if kind == "segfault":
        ctypes.string_at(0)
    if kind == "abort":
        os.abort()
    if kind == "exit":
        os._exit(3)
    if kind == "hang":
        time.sleep(1000)
    if kind == "memory":
        hoard = []
        while True:
            hoard.append(np.ones(10_000_000))  # 80 MB, touched
    if kind == "reserve":
        return np.empty(10**12)  # reserved, never touched: the address-space cap catches it
    if kind == "raise":
        raise RuntimeError("objective failed on purpose")
    if kind == "unpicklable":
        return Outcome((1.0,), artifacts=lambda: None)  # results travel by pickle: a lambda cannot
    return Outcome((spec.config.get("value", 1.0),), {"pid": os.getpid()}, artifacts=np.arange(3))


LIMITS = Limits(wall_time=60.0, memory_mb=600)  # generous: a loaded machine allocates slowly


@pytest.fixture(scope="module")
def worker():
    w = IsolatedWorker("test-worker")
    yield w
    w.kill()


@pytest.mark.parametrize(
    "kind, status, reason",
    [
        ("segfault", Status.CRASHED, "SIGSEGV"),
        ("abort", Status.CRASHED, "SIGABRT"),
        ("exit", Status.CRASHED, "exit code 3"),
        ("hang", Status.TIMEOUT, "time limit of 2.0 s"),
        ("memory", Status.MEMOUT, "memory limit of 600 MB"),
        ("reserve", Status.MEMOUT, "MemoryError"),
        ("raise", Status.FAILED, "objective failed on purpose"),
        ("unpicklable", Status.FAILED, "could not send the result back"),
    ],
)
def test_failure_is_recorded_with_reason(worker, kind, status, reason):
    limits = Limits(2.0, LIMITS.memory_mb) if kind == "hang" else LIMITS
    done = worker.run(misbehave, TrialSpec(1, {"kind": kind}, limits=limits))
    assert done.result.status is status
    assert reason in done.result.error
    # the worker serves the next trial after any failure
    ok = worker.run(misbehave, TrialSpec(2, {"kind": "ok", "value": 0.5}, limits=LIMITS))
    assert ok.result.status is Status.SUCCESS and ok.result.values == (0.5,)


def test_success_returns_values_info_and_artifacts(worker):
    done = worker.run(misbehave, TrialSpec(3, {"kind": "ok", "value": 2.0}, limits=LIMITS))
    assert done.result.ok and done.result.loss == 2.0
    assert done.result.info["pid"] != os.getpid()  # it really ran in another process
    np.testing.assert_array_equal(done.artifacts, np.arange(3))
    assert done.result.duration >= 0 and done.result.worker == "test-worker"


def test_local_runner_runs_in_parallel_and_survives_crashes():
    kinds = ["ok", "segfault", "hang", "raise", "ok", "abort", "ok"]
    with LocalRunner(2) as runner:
        for i, kind in enumerate(kinds):
            runner.submit(misbehave, TrialSpec(i, {"kind": kind, "value": float(i)}, limits=Limits(2.0, None)))
        results = {}
        while runner.running():
            for done in runner.wait(timeout=5):
                results[done.spec.trial_id] = done.result
    assert len(results) == len(kinds)
    assert [results[i].status for i in (0, 4, 6)] == [Status.SUCCESS] * 3
    assert results[1].status is Status.CRASHED and results[2].status is Status.TIMEOUT
    assert results[3].status is Status.FAILED and results[5].status is Status.CRASHED
    assert {r.worker for r in results.values()} == {"worker-0", "worker-1"}


def test_cancel_all_returns_running_and_queued_trials():
    with LocalRunner(1) as runner:
        for i in range(3):
            runner.submit(misbehave, TrialSpec(i, {"kind": "hang"}, limits=Limits(60, None)))
        cancelled = runner.cancel_all()
        assert sorted(c.spec.trial_id for c in cancelled) == [0, 1, 2]
        assert all(c.result.status is Status.CANCELLED for c in cancelled)
        assert runner.running() == []


def test_script_without_main_guard_can_use_workers(tmp_path):
    """Workers start from a fork server without re-running the user's script."""
    import subprocess
    import sys

    script = tmp_path / "user_script.py"
    script.write_text(
        "from autolearn.execution import IsolatedWorker\n"
        "from autolearn.records import TrialSpec\n"
        "print('script body ran')\n"
        "w = IsolatedWorker()\n"
        "done = w.run(lambda spec: spec.config['x'] ** 2, TrialSpec(0, {'x': 3.0}))\n"
        "print('value', done.result.values)\n"
        "w.kill()\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("script body ran") == 1
    assert "value (9.0,)" in out.stdout


def test_inline_runner_reports_failures_without_limits():
    runner = InlineRunner()
    runner.submit(misbehave, TrialSpec(0, {"kind": "raise"}))
    runner.submit(misbehave, TrialSpec(1, {"kind": "ok", "value": 3.0}))
    first, second = runner.wait()[0], runner.wait()[0]
    assert first.result.status is Status.FAILED and "on purpose" in first.result.error
    assert second.result.values == (3.0,)
