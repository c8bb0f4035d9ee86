"""A resumable campaign of (dataset, seed, system) runs at one budget, as the multi-fidelity and NAS
benchmarks run them: the shared command-line options, and the loop that skips runs ``results.jsonl``
already holds, runs the rest in the caller's order and appends each record as it finishes."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.automl.datasets import DatasetSpec
from benchmarks.automl.results import ResultsLog, parse_utc

Run = tuple[DatasetSpec, int, str]  # (dataset, seed, system)


def add_arguments(p: argparse.ArgumentParser, suite: str, out: str, quick_budget: float) -> None:
    """Budget, seeds, datasets, workers, output folder, retry and report-only."""
    p.add_argument("--budget", type=float, help=f"seconds per search (default 300; {quick_budget:g} with --quick)")
    p.add_argument("--seeds", type=int, nargs="+", help="default 0 1 2 (0 with --quick)")
    p.add_argument("--suite", default=suite, help="suite file (benchmarks/automl/suites/)")
    p.add_argument("--datasets", nargs="+", help="names, suite files or paths instead of --suite")
    p.add_argument("--data-root", type=Path, help="folder with index.csv (default ../shared/datasets)")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path(out))
    p.add_argument("--retry-failed", action="store_true", help="redo runs that failed")
    p.add_argument("--redo-before", metavar="TIME", type=_iso_time,
                   help="redo runs started before this UTC time (ISO 8601, e.g. 2026-12-07T16:00), e.g. after "
                        "changing a system; the new records replace the old ones, and the same command resumes")
    p.add_argument("--report-only", action="store_true", help="rebuild the report from results.jsonl")


def _iso_time(text: str) -> str:
    try:
        parse_utc(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 time such as 2026-12-07T16:00, got {text!r}") from None
    return text


def fill_defaults(args: argparse.Namespace, quick_budget: float, quick_datasets: Sequence[str]) -> None:
    """``--quick``'s budget, datasets and seed where not given, then the full run's defaults."""
    if args.quick:
        args.budget = args.budget or quick_budget
        args.datasets = args.datasets or list(quick_datasets)
        args.seeds = args.seeds or [0]
    args.budget = args.budget or 300.0
    args.datasets = args.datasets or [args.suite]
    args.seeds = args.seeds or [0, 1, 2]


def run(runs: Sequence[Run], args: argparse.Namespace, run_one: Callable[..., dict[str, Any]],
        describe: Callable[[dict[str, Any]], str]) -> None:
    """Run ``run_one(spec, system, seed, args)`` for every run not finished yet (failed ones too with
    ``--retry-failed``), appending each record; ``describe`` says what a successful record holds."""
    log = ResultsLog(args.out / "results.jsonl")
    done = log.done(retry=("failed",) if args.retry_failed else (), redo_before=args.redo_before)
    todo = [(spec, seed, s) for spec, seed, s in runs if (s, spec.name, seed, 0, float(args.budget)) not in done]
    print(f"{len(runs)} runs, {len(todo)} to do at {args.budget:g} s -> {args.out}", flush=True)
    for i, (spec, seed, system) in enumerate(todo, 1):
        record = run_one(spec, system, seed, args)
        log.append(record)
        what = (describe(record) if record["status"] == "ok"
                else f"failed: {record['reason'].strip().splitlines()[-1][:120]}")
        print(f"[{i}/{len(todo)}] {spec.name} seed {seed} {system}: {what}", flush=True)
