"""Run systems × datasets × seeds (× folds) at one budget, AMLB style, one JSON line per finished run.

    python -m benchmarks.automl.run --systems autolearn flaml lightgbm_default --datasets main20.txt \
        --budget 60 --seeds 0 --out benchmarks/results/automl-60s
    python -m benchmarks.automl.run --smoke

Results go to ``OUT/results.jsonl`` (appended and fsynced after every run, so a crash or a kill loses
nothing finished; a rerun with the same ``--out`` skips what is done), bulky files (splits, Parquet
task files, runner logs, predictions) to ``OUT/raw/`` (git-ignored), and ``report.md`` plus plots to
``OUT`` at the end (``python -m benchmarks.automl.report OUT`` rebuilds them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from benchmarks.automl import datasets as ds
from benchmarks.automl.metrics import align_proba, constant_score, evaluate
from benchmarks.automl.results import ResultsLog, result_key, utc_now
from benchmarks.automl.splits import encode_target, load_or_make_splits, write_task_files
from benchmarks.automl.systems import SYSTEMS, RunContext, System, SystemOutput, build_system

BASELINE_NAMES = ("constant", "lightgbm_default", "rf_default")
SMOKE_SUITE = "small.txt"
METRIC_FIELDS = ("metric", "score", "auc", "logloss", "rmse", "acc", "balacc", "r2")


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse (numbers, lists, null), else strings."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def score_output(out: SystemOutput, task: str, y_test: np.ndarray, n_classes: int) -> dict[str, Any]:
    """Metrics of a system's predictions, or the reason they cannot be scored (then the run failed)."""
    n = len(y_test)
    if task == "regression":
        if out.pred is None or len(out.pred) != n:
            raise ValueError(f"expected {n} predictions, got {None if out.pred is None else len(out.pred)}")
        return evaluate(task, y_test, pred=np.asarray(out.pred, dtype=float))
    if out.proba is None or out.classes is None:
        raise ValueError("no probabilities (classification systems must return predict_proba)")
    proba = np.asarray(out.proba, dtype=float)
    if proba.shape != (n, len(out.classes)) and not (proba.ndim == 1 and len(proba) == n):
        raise ValueError(f"probabilities of shape {proba.shape}, expected ({n}, {len(out.classes)})")
    return evaluate(task, y_test, proba=align_proba(proba, out.classes, n_classes))


def git_state() -> dict[str, Any]:
    """The commit the benchmark ran from, and whether the tree had uncommitted changes."""
    try:
        root = ds.REPO_ROOT
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                                    text=True).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except OSError:
        return {}


def record_run(out: Path, argv: Sequence[str]) -> None:
    """Append who ran what, where, to ``out/runs.jsonl``: the provenance a report quotes."""
    with open(out / "runs.jsonl", "a") as fh:
        fh.write(json.dumps({"argv": list(argv), "started_at": utc_now(), "python": platform.python_version(),
                             "machine": platform.platform(), "cpu_count": os.cpu_count(),
                             "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "git": git_state()}) + "\n")


def _prune(run_dir: Path) -> None:
    """Drop saved models and search folders (sizes are already measured); keep logs and predictions."""
    if not run_dir.exists():
        return
    for path in run_dir.iterdir():
        if path.name in ("log.txt", "result.json"):
            continue
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def run_benchmark(systems: Sequence[System], specs: Sequence[ds.DatasetSpec], out: Path, budget: float,
                  seeds: Sequence[int] = (0,), folds: int = 1, cores: int = 2, retry: tuple[str, ...] = (),
                  keep_models: bool = False, log: Callable[[str], None] = print) -> int:
    """Run every (dataset, seed, fold, system) not yet in ``out/results.jsonl``; return how many ran."""
    out = Path(out)
    results = ResultsLog(out / "results.jsonl")
    done = results.done(retry)
    todo = [(s.name, spec.name, seed, fold, float(budget)) for spec in specs for seed in seeds
            for fold in range(folds) for s in systems]
    remaining = [k for k in todo if k not in done]
    log(f"{len(todo)} runs planned, {len(todo) - len(remaining)} already done, {len(remaining)} to run -> {out}")
    count = 0
    for spec in specs:
        if all(k in done for k in todo if k[1] == spec.name):
            continue
        try:
            data = ds.load(spec)
        except Exception as exc:  # a broken dataset must not stop the other datasets
            log(f"!! {spec.name}: cannot load: {type(exc).__name__}: {exc}")
            with open(out / "dataset_errors.jsonl", "a") as fh:
                fh.write(json.dumps({"dataset": spec.name, "error": f"{type(exc).__name__}: {exc}", "at": utc_now()}) + "\n")
            continue
        if data.n_dropped_missing_target:
            log(f"   {spec.name}: dropped {data.n_dropped_missing_target} rows with a missing target")
        y_enc, class_names = encode_target(data.y, data.task)
        n_classes = len(class_names)
        for seed in seeds:
            splits = load_or_make_splits(out / "raw" / "splits" / spec.name / f"seed{seed}.npz", spec.name,
                                         data.y, data.task, seed, folds)
            for split in splits:
                meta = {"dataset": spec.name, "task": data.task, "n_classes": n_classes, "classes": class_names,
                        "seed": seed}
                task_dir = write_task_files(out / "raw" / "tasks" / spec.name / f"seed{seed}_fold{split.fold}",
                                            data.X, y_enc, split, meta)
                y_train, y_test = y_enc[split.train], y_enc[split.test]
                zero = constant_score(data.task, y_train, y_test, n_classes)
                for system in systems:
                    key = (system.name, spec.name, seed, split.fold, float(budget))
                    if key in done:
                        continue
                    run_dir = out / "raw" / "runs" / system.name / spec.name / f"seed{seed}_fold{split.fold}"
                    ctx = RunContext(task_dir=task_dir, out_dir=run_dir, task=data.task, n_classes=n_classes,
                                     budget=float(budget), cores=cores, seed=seed)
                    started = utc_now()
                    output = system.run(ctx)
                    record = _record(system, spec, data, ctx, split, output, y_test, zero, started)
                    results.append(record)
                    count += 1
                    if not keep_models:
                        _prune(run_dir)
                    log(_progress(record, count, len(remaining)))
    return count


def _record(system: System, spec: ds.DatasetSpec, data: ds.LoadedDataset, ctx: RunContext, split: Any,
            output: SystemOutput, y_test: np.ndarray, zero: float, started: str) -> dict[str, Any]:
    status, reason = output.status, output.reason
    metrics: dict[str, Any] = {}
    if status == "ok":
        try:
            metrics = score_output(output, ctx.task, y_test, ctx.n_classes)
        except Exception as exc:
            status, reason = "failed", f"unusable predictions: {type(exc).__name__}: {exc}"
    fit_time = output.fit_time if np.isfinite(output.fit_time) else output.wall_time
    n_test = len(split.test)
    record = {
        "system": system.name, "version": output.version, "options": system.options,
        "dataset": spec.name, "collection": spec.collection, "task": ctx.task,
        "seed": ctx.seed, "fold": split.fold, "budget": ctx.budget, "cores": ctx.cores,
        "status": status, "reason": reason,
        **{k: metrics.get(k, float("nan")) for k in METRIC_FIELDS},
        "constant_score": zero,
        "fit_time": output.fit_time, "overrun": max(0.0, fit_time - ctx.budget) if np.isfinite(fit_time) else None,
        "predict_time": output.predict_time, "predict_time_per_1k": output.predict_time / n_test * 1000.0,
        "wall_time": output.wall_time, "hard_limit": ctx.hard_limit,
        "model_size_bytes": output.model_size_bytes,
        "model_size_reason": output.model_size_reason or ("" if np.isfinite(output.model_size_bytes)
                                                          else "no model saved (run did not finish)"),
        "peak_memory_mb": output.peak_memory_mb,
        "n_train": len(split.train), "n_test": n_test, "n_features": data.X.shape[1], "n_classes": ctx.n_classes,
        "n_dropped_missing_target": data.n_dropped_missing_target, "split_fingerprint": split.fingerprint,
        "started_at": started, "finished_at": utc_now(), "info": output.info,
    }
    if status != "ok":
        record["metric"] = {"binary": "auc", "multiclass": "logloss", "regression": "rmse"}[ctx.task]
    assert result_key(record)  # every record must be keyable, or resume would redo it
    return record


def _progress(r: dict[str, Any], i: int, n: int) -> str:
    what = f"{r['metric']}={r[r['metric']]:.4f}" if r["status"] == "ok" else r["reason"].splitlines()[0][:120] \
        if r["reason"] else ""
    mem = f", {r['peak_memory_mb']:.0f} MB" if r["peak_memory_mb"] == r["peak_memory_mb"] else ""
    return (f"[{i}/{n}] {r['system']:<16} {r['dataset']:<28} seed {r['seed']} fold {r['fold']}: {r['status']} "
            f"{what} (wall {r['wall_time']:.1f} s{mem})")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--systems", nargs="+", help=f"any of: {' '.join(SYSTEMS)} (default: autolearn + baselines)")
    p.add_argument("--datasets", nargs="+", help="names from index.csv, suite files (main20.txt), paths, or "
                   "synthetic:binary|multiclass|regression")
    p.add_argument("--data-root", type=Path, default=None, help="folder with index.csv (default ../shared/datasets)")
    p.add_argument("--target", help="label column of datasets given by path")
    p.add_argument("--task", choices=ds.TASKS, help="task of datasets given by path (default: inferred)")
    p.add_argument("--budget", type=float, help="seconds per fit (default 60; 10 with --smoke)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--folds", type=int, default=1, help="outer folds per seed (1 = one 75/25 split)")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--out", type=Path, help="results folder (default benchmarks/results/automl-<budget>s)")
    p.add_argument("--autolearn-options", nargs="*", default=[], metavar="KEY=VALUE")
    p.add_argument("--peer-options", nargs="*", default=[], metavar="SYSTEM:KEY=VALUE")
    p.add_argument("--retry", nargs="*", default=[], choices=["failed", "timeout"], help="redo runs with these statuses")
    p.add_argument("--keep-models", action="store_true", help="keep saved models under OUT/raw/runs")
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--smoke", action="store_true", help="two small datasets, 10 s, autolearn + baselines")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.data_root or ds.default_data_root()
    if args.smoke:
        args.budget = args.budget or 10.0
        args.systems = args.systems or ["autolearn", *BASELINE_NAMES]
        if not args.datasets:
            suite_ok = (Path(root) / "index.csv").exists()
            args.datasets = [SMOKE_SUITE] if suite_ok else ["synthetic:binary", "synthetic:regression"]
        args.out = args.out or Path("benchmarks/results/smoke")
    budget = args.budget or 60.0
    systems_names = args.systems or ["autolearn", *BASELINE_NAMES]
    if not args.datasets:
        raise SystemExit("give --datasets (a suite file such as main20.txt, names or paths) or --smoke")
    options: dict[str, dict[str, Any]] = {"autolearn": parse_options(args.autolearn_options)}
    for item in args.peer_options:
        name, _, pair = item.partition(":")
        options.setdefault(name, {}).update(parse_options([pair]))
    systems = [build_system(n, options.get(n)) for n in systems_names]
    specs = ds.resolve(args.datasets, root, target=args.target, task=args.task)
    out = args.out or Path(f"benchmarks/results/automl-{budget:g}s")
    out.mkdir(parents=True, exist_ok=True)
    record_run(out, sys.argv[1:] if argv is None else list(argv))
    start = time.perf_counter()
    n = run_benchmark(systems, specs, out, budget, args.seeds, args.folds, args.cores,
                      retry=tuple(args.retry), keep_models=args.keep_models)
    print(f"{n} runs in {time.perf_counter() - start:.0f} s; results in {out / 'results.jsonl'}")
    if not args.no_report:
        from benchmarks.automl.report import write_report

        print(f"report: {write_report(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
