"""Does a second worker halve the search time, and what does handing a trial to a worker cost?

The same fixed trial sequence (random search, seed 0, so every runner evaluates the same
configurations) is run with 1 and 2 local workers (LocalRunner) and on a 2-worker Dask LocalCluster
(DaskRunner). Each trial is a real model fit: a random forest scored by 3-fold cross-validation,
about a second or more per trial. Reported per dataset: wall time of the search, the sum of trial
durations, and the speed-up over one local worker (target: >= 1.7x with 2 workers).

The dispatch overhead is measured apart, with a no-op objective, as
``(wall - sum of trial durations / workers) / trials``: the loop's own cost per trial (ask, store,
submit, collect) plus the time a worker spends waiting for work (target for Dask: < 20 ms).

Runners are started and warmed up (one no-op trial) before the clock starts: start-up is reported
separately, since it is paid once per search, not per trial.

    python benchmarks/parallel.py                  # full: 24 trials x 3 datasets x 3 runners
    python benchmarks/parallel.py --quick --out /tmp/parallel-quick   # a smoke run

Run it on an otherwise idle machine with at least 2 cores; on a loaded machine the speed-up measures
the load, not the runners. Writes ``parallel.csv`` and ``parallel.json`` to ``--out`` and prints
Markdown tables.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification

from autolearn.execution import LocalRunner, Runner
from autolearn.records import Limits, TrialSpec
from autolearn.storage import InMemoryStorage
from autolearn.tune.budget import Budget
from autolearn.tune.loop import run_search
from autolearn.tune.optimizers import make_optimizer
from autolearn.tune.space import as_configspace

SPACE = {"n_estimators": ("int", 150, 300), "max_features": ("float", 0.2, 0.8),
         "min_samples_leaf": ("int", 1, 5)}


def datasets(quick: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Three classification tasks bundled with scikit-learn (no download)."""
    found = {
        "breast_cancer": load_breast_cancer(return_X_y=True),
        "digits": load_digits(return_X_y=True),
        "synthetic_4000x40": make_classification(n_samples=4000, n_features=40, n_informative=20, random_state=0),
    }
    return {"breast_cancer": found["breast_cancer"]} if quick else found


class ForestCV:
    """1 - accuracy of a random forest by 3-fold cross-validation; one thread, so workers don't share cores."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = X, y

    def __call__(self, spec: TrialSpec) -> float:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import cross_val_score

        c = spec.config
        model = RandomForestClassifier(n_estimators=int(c["n_estimators"]), max_features=float(c["max_features"]),
                                       min_samples_leaf=int(c["min_samples_leaf"]), n_jobs=1, random_state=spec.seed)
        return 1.0 - float(cross_val_score(model, self.X, self.y, cv=3).mean())


def noop(spec: TrialSpec) -> float:
    return 0.0


def make_runner(kind: str, workers: int) -> Runner:
    if kind == "dask":
        from autolearn.execution.dask import DaskRunner

        return DaskRunner(n_workers=workers)
    return LocalRunner(workers, threads_per_worker=1)


def warm_up(runner: Runner) -> None:
    """Start every worker's child (and fork server) before the clock starts."""
    for i in range(runner.n_workers):
        runner.submit(noop, TrialSpec(-1 - i, {}))
    while runner.running():
        runner.wait(timeout=5)


def search(runner: Runner, objective: Callable[[TrialSpec], Any], n_trials: int, seed: int) -> dict[str, float]:
    storage = InMemoryStorage()
    storage.create_study("bench", ("minimize",))
    optimizer = make_optimizer("random", as_configspace(SPACE, seed=seed), seed=seed)
    t0 = time.perf_counter()
    finished = run_search(optimizer=optimizer, runner=runner, objective=objective, storage=storage, study="bench",
                          budget=Budget(max_trials=n_trials), limits=Limits(wall_time=600), seed=seed, poll=1.0)
    wall = time.perf_counter() - t0
    results = [r.result for r in storage.trials("bench") if r.result is not None]
    durations = [r.duration for r in results]
    return {"trials": finished, "ok": sum(r.ok for r in results), "wall_s": wall, "sum_trial_s": float(sum(durations)),
            "mean_trial_s": float(np.mean(durations)) if durations else 0.0,
            "best_loss": min((r.loss for r in results), default=float("nan"))}


def markdown(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24, help="trials per dataset and runner (default 24)")
    parser.add_argument("--noop-trials", type=int, default=200, help="no-op trials for the overhead (default 200)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="1 dataset, 4 trials, 20 no-op trials: checks it runs")
    parser.add_argument("--out", default="benchmarks/results/parallel")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.noop_trials = 4, 20
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = datasets(args.quick)
    configs = [("local", 1), ("local", args.workers), ("dask", args.workers)]
    machine = {"cores": os.cpu_count(), "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
               "python": platform.python_version(), "quick": args.quick}
    print(f"machine: {machine}", flush=True)
    rows: list[dict[str, Any]] = []
    for kind, workers in configs:
        t0 = time.perf_counter()
        runner = make_runner(kind, workers)
        with runner:
            warm_up(runner)
            startup = time.perf_counter() - t0
            for name, (X, y) in data.items():
                row = {"benchmark": "speedup", "dataset": name, "runner": kind, "workers": workers,
                       "startup_s": startup, **search(runner, ForestCV(X, y), args.trials, args.seed)}
                rows.append(row)
                print(row, flush=True)
            row = {"benchmark": "overhead", "dataset": "noop", "runner": kind, "workers": workers,
                   "startup_s": startup, **search(runner, noop, args.noop_trials, args.seed)}
            row["overhead_ms"] = 1000 * (row["wall_s"] - row["sum_trial_s"] / workers) / max(row["trials"], 1)
            rows.append(row)
            print(row, flush=True)
    base = {r["dataset"]: r["wall_s"] for r in rows if r["benchmark"] == "speedup" and r["workers"] == 1}
    for r in rows:
        if r["benchmark"] == "speedup":
            r["speedup_vs_1"] = base[r["dataset"]] / r["wall_s"]
            r["efficiency"] = r["speedup_vs_1"] / r["workers"]
    speed = [r for r in rows if r["benchmark"] == "speedup"]
    over = [r for r in rows if r["benchmark"] == "overhead"]
    (out / "parallel.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(out / "parallel.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print("\n## Speed-up on real fits\n")
    print(markdown(speed, ["dataset", "runner", "workers", "trials", "wall_s", "sum_trial_s", "mean_trial_s",
                           "speedup_vs_1", "efficiency"]))
    print("\n## Dispatch overhead (no-op objective)\n")
    print(markdown(over, ["runner", "workers", "trials", "wall_s", "sum_trial_s", "overhead_ms", "startup_s"]))
    two = [r["speedup_vs_1"] for r in speed if r["workers"] == 2 and r["mean_trial_s"] >= 1.0]
    dask = [r["overhead_ms"] for r in over if r["runner"] == "dask"]
    print()
    if two:
        print(f"target 2 workers >= 1.7x on trials of >= 1 s: worst {min(two):.2f}x -> "
              f"{'met' if min(two) >= 1.7 else 'NOT met'}")
    else:
        print("target 2 workers >= 1.7x: not assessed (no 2-worker run had trials of a second or more)")
    if dask:
        print(f"target Dask overhead < 20 ms/trial: {max(dask):.1f} ms -> {'met' if max(dask) < 20 else 'NOT met'}")
    print(f"results in {out}/parallel.csv and parallel.json")


if __name__ == "__main__":
    main()
