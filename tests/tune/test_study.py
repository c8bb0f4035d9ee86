import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from autolearn.tune import create_study, load_study
from autolearn.tune.budget import Budget

SPACE = {"x": ("float", -5.0, 5.0), "n": ("int", 1, 8, "log"), "kind": ["a", "b"]}


def quadratic(trial):
    return (trial["x"] - 1.0) ** 2 + (0.0 if trial["kind"] == "a" else 1.0)


def test_ask_tell_round_trip():
    study = create_study(SPACE, "random", seed=0)
    trial = study.ask()
    assert set(trial.config) == {"x", "n", "kind"} and trial.status == "running"
    told = study.tell(trial, 2.5)
    assert told.values == (2.5,) and told.status == "success"
    with pytest.raises(ValueError, match="already told"):
        study.tell(trial, 1.0)
    failed = study.tell(study.ask(), status="failed", error="boom")
    assert failed.status == "failed" and failed.values is None
    assert study.best_trial.number == trial.number


def test_maximize_orientation_and_nan_is_failure():
    study = create_study(SPACE, "random", directions="maximize", seed=1)
    t1, t2 = study.ask(), study.ask()
    study.tell(t1, 1.0)
    study.tell(t2, 5.0)
    assert study.best_value == 5.0 and study.best_trial.number == t2.number
    t3 = study.tell(study.ask(), float("nan"))
    assert t3.status == "failed"


def test_wrong_number_of_values_is_an_error():
    study = create_study(SPACE, "random", seed=0)
    with pytest.raises(ValueError, match="expected 1 objective value"):
        study.tell(study.ask(), (1.0, 2.0))


def test_optimize_inline_and_isolated_agree():
    a = create_study(SPACE, "random", seed=3).optimize(quadratic, n_trials=12, isolate=False)
    b = create_study(SPACE, "random", seed=3).optimize(quadratic, n_trials=12, n_jobs=1)
    assert [t.value for t in a.trials] == [t.value for t in b.trials]
    assert len(a.trials) == 12 and a.best_value <= min(t.value for t in a.trials)


def test_optimize_time_budget_and_crashing_trials():
    def sometimes_crash(trial):
        if trial["kind"] == "b":
            os.abort()
        return trial["x"] ** 2

    start = time.monotonic()
    study = create_study(SPACE, "random", seed=4).optimize(sometimes_crash, time_budget=4, n_jobs=2)
    assert time.monotonic() - start < 4 + 3
    statuses = {t.status for t in study.trials}
    assert "crashed" in statuses and "success" in statuses


def test_per_trial_time_limit_kills_slow_trials():
    def slow(trial):
        time.sleep(10 if trial["kind"] == "b" else 0)
        return 1.0

    study = create_study({"kind": ["a", "b"]}, "random", seed=0)
    study.optimize(slow, n_trials=6, per_trial_time_limit=1.0)
    assert {t["kind"] for t in study.trials} == {"a", "b"}
    for t in study.trials:
        assert t.status == ("timeout" if t["kind"] == "b" else "success")


def test_trials_dataframe_columns():
    study = create_study(SPACE, "random", seed=0).optimize(quadratic, n_trials=5, isolate=False)
    frame = study.trials_dataframe()
    assert list(frame["number"]) == list(range(5))
    assert {"value", "status", "config_x", "config_kind", "budget", "duration"} <= set(frame.columns)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown optimizer 'nope'"):
        create_study(SPACE, "nope")
    with pytest.raises(ValueError, match="directions must be"):
        create_study(SPACE, "random", directions="up")
    with pytest.raises(ValueError, match="low 5.0 must be below high 1.0"):
        create_study({"x": ("float", 5.0, 1.0)})
    with pytest.raises(ValueError, match="give a time_budget, max_trials or both"):
        Budget()


def test_resume_from_sqlite_rebuilds_optimizer(tmp_path):
    url = str(tmp_path / "study.sqlite")
    study = create_study(SPACE, "random", storage=url, name="s", seed=0)
    study.optimize(quadratic, n_trials=6, isolate=False)
    again = load_study(url, "s")
    assert len(again.trials) == 6 and len(again.optimizer.history) == 6
    again.optimize(quadratic, n_trials=3, isolate=False)
    assert len(load_study(url).trials) == 9


def test_resume_with_extended_categorical(tmp_path):
    url = str(tmp_path / "study.sqlite")
    create_study(SPACE, "random", storage=url, name="s", seed=0).optimize(quadratic, n_trials=4, isolate=False)
    wider = dict(SPACE, kind=["a", "b", "c"])
    study = load_study(url, "s", space=wider)
    study.optimize(lambda t: 0.0 if t["kind"] == "c" else 1.0, n_trials=30, isolate=False)
    assert any(t["kind"] == "c" for t in study.trials)
    narrower = dict(SPACE, kind=["c"])
    with pytest.raises(ValueError, match="not valid in the search space"):
        load_study(url, "s", space=narrower)


KILL_SCRIPT = """
import sys, time
from autolearn.tune import create_study
study = create_study({"x": ("float", -1.0, 1.0)}, "random", storage=sys.argv[1], name="k", seed=0)
def slow(trial):
    time.sleep(0.05)
    return trial["x"] ** 2
study.optimize(slow, n_trials=100000, isolate=False,
               callbacks=[lambda t: print("done", t.number, flush=True)])
"""


def test_sigkill_loses_no_completed_trial(tmp_path):
    url = str(tmp_path / "killed.sqlite")
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, url], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    for line in proc.stdout:
        acknowledged.append(int(line.split()[1]))
        if len(acknowledged) >= 15:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    study = load_study(url, "k")
    stored = {t.number for t in study.trials if t.status == "success"}
    assert set(acknowledged) <= stored
    # the resumed study goes on from where it stopped
    study.optimize(lambda t: t["x"] ** 2, n_trials=5, isolate=False)
    assert len([t for t in study.trials if t.status == "success"]) >= len(stored) + 5


def test_cli_drives_a_study(tmp_path):
    url = str(tmp_path / "cli.sqlite")

    def run(*args):
        out = subprocess.run([sys.executable, "-m", "autolearn.cli", "tune", *args, "--storage", url],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    space = json.dumps({"x": ["float", -2, 2], "kind": ["a", "b"]})
    assert run("create", "--space", space, "--optimizer", "random", "--name", "c", "--seed", "1")["study"] == "c"
    for _ in range(3):
        trial = run("ask", "--name", "c")
        value = (trial["config"]["x"]) ** 2
        told = run("tell", "--name", "c", "--trial", str(trial["number"]), "--values", str(value))
        assert told["status"] == "success" and math.isclose(told["values"][0], value)
    best = run("best", "--name", "c")
    assert best["values"][0] == min(t["values"][0] for t in run("trials", "--name", "c"))
    bad = subprocess.run([sys.executable, "-m", "autolearn.cli", "tune", "tell", "--storage", url, "--name", "c",
                          "--trial", "99", "--values", "1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no trial 99" in bad.stderr
