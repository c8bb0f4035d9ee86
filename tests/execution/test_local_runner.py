"""LocalRunner as the search loop uses it: slots, waiting, parallel trials, and no trial queued behind a slow one.

The same properties are checked for DaskRunner in test_dask.py, so both runners behave alike."""

from __future__ import annotations

import sys
import time

import cloudpickle
import psutil
import pytest

from autolearn.execution import LocalRunner
from autolearn.records import Limits, Status, TrialSpec
from autolearn.storage import get_storage
from autolearn.tune.budget import Budget
from autolearn.tune.loop import run_search
from autolearn.tune.optimizers import make_optimizer
from autolearn.tune.space import as_configspace

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # children need not import this test module


def sleeper(spec):
    time.sleep(spec.config.get("sleep", 0.0))
    return float(spec.trial_id)


def quadratic(spec):
    time.sleep(0.2)
    return (spec.config["x"] - 2.0) ** 2


@pytest.fixture(scope="module")
def runner():
    with LocalRunner(2, threads_per_worker=1) as r:
        yield r


def drain(runner, timeout: float = 60.0) -> list:
    done, end = [], time.monotonic() + timeout
    while runner.running():
        assert time.monotonic() < end, f"still running after {timeout} s: {runner.running()}"
        done += runner.wait(timeout=5)
    return done


def test_free_slots_count_running_and_queued_trials(runner):
    assert runner.n_workers == 2 and runner.free_slots == 2
    runner.submit(sleeper, TrialSpec(0, {"sleep": 0.5}))
    assert runner.free_slots == 1
    for i in (1, 2):
        runner.submit(sleeper, TrialSpec(i, {"sleep": 0.5}))
    assert runner.free_slots == 0 and len(runner.running()) == 3
    assert sorted(d.spec.trial_id for d in drain(runner)) == [0, 1, 2]
    assert runner.free_slots == 2


class Constant:
    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, spec):
        return self.value


def test_a_new_objective_is_never_taken_for_a_collected_one(runner):
    """Objectives made one after another (one per dataset) often get the id() of the one before."""
    for value in (1.0, 2.0, 3.0):
        runner.submit(Constant(value), TrialSpec(0, {}))  # the objective is garbage once submitted
        (done,) = drain(runner)
        assert done.result.values == (value,)


def test_wait_returns_at_its_timeout_and_at_once_when_idle(runner):
    start = time.monotonic()
    assert runner.wait(timeout=1.0) == []  # nothing submitted: no waiting at all
    assert time.monotonic() - start < 0.5
    runner.submit(sleeper, TrialSpec(0, {"sleep": 3.0}))
    start = time.monotonic()
    assert runner.wait(timeout=0.5) == []
    assert 0.4 <= time.monotonic() - start < 2.5
    assert [d.result.values for d in drain(runner)] == [(0.0,)]


def test_a_free_worker_never_waits_for_a_slow_one(runner):
    runner.submit(sleeper, TrialSpec(0, {"sleep": 3.0}))
    for i in range(1, 6):
        runner.submit(sleeper, TrialSpec(i, {"sleep": 0.1}))
    order = [d.spec.trial_id for d in drain(runner)]
    assert order[-1] == 0 and sorted(order) == list(range(6))


def test_run_search_finishes_the_trial_count_two_at_a_time(runner):
    storage = get_storage(None)
    storage.create_study("count", ("minimize",))
    optimizer = make_optimizer("random", as_configspace({"x": ("float", -5.0, 5.0)}, seed=0), seed=0)
    finished = run_search(optimizer=optimizer, runner=runner, objective=quadratic, storage=storage, study="count",
                          budget=Budget(max_trials=8), limits=Limits(30, None), seed=0, poll=0.5)
    results = [r.result for r in storage.trials("count")]
    assert finished == 8 and len(results) == 8 and all(r.status is Status.SUCCESS for r in results)
    assert {r.worker for r in results} == {"worker-0", "worker-1"}
    edges = sorted([(r.started, 1) for r in results] + [(r.started + r.duration, -1) for r in results])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    assert peak == 2


def test_close_kills_the_worker_processes_and_is_idempotent():
    runner = LocalRunner(1, threads_per_worker=1)
    runner.submit(sleeper, TrialSpec(0, {"sleep": 100.0}))
    time.sleep(0.2)
    pid = runner._workers[0]._proc.pid
    runner.close()
    runner.close()
    assert runner.running() == []
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
