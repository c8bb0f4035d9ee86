"""The harness end to end: failures recorded with reasons, hard kill, resume after SIGKILL, --smoke."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from benchmarks.automl.datasets import DatasetSpec, resolve
from benchmarks.automl.results import read_results
from benchmarks.automl.run import run_benchmark
from benchmarks.automl.splits import make_splits, write_task_files
from benchmarks.automl.systems import ExternalSystem, InProcessSystem, RunContext, build_system
from benchmarks.automl.systems.baselines import constant_model

ROOT = Path(__file__).resolve().parents[2]
SYNTH = [DatasetSpec("synthetic_binary", "synthetic:binary", task="binary")]


def _raise(task, cores, seed, options):
    raise RuntimeError("this system is broken")


@pytest.fixture
def task_dir(tmp_path) -> Path:
    X = pd.DataFrame({"x": np.arange(40.0), "c": ["a", "b"] * 20})
    y = np.array([0, 1] * 20)
    (split,) = make_splits("t", pd.Series(y), "binary", seed=0)
    return write_task_files(tmp_path / "task", X, y, split, {"task": "binary", "n_classes": 2})


def ctx(task_dir: Path, out: Path, kill_after=None) -> RunContext:
    return RunContext(task_dir=task_dir, out_dir=out, task="binary", n_classes=2, budget=1.0, cores=1, seed=0,
                      kill_after=kill_after)


def fake_runner(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake_runner.py"
    script.write_text(textwrap.dedent(body))
    return script


def test_a_system_that_raises_is_recorded_as_failed(tmp_path):
    systems = [InProcessSystem("broken", _raise), InProcessSystem("constant", constant_model)]
    run_benchmark(systems, SYNTH, tmp_path, budget=5, log=lambda s: None)
    by_system = {r["system"]: r for r in read_results(tmp_path / "results.jsonl")}
    assert by_system["broken"]["status"] == "failed"
    assert "RuntimeError: this system is broken" in by_system["broken"]["reason"]
    assert by_system["constant"]["status"] == "ok"
    assert by_system["constant"]["score"] == pytest.approx(by_system["constant"]["constant_score"])


def test_a_peer_that_exits_non_zero_is_recorded_as_failed_with_its_reason(tmp_path, task_dir):
    script = fake_runner(tmp_path, """
        import sys
        print("loading the model zoo")
        print("Segmentation fault in the peer", file=sys.stderr)
        sys.exit(139)
    """)
    out = ExternalSystem("fake", sys.executable, script).run(ctx(task_dir, tmp_path / "run"))
    assert out.status == "failed"
    assert "exited with code 139" in out.reason and "Segmentation fault in the peer" in out.reason


def test_a_peer_without_venv_is_not_installed_and_still_recorded(tmp_path):
    venvs = tmp_path / "venvs"
    venvs.mkdir()
    (venvs / "tpot.failed").write_text("pip install failed: no wheel")
    systems = [build_system("flaml", venvs_dir=venvs), build_system("tpot", venvs_dir=venvs)]
    run_benchmark(systems, SYNTH, tmp_path / "out", budget=5, log=lambda s: None)
    by_system = {r["system"]: r for r in read_results(tmp_path / "out" / "results.jsonl")}
    assert by_system["flaml"]["status"] == "not_installed" and "setup_peers.sh flaml" in by_system["flaml"]["reason"]
    assert by_system["tpot"]["status"] == "not_installed" and "no wheel" in by_system["tpot"]["reason"]


def test_a_peer_over_the_hard_limit_is_killed_with_its_children(tmp_path, task_dir):
    pid_file = tmp_path / "child.pid"
    script = fake_runner(tmp_path, f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(120)
    """)
    start = time.monotonic()
    out = ExternalSystem("sleepy", sys.executable, script).run(ctx(task_dir, tmp_path / "run", kill_after=3.0))
    assert out.status == "timeout" and time.monotonic() - start < 30
    child = int(pid_file.read_text())
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize("relative", [False, True])
def test_a_peer_result_file_is_read(tmp_path, task_dir, monkeypatch, relative):
    script = fake_runner(tmp_path, """
        import argparse, json, pathlib
        p = argparse.ArgumentParser(); [p.add_argument(a) for a in
            ("--task-dir", "--out-dir", "--budget", "--cores", "--seed", "--options")]
        a = p.parse_args()
        n = json.loads((pathlib.Path(a.task_dir) / "task.json").read_text())["n_test"]
        (pathlib.Path(a.out_dir) / "result.json").write_text(json.dumps({"status": "ok", "classes": [1, 0],
            "probabilities": [[0.3, 0.7]] * n, "fit_time": 0.5, "predict_time": 0.01, "version": "9.9"}))
    """)
    run_dir = tmp_path / "run"
    if relative:  # as ``--out benchmarks/results/...`` gives them: the runner starts in another folder
        monkeypatch.chdir(tmp_path)
        task_dir, run_dir = task_dir.relative_to(tmp_path), Path("run")
    out = ExternalSystem("fake", sys.executable, script).run(ctx(task_dir, run_dir))
    assert out.status == "ok" and out.version == "9.9" and out.classes == [1, 0]
    assert out.proba.shape == (10, 2) and out.peak_memory_mb > 0


RESUME_SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from benchmarks.automl.datasets import DatasetSpec
from benchmarks.automl.run import run_benchmark
from benchmarks.automl.systems import InProcessSystem
from benchmarks.automl.systems.baselines import constant_model

calls = Path({calls!r})

def counting(task, cores, seed, options):
    with open(calls, "a") as fh:
        fh.write("run\\n")
    if {slow} and len(calls.read_text().splitlines()) > 1:
        time.sleep(60)  # the second run hangs: the test kills the harness here
    return constant_model(task, cores, seed, options)

specs = [DatasetSpec(n, "synthetic:" + n.split("_")[1], task=n.split("_")[1])
         for n in ("synthetic_binary", "synthetic_regression", "synthetic_multiclass")]
run_benchmark([InProcessSystem("counting", counting)], specs, Path({out!r}), budget=5)
"""


def test_resume_after_sigkill_keeps_finished_results_and_does_not_redo_them(tmp_path):
    out, calls = tmp_path / "out", tmp_path / "calls.txt"
    script = tmp_path / "bench.py"
    script.write_text(RESUME_SCRIPT.format(root=str(ROOT), calls=str(calls), out=str(out), slow=True))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (results.exists() and results.read_text().count("\n") >= 1):
        time.sleep(0.1)
    while time.monotonic() < deadline and len(calls.read_text().splitlines()) < 2:
        time.sleep(0.1)  # the second run has started (and hangs)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = read_results(results)
    assert [r["dataset"] for r in first] == ["synthetic_binary"]

    script.write_text(RESUME_SCRIPT.format(root=str(ROOT), calls=str(calls), out=str(out), slow=False))
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True, timeout=120)
    final = read_results(results)
    assert final[0] == first[0]  # the finished line is kept as it was
    assert [r["dataset"] for r in final] == ["synthetic_binary", "synthetic_regression", "synthetic_multiclass"]
    assert len(calls.read_text().splitlines()) == 2 + 2  # binary ran once; regression's killed run redone


def test_rerun_skips_what_is_done(tmp_path):
    systems = [InProcessSystem("constant", constant_model)]
    assert run_benchmark(systems, SYNTH, tmp_path, budget=5, log=lambda s: None) == 1
    assert run_benchmark(systems, SYNTH, tmp_path, budget=5, log=lambda s: None) == 0
    assert len(read_results(tmp_path / "results.jsonl")) == 1


def test_suite_files_resolve_against_an_index(tmp_path):
    (tmp_path / "index.csv").write_text("name,collection,path,format,target,task\n"
                                        "a,pmlb,pmlb/a/a.tsv.gz,tsv.gz,target,binary\n"
                                        "b,pmlb,pmlb/b/b.tsv.gz,tsv.gz,target,regression\n"
                                        "b,arff,arff/b.arff,arff,y,multiclass\n")
    suite = tmp_path / "two.txt"
    suite.write_text("# comment\na\narff/b  # the ARFF one\n")
    specs = resolve([str(suite), "synthetic:regression"], root=tmp_path)
    assert [(s.name, s.task, s.target) for s in specs] == [
        ("a", "binary", "target"), ("arff__b", "multiclass", "y"), ("synthetic_regression", "regression", None)]
    with pytest.raises(KeyError, match="several collections"):
        resolve(["b"], root=tmp_path)


def test_shipped_suites_are_well_formed():
    from benchmarks.automl.datasets import SUITES_DIR, read_suite

    assert len(read_suite(SUITES_DIR / "small.txt")) == 2
    assert len(read_suite(SUITES_DIR / "main20.txt")) >= 20


def test_smoke_mode_end_to_end(tmp_path):
    """``--smoke`` on the generated datasets (no shared folder): autolearn and the baselines, a report."""
    out = tmp_path / "smoke"
    cmd = [sys.executable, "-m", "benchmarks.automl.run", "--smoke",
           "--datasets", "synthetic:binary", "synthetic:regression", "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    records = read_results(out / "results.jsonl")
    assert {r["system"] for r in records} == {"autolearn", "constant", "lightgbm_default", "rf_default"}
    assert len(records) == 8
    baselines = [r for r in records if r["system"] != "autolearn"]
    assert all(r["status"] == "ok" for r in baselines), [r["reason"] for r in baselines]
    auto = [r for r in records if r["system"] == "autolearn"]
    assert all(r["status"] in ("ok", "failed", "timeout") for r in auto)
    assert len({r["split_fingerprint"] for r in records if r["dataset"] == "synthetic_binary"}) == 1
    report = (out / "report.md").read_text()
    assert "Win / tie / loss" in report and (out / "rank.png").exists()
    assert json.loads((out / "runs.jsonl").read_text().splitlines()[-1])["argv"][0] == "--smoke"
