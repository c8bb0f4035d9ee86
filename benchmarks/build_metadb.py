"""Build the meta-database shipped as ``autolearn/meta/data/metadb.json.gz``.

Every candidate configuration (``autolearn.meta.candidates``: the space default, a hand-made portfolio,
then seeded draws from the CASH space) is evaluated on every dataset of ``shared/datasets/index.csv``
(deprecated entries skipped; a dataset listed in several collections is used once, PMLB's copy first,
because a duplicate would leak into leave-one-dataset-out evaluations). Run from the repository root::

    python -m benchmarks.build_metadb --max-datasets 15 --configs 40 --max-rows 1000 --time-per-eval 10 \
        --mf-time 10 --n-jobs 1 --work /tmp/autolearn-metadb-small              # development database
    python -m benchmarks.build_metadb --max-datasets 150 --configs 205 --max-rows 2000 --time-per-eval 20 \
        --mf-time 15 --n-jobs 2 --work benchmarks/results/metadb-full            # the shipped database

Protocol (cheap on purpose: the database ranks configurations, it does not measure them): rows with a
missing target dropped; at most ``--max-rows`` rows (stratified for classification); 3-fold CV
(``--folds 1``: one 33 % holdout), seed 0; the task's default metric (ROC AUC, log loss, RMSE); each
evaluation in an isolated worker (``LocalRunner`` + ``Evaluator``) with a wall-time limit of
``--time-per-eval`` s and ``--memory`` MB; a timeout or crash counts as the worst loss. Meta-features
are computed on the *full* dataset (they subsample to 10,000 rows themselves) with ``--mf-time`` s,
because at recommendation time they describe the user's full data.

Compute budget: at most datasets x configs x time-per-eval / n-jobs, plus meta-features (<= mf-time
per dataset). Measured on the shipped build (150 datasets, 50 per task, x 200 configurations, <= 2,000
rows, 20 s limit, 2 workers): 30,000 evaluations, 9.0 h of evaluation time (1.04 s mean, 0.27 s
median), 63 timeouts (mostly gradient boosting and linear SVMs) and 132 failures (all QDA: 88 with a
class of one row in a training fold, 44 with a rank-deficient class covariance), 0.65 % in all;
resumed across several sessions; extended to 205 configurations in session 13 (1,000 evaluations,
0.47 h). The shipped file is 154 KB: normalized losses, meta-features and
each evaluation's time relative to the dataset's median (the cost the time-aware portfolio uses;
timeouts count at the limit).

Changing a default of the space changes the key of the hand-made candidates that rely on it (for
example ``hgb_default`` after the ``l2_regularization`` default became 1): a resumed build evaluates
the new candidate; ``--assemble-only`` without that leaves its column unevaluated (NaN, never
recommended). The shipped file keeps the configuration as it was evaluated until it is rewritten.

Resumable: results are appended to ``WORK/results.jsonl`` (one line per dataset x configuration) and
``WORK/datasets.jsonl`` (meta-features, baseline loss, or the error that made a dataset unusable)
as they arrive; a rerun skips what is there, so a killed build continues where it stopped (later
lines win, so ``--retry-timeouts`` with a larger ``--time-per-eval`` replaces timeouts). The
output file is (re)written from the work folder at the end, or alone with ``--assemble-only``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autolearn.meta._configs import key
from autolearn.meta.candidates import candidates
from autolearn.meta.database import DEFAULT_PATH, MetaDatabase, TaskTable, normalize, write_metadb

COLLECTION_PREFERENCE = {"pmlb": 0, "arff": 1, "openml_binary": 2}
TASKS = ("binary", "multiclass", "regression")


# -- which datasets ---------------------------------------------------------------------------------
def select_datasets(root: Path, names: list[str] | None, max_datasets: int | None, seed: int) -> list[dict]:
    """Index rows to build from: not deprecated, one per name, optionally named or a task-balanced sample."""
    index = pd.read_csv(root / "index.csv")
    index = index[~index["deprecated"].astype(bool)].copy()
    index["_pref"] = index["collection"].map(COLLECTION_PREFERENCE).fillna(9)
    index = index.sort_values(["name", "_pref"]).drop_duplicates("name", keep="first")
    if names:
        missing = sorted(set(names) - set(index["name"]))
        if missing:
            raise SystemExit(f"not in {root / 'index.csv'} (or deprecated): {missing}")
        index = index[index["name"].isin(names)]
    rows = index.sort_values("name").to_dict("records")
    if max_datasets is not None and len(rows) > max_datasets:
        rng = np.random.default_rng(seed)
        by_task = {t: [r for r in rows if r["task"] == t] for t in TASKS}
        for t in TASKS:
            rng.shuffle(by_task[t])
        picked: list[dict] = []
        while len(picked) < max_datasets:  # round-robin over tasks: a balanced sample
            for t in TASKS:
                if by_task[t] and len(picked) < max_datasets:
                    picked.append(by_task[t].pop())
        rows = sorted(picked, key=lambda r: r["name"])
    return rows


def load_dataset(row: dict, root: Path, max_rows: int, seed: int) -> tuple[Any, Any, Any, str, int]:
    """(X_full, y_full, (X, y_encoded, schema) subsample, task, n_rows): missing targets dropped."""
    from autolearn.data import check_X, check_y, infer_schema
    from benchmarks.automl.datasets import DatasetSpec, load

    target = None if pd.isna(row.get("target")) else str(row["target"])
    data = load(DatasetSpec(name=row["name"], path=str(root / row["path"]), target=target, task=row["task"]))
    X_full, y_full, task = data.X, data.y, data.task
    rows = subsample_rows(y_full.to_numpy(), task, max_rows, seed)
    X = check_X(X_full.iloc[rows].reset_index(drop=True), fit=True)
    y, task, _ = check_y(y_full.iloc[rows].reset_index(drop=True), task)
    return X_full, y_full, (X, y, infer_schema(X)), task, len(y_full)


def subsample_rows(y: np.ndarray, task: str, max_rows: int, seed: int) -> np.ndarray:
    """At most ~max_rows row indices; per class proportional, at least one row of each class."""
    n = len(y)
    if n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if task == "regression":
        return np.sort(rng.choice(n, max_rows, replace=False))
    labels = pd.Series(y).astype(str).to_numpy()
    picked = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        take = max(1, int(round(len(members) * max_rows / n)))
        picked.append(rng.choice(members, min(take, len(members)), replace=False))
    return np.sort(np.concatenate(picked))


def baseline_loss(y: np.ndarray, task: str, splits: list, metric: Any, n_classes: int) -> float:
    """Loss of the best constant: the class frequencies (or the mean) of all rows, on the validation rows.

    One constant for all folds: per-fold priors, pooled, can score a ROC AUC away from 0.5.
    """
    from autolearn.evaluation.metrics import constant_prediction
    from autolearn.evaluation.resampling import validation_rows

    rows = validation_rows(splits)
    return float(metric.loss(y[rows], constant_prediction(y, task, len(rows), n_classes)))


# -- the work folder ----------------------------------------------------------------------------------
def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a kill: its evaluation simply runs again
            continue
    return out


def append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(record, default=str) + "\n")
        fh.flush()


# -- one dataset ------------------------------------------------------------------------------------
def build_dataset(row: dict, args: argparse.Namespace, cands: dict[str, list[tuple[str, dict]]], runner: Any,
                  work: Path, done: set[tuple[str, str]], meta_done: dict[str, dict]) -> None:
    from autolearn.evaluation.evaluate import Evaluator, TaskData, save_task_data
    from autolearn.evaluation.metrics import get_metric
    from autolearn.evaluation.resampling import Resampling, make_splits
    from autolearn.meta.metafeatures import metafeatures
    from autolearn.records import Limits, TrialSpec

    name = row["name"]
    if name in meta_done and all((name, key(c)) in done for _, c in cands[row["task"]]):
        return  # finished in an earlier run: do not even load it
    started = time.monotonic()
    X_full, y_full, (X, y, schema), task, n_rows = load_dataset(row, args.data_root, args.max_rows, args.seed)
    plan = Resampling("cv", n_folds=args.folds) if args.folds > 1 else Resampling("holdout", holdout_fraction=0.33)
    splits = make_splits(y, task, plan, args.seed)
    metric = get_metric(None, task)
    n_classes = int(y.max()) + 1 if task != "regression" else 0
    if name not in meta_done:
        mf = metafeatures(X_full, y_full, task=task, time_limit=args.mf_time, seed=args.seed)
        record = {"dataset": name, "status": "ok", "task": task, "collection": row["collection"], "n_rows": n_rows,
                  "n_rows_used": len(y), "n_features": X.shape[1], "metric": metric.name,
                  "baseline_loss": baseline_loss(y, task, splits, metric, max(n_classes, 2)),
                  "metafeatures": {k: (None if math.isnan(v) else v) for k, v in mf.items()},
                  "mf_seconds": round(sum(mf.attrs["seconds"].values()), 3)}
        append_jsonl(work / "datasets.jsonl", record)
        meta_done[name] = record
    todo = [(c, o) for o, c in cands[task] if (name, key(c)) not in done]
    if not todo:
        return
    with tempfile.TemporaryDirectory(prefix="metadb-") as tmp:
        path = save_task_data(TaskData(X, y, task, schema, metric, n_classes, splits), Path(tmp) / "data.pkl")
        evaluator = Evaluator(path)
        limits = Limits(wall_time=args.time_per_eval, memory_mb=args.memory)
        for i, (config, _origin) in enumerate(todo):
            runner.submit(evaluator, TrialSpec(trial_id=i, config=config, budget=1.0, seed=args.seed, limits=limits))
        remaining = len(todo)
        while remaining:
            for finished in runner.wait(timeout=5.0):
                remaining -= 1
                config = todo[finished.spec.trial_id][0]
                r = finished.result
                append_jsonl(work / "results.jsonl", {
                    "dataset": name, "task": task, "config": key(config), "model": config["model"],
                    "status": r.status.value, "loss": r.loss if math.isfinite(r.loss) else None,
                    "seconds": round(r.duration, 3), "error": (r.error or "")[-300:],
                })
                done.add((name, key(config)))
    print(f"  {name}: {len(todo)} evaluations in {time.monotonic() - started:.0f}s", flush=True)


# -- assembling the shipped file ---------------------------------------------------------------------
def assemble(work: Path, cands: dict[str, list[tuple[str, dict]]], args: argparse.Namespace) -> MetaDatabase:
    """The database from the work folder: every candidate x every usable dataset of each task."""
    results: dict[tuple[str, str], float] = {}
    durations: dict[tuple[str, str], float] = {}
    for r in read_jsonl(work / "results.jsonl"):
        results[(r["dataset"], r["config"])] = math.inf if r["loss"] is None else float(r["loss"])
        durations[(r["dataset"], r["config"])] = float(r["seconds"])
    datasets = {d["dataset"]: d for d in read_jsonl(work / "datasets.jsonl") if d.get("status") == "ok"}
    names = list(dict.fromkeys(n for d in datasets.values() for n in d["metafeatures"]))
    tables, seconds = {}, defaultdict(float)
    for task, task_cands in cands.items():
        keys = [key(c) for _, c in task_cands]
        rows, meta, costs, extra = [], [], [], defaultdict(list)
        for name in sorted(n for n, d in datasets.items() if d["task"] == task):
            raw = np.array([results.get((name, k), math.nan) for k in keys], dtype=float)
            if np.isnan(raw).mean() > 0.5 or not np.isfinite(raw).any():
                continue  # mostly unevaluated (an interrupted build) or nothing ran: not a usable row
            norm, best = normalize(raw, datasets[name]["baseline_loss"])
            rows.append((name, norm))
            spent = np.array([durations.get((name, k), math.nan) for k in keys], dtype=float)
            spent = np.maximum(spent, 1e-3)  # durations are stored to the millisecond
            costs.append(spent / float(np.nanmedian(spent)))  # relative: machine-independent
            meta.append([datasets[name]["metafeatures"].get(n) for n in names])
            extra["best_loss"].append(best)
            extra["baseline_loss"].append(datasets[name]["baseline_loss"])
            extra["n_rows"].append(datasets[name]["n_rows"])
        tables[task] = TaskTable(
            task=task, configs=tuple(c for _, c in task_cands), origins=tuple(o for o, _ in task_cands),
            datasets=tuple(n for n, _ in rows),
            metafeatures=pd.DataFrame(np.array(meta, dtype=float).reshape(len(rows), len(names)),
                                      index=[n for n, _ in rows], columns=names),
            performance=np.array([p for _, p in rows], dtype=float).reshape(len(rows), len(keys)),
            cost=np.array(costs, dtype=float).reshape(len(rows), len(keys)),
            extra={k: np.array(v, dtype=float) for k, v in extra.items()},
        )
    for r in read_jsonl(work / "results.jsonl"):
        seconds[r["task"]] += r["seconds"]
    info = {
        "built": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "protocol": {"max_rows": args.max_rows, "folds": args.folds, "time_per_eval": args.time_per_eval,
                     "seed": args.seed, "metric": {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"},
                     "normalization": "clip((loss - best) / (baseline - best), 0, 1); failures 1; null: not run"},
        "evaluation_seconds": {t: round(s) for t, s in seconds.items()},
    }
    return MetaDatabase(tables, info)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.automl.datasets import default_data_root

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", help="index names (default: all usable)")
    p.add_argument("--max-datasets", type=int, help="a task-balanced seeded sample of this many")
    p.add_argument("--configs", type=int, default=250, help="candidates per task (default 250)")
    p.add_argument("--time-per-eval", type=float, default=30.0, help="seconds per evaluation (default 30)")
    p.add_argument("--memory", type=float, default=3072.0, help="MB per evaluation (default 3072)")
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--max-rows", type=int, default=5000, help="subsample larger datasets (default 5000)")
    p.add_argument("--folds", type=int, default=3, help="CV folds; 1 means a 33%% holdout (default 3)")
    p.add_argument("--mf-time", type=float, default=30.0, help="seconds for meta-features per dataset")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", type=Path, default=default_data_root())
    p.add_argument("--work", type=Path, default=Path("benchmarks/results/metadb"), help="resumable work folder")
    p.add_argument("--out", type=Path, default=DEFAULT_PATH)
    p.add_argument("--assemble-only", action="store_true", help="only write --out from the work folder")
    p.add_argument("--retry-errors", action="store_true", help="retry datasets that failed to load")
    p.add_argument("--retry-timeouts", action="store_true",
                   help="re-run timed-out evaluations (after raising --time-per-eval, or on a quieter machine)")
    args = p.parse_args(argv)

    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # workers' convergence warnings would drown the log
    cands = {t: candidates(t, args.configs, args.seed) for t in TASKS}
    (args.work / "candidates.json").write_text(json.dumps(
        {t: [{"key": key(c), "origin": o, "config": c} for o, c in cs] for t, cs in cands.items()}, indent=1))
    rows = select_datasets(args.data_root, args.datasets, args.max_datasets, args.seed)
    if not args.assemble_only:
        from autolearn.execution import LocalRunner

        records = read_jsonl(args.work / "datasets.jsonl")
        meta_done = {d["dataset"]: d for d in records if d.get("status") == "ok"}
        failed = {d["dataset"] for d in records if d.get("status") == "error"} - set(meta_done)
        done = {(r["dataset"], r["config"]) for r in read_jsonl(args.work / "results.jsonl")
                if not (args.retry_timeouts and r["status"] == "timeout")}
        print(f"{len(rows)} datasets x {args.configs} configurations; work folder {args.work}", flush=True)
        with LocalRunner(args.n_jobs, threads_per_worker=1) as runner:
            for i, row in enumerate(rows, 1):
                if row["name"] in failed and not args.retry_errors:
                    continue
                print(f"[{i}/{len(rows)}] {row['name']} ({row['task']}, {int(row['n_rows'])} rows)", flush=True)
                try:
                    build_dataset(row, args, cands, runner, args.work, done, meta_done)
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # one unreadable dataset must not stop a day-long build
                    runner.cancel_all()
                    append_jsonl(args.work / "datasets.jsonl", {
                        "dataset": row["name"], "status": "error", "error": f"{type(exc).__name__}: {exc}",
                        "trace": traceback.format_exc(limit=4)[-1500:]})
                    print(f"  skipped: {type(exc).__name__}: {exc}", flush=True)
    db = assemble(args.work, cands, args)
    path = write_metadb(db, args.out)
    sizes = ", ".join(f"{t}: {len(tb)} datasets" for t, tb in db.tables.items())
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB; {sizes}; {args.configs} configurations per task)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
