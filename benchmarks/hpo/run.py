"""Run optimizers x tasks x seeds and append one JSON line per finished run.

    python -m benchmarks.hpo.run --tasks all --optimizers default --seeds 10 --evals 100 --out benchmarks/results/hpo

``--tasks``: ``all``, ``synthetic``, ``real`` or task names; ``--optimizers``: ``default`` (ours that apply
plus the peers), ``ours``, ``peers`` or names from :func:`benchmarks.hpo.runners.adapters`. ``--seeds N``
means seeds 0..N-1 (``--seed-list`` picks exact ones).

Why a JSON-lines log: a full run takes an hour or more on a shared machine; every finished
(task, optimizer, seed) is written and fsynced at once, so a kill loses at most the run in progress
and a rerun with the same ``--out`` skips what is done (every ``*.jsonl`` in ``--out`` counts, so two
processes may write two logs side by side). ``--jobs 2`` runs two at a time; each worker is pinned to
one BLAS/torch thread, so ``--jobs`` is the number of cores used.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy loads: one thread per worker process

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.hpo.functions import Task, synthetic_tasks  # noqa: E402
from benchmarks.hpo.real_tasks import real_tasks  # noqa: E402
from benchmarks.hpo.runners import OURS_DEFAULT, PEERS, adapters  # noqa: E402

FINAL = ("ok", "failed", "skipped")  # a rerun does not redo these; "not_installed" is retried


def all_tasks() -> dict[str, Task]:
    return {**synthetic_tasks(), **real_tasks()}


def resolve_tasks(names: list[str]) -> list[str]:
    tasks = all_tasks()
    out: list[str] = []
    for name in names:
        if name == "all":
            out += list(tasks)
        elif name in ("synthetic", "real"):
            out += [t.name for t in tasks.values() if t.kind == name]
        elif name in tasks:
            out.append(name)
        else:
            raise SystemExit(f"unknown task {name!r}; expected all, synthetic, real or one of {', '.join(tasks)}")
    return list(dict.fromkeys(out))


def resolve_optimizers(names: list[str]) -> list[str]:
    known = adapters()
    groups = {"default": list(OURS_DEFAULT) + list(PEERS), "ours": list(OURS_DEFAULT), "peers": list(PEERS)}
    out: list[str] = []
    for name in names:
        if name in groups:
            out += groups[name]
        elif name in known:
            out.append(name)
        else:
            raise SystemExit(f"unknown optimizer {name!r}; expected default, ours, peers or one of {', '.join(known)}")
    return list(dict.fromkeys(out))


def read_records(out: Path) -> list[dict[str, Any]]:
    """Every complete line of every ``*.jsonl`` in ``out`` (a line cut short by a kill is skipped)."""
    records = []
    for path in sorted(Path(out).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                if line.strip():
                    print(f"warning: skipped an incomplete line in {path}", file=sys.stderr)
    return records


def run_key(record: dict[str, Any]) -> tuple[str, str, int, int]:
    return (record["task"], record["optimizer"], int(record["seed"]), int(record["n_evals"]))


def _sig(x: float, digits: int = 7) -> float:
    return float(f"{x:.{digits}g}")


def code_version() -> str:
    """The repository's commit (+ "-dirty" with uncommitted changes): optimizers change between runs, and
    a results file that mixes versions must be detectable."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "autolearn"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("-dirty" if dirty else "")


def run_one(task_name: str, optimizer: str, seed: int, n_evals: int) -> dict[str, Any]:
    """One (task, optimizer, seed) run as a results record; never raises (a failure is a record)."""
    from threadpoolctl import threadpool_limits

    task = all_tasks()[task_name]  # fresh task: ConfigSpace spaces carry random state
    adapter = adapters()[optimizer]
    record: dict[str, Any] = {"task": task_name, "kind": task.kind, "optimizer": optimizer, "family": adapter.family,
                              "seed": seed, "n_evals": n_evals, "optimum": task.optimum, "status": "ok",
                              "reason": "", "losses": [], "overhead_ms": [], "wall_s": 0.0, "code": code_version()}
    reason = adapter.unavailable()
    if reason:
        return {**record, "status": "not_installed", "reason": reason}
    reason = adapter.skip_reason(task)
    if reason:
        return {**record, "status": "skipped", "reason": reason}
    if "torch" in sys.modules or optimizer == "optuna_gp":
        import torch

        torch.set_num_threads(1)
    start = time.perf_counter()
    try:
        with threadpool_limits(1):
            result = adapter.run(task, seed, n_evals)
    except Exception as exc:  # a crashing optimizer is a result to report, not the end of the benchmark
        return {**record, "status": "failed", "reason": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()[-2000:], "wall_s": round(time.perf_counter() - start, 2)}
    record["losses"] = [_sig(loss) for loss, _ in result]
    record["overhead_ms"] = [round(1000 * s, 3) for _, s in result]
    record["wall_s"] = round(time.perf_counter() - start, 2)
    if len(result) < n_evals:
        record["status"], record["reason"] = "failed", f"only {len(result)} of {n_evals} evaluations"
    return record


def append(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(record, allow_nan=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["all"])
    parser.add_argument("--optimizers", nargs="+", default=["default"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--seed-list", type=int, nargs="+", help="exact seeds (overrides --seeds)")
    parser.add_argument("--evals", type=int, default=100)
    parser.add_argument("--out", default="benchmarks/results/hpo")
    parser.add_argument("--log", default="results.jsonl", help="file name inside --out to append to")
    parser.add_argument("--jobs", type=int, default=1, choices=(1, 2), help="runs at a time (cores used)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / args.log
    seeds = args.seed_list if args.seed_list else list(range(args.seeds))
    done = {run_key(r) for r in read_records(out) if r.get("status") in FINAL}
    # seed-major order: stopping early still leaves every optimizer with the same seeds
    todo = [(t, o, s) for s in seeds for t in resolve_tasks(args.tasks) for o in resolve_optimizers(args.optimizers)
            if (t, o, s, args.evals) not in done]
    print(f"{len(todo)} runs to do ({len(done)} already in {out})", flush=True)

    def report(rec: dict[str, Any]) -> None:
        append(log, rec)
        best = min(rec["losses"]) if rec["losses"] else float("nan")
        ovh = sum(rec["overhead_ms"]) / max(len(rec["overhead_ms"]), 1)
        print(f"{rec['task']:20s} {rec['optimizer']:14s} seed={rec['seed']:<3d} {rec['status']:8s} best={best:.6g} "
              f"overhead={ovh:.1f}ms/ask wall={rec['wall_s']:.1f}s {rec['reason'][:80]}", flush=True)

    if args.jobs == 1:
        for t, o, s in todo:
            report(run_one(t, o, s, args.evals))
        return
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, t, o, s, args.evals) for t, o, s in todo]
        for fut in as_completed(futures):
            report(fut.result())


if __name__ == "__main__":
    main()
