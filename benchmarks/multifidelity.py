"""Multi-fidelity search: how soon does each strategy reach what random search reaches in the whole budget?

    python benchmarks/multifidelity.py                       # suites/multifidelity.txt, 7 strategies, 3 seeds, 300 s
    python benchmarks/multifidelity.py --quick --out /tmp/mf # 2 small datasets, 3 strategies, 1 seed, 20 s

Every (dataset, seed, strategy) is one ``AutoClassifier`` / ``AutoRegressor(time_budget=B, seed=s,
strategy=..., n_jobs=...)`` fit on the training part of the AutoML harness's seeded 75/25 split
(``benchmarks.automl.splits``: same loader, same split), scored on the test part with the task's AMLB
metric (ROC AUC binary, log loss multiclass, RMSE regression). Strategies: ``random``, ``gp`` (Bayesian
optimization), ``sh``, ``hyperband``, ``bohb``, ``asha`` and ``auto`` (the AutoML default).
``auto`` runs as the estimators ship it (meta-learned warm start, then the hand-made portfolio, then
its Gaussian process: ``autolearn.strategy``); every other strategy runs without the meta-learned warm
start (``warm_start=False``, see ``warm_start_for``), so that ``random`` is plain random search and the
schedulers are the algorithms themselves. With the warm start, random search found its final loss among
the shared warm-start configurations within seconds on some datasets (a first reading, session 12), which
measures the warm start, not the search.

**Anytime curve.** From the fitted estimator's trial records (``search_.records``): every successful
validation trial at full budget (``budget >= 1``, what the ensemble may use; lower-rung results do not
count), at the wall time it finished (``started + duration``) measured from the start of ``fit``; the
curve is the best validation loss so far at each improvement. Setup before the first trial (checks,
meta-features) is on the clock for every strategy alike.

**Time to target.** The target of a (dataset, seed) is random search's final validation loss there
(the last point of its curve). A strategy's time to target is the first time its curve is at or below
it (relative tolerance 1e-9); random search's own is its last improvement. Ratio = time(strategy) /
time(random). **Rule:** a strategy that never reaches the target within its budget (or failed) gets
ratio +inf, i.e. counts as slower than random; the median is taken over all datasets × seeds with
those infinities (so a median of inf means it missed the target on more than half), and the share of
pairs where the target was reached is reported beside it. Pairs where random search has no full-budget
result have no target and are left out. Target of the issue: ``auto`` reaches random's final loss in a
third of the time or less, on median.

Output in ``--out`` (default ``benchmarks/results/multifidelity``): ``results.jsonl`` (one line per run,
appended and fsynced as it finishes; a rerun skips finished runs), ``runs.csv`` (one row per run with its
target, time and ratio), ``report.md``, ``anytime_<dataset>.png`` (median best-so-far validation loss over
seeds per strategy) and ``reached.png`` (share of dataset × seed targets reached vs time). Splits go to
``--out/raw/`` (git-ignored). Time: the full run is 10 datasets × 7 strategies × 3 seeds × (300 s + ~5 %)
≈ 17-18 h on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import traceback
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.automl import campaign  # noqa: E402
from benchmarks.automl import datasets as ds  # noqa: E402
from benchmarks.automl.metrics import MAIN_METRIC, n_classes, score_model  # noqa: E402
from benchmarks.automl.report import markdown_table  # noqa: E402
from benchmarks.automl.results import new_record, read_results, result_key, utc_now  # noqa: E402
from benchmarks.automl.splits import encode_target, load_or_make_splits  # noqa: E402

STRATEGIES = ("random", "gp", "sh", "hyperband", "bohb", "asha", "auto")
REFERENCE = "random"
DEFAULT = "auto"
TARGET_RATIO = 1 / 3
REACH_TOLERANCE = 1e-9
QUICK_DATASETS = ["phoneme", "page_blocks"]
QUICK_STRATEGIES = ["random", "asha", "auto"]
QUICK_BUDGET = 20.0

Curve = list[tuple[float, float]]


# -- pure functions (tests/benchmarks/test_multifidelity.py) ----------------------------------------------
def anytime_curve(points: Iterable[tuple[float, float]]) -> Curve:
    """``(time, loss)`` of finished trials → ``(time, best loss so far)`` at each strict improvement.

    Non-finite losses (failed trials) never improve anything.
    """
    curve: Curve = []
    best = math.inf
    for t, loss in sorted(points, key=lambda p: p[0]):
        if math.isfinite(loss) and loss < best:
            best = loss
            curve.append((float(t), float(loss)))
    return curve


def full_budget_points(records: Sequence[Any], start: float) -> list[tuple[float, float]]:
    """``(seconds since start, loss)`` of the successful full-budget validation trials among
    ``TrialRecord``s: what the ensemble may use, not lower-rung results or refits."""
    points = []
    for r in records:
        res = r.result
        if res is None or not res.ok or r.spec.budget < 1.0 or r.spec.instance is not None:
            continue
        points.append((res.started + res.duration - start, res.loss))
    return points


def time_to_target(curve: Curve, target: float, rel_tol: float = REACH_TOLERANCE) -> float:
    """The first time the curve is at or below ``target`` (+inf if never)."""
    if not math.isfinite(target):
        return math.inf
    slack = rel_tol * max(abs(target), 1.0)
    return next((t for t, best in curve if best <= target + slack), math.inf)


def time_ratio(t_strategy: float, t_reference: float) -> float:
    """``t_strategy / t_reference``; +inf when the strategy never got there; NaN without a reference."""
    if not math.isfinite(t_reference):
        return math.nan
    if not math.isfinite(t_strategy):
        return math.inf
    return t_strategy / max(t_reference, 1e-9)


def median_ratio(ratios: Iterable[float]) -> float:
    """Median over the pairs that have a target (NaN ratios left out), +inf ratios included as the
    largest values: a strategy missing the target on more than half the pairs has median +inf."""
    values = sorted(r for r in ratios if not math.isnan(r))
    if not values:
        return math.nan
    n = len(values)
    lo, hi = values[(n - 1) // 2], values[n // 2]
    return lo if lo == hi else (lo + hi) / 2  # an inf in the middle pair gives inf, never NaN


def best_at(curve: Curve, t: float) -> float:
    """Best loss reached by time ``t`` (NaN before the first full-budget result)."""
    value = math.nan
    for ti, best in curve:
        if ti > t:
            break
        value = best
    return value


def compare(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per run with its target (random's final loss, same dataset and seed), time to it and ratio."""
    rows = []
    curves = {(r["dataset"], int(r["seed"]), r["system"]): [tuple(p) for p in (r.get("curve") or [])]
              for r in records}
    for r in records:
        reference = curves.get((r["dataset"], int(r["seed"]), REFERENCE), [])
        target = reference[-1][1] if reference else math.nan
        t_ref = time_to_target(reference, target)
        curve = curves[(r["dataset"], int(r["seed"]), r["system"])]
        t = time_to_target(curve, target)
        rows.append({"dataset": r["dataset"], "task": r.get("task"), "seed": int(r["seed"]), "strategy": r["system"],
                     "status": r["status"], "final_val_loss": curve[-1][1] if curve else math.nan,
                     "target": target, "time_to_target": t, "reference_time": t_ref, "ratio": time_ratio(t, t_ref),
                     "metric": r.get("metric"), "test_value": r.get(r.get("metric") or "", math.nan),
                     "test_score": r.get("score", math.nan), "n_trials": r.get("n_trials"),
                     "n_full_budget": r.get("n_full_budget"), "n_warm_started": r.get("n_warm_started")})
    return pd.DataFrame(rows)


def summarize(df: pd.DataFrame, strategies: Sequence[str]) -> pd.DataFrame:
    """Per strategy: median ratio, share of targets reached, mean test rank, failures."""
    with_target = df[df["ratio"].notna()]
    ranks = df.assign(rank=df.groupby(["dataset", "seed"])["test_score"].rank(ascending=False, method="average"))
    rows = []
    for s in strategies:
        ratios = with_target.loc[with_target["strategy"] == s, "ratio"]
        rows.append({"strategy": s, "pairs": len(ratios), "median_ratio": median_ratio(ratios),
                     "reached": float(np.isfinite(ratios).mean()) if len(ratios) else math.nan,
                     "mean_test_rank": float(ranks.loc[ranks["strategy"] == s, "rank"].mean()),
                     "failed": int((df.loc[df["strategy"] == s, "status"] != "ok").sum())})
    return pd.DataFrame(rows)


# -- one run -------------------------------------------------------------------------------------------
def warm_start_for(strategy: str) -> bool:
    """Only the AutoML default gets the meta-learned warm start: the reference and the schedulers run as
    the plain algorithms."""
    return strategy == DEFAULT


def run_one(spec: ds.DatasetSpec, strategy: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Split, search with ``strategy``, score on the test rows; the record keeps the anytime curve."""
    from autolearn import AutoClassifier, AutoRegressor

    record = new_record(strategy, spec.name, seed, args.budget, args.n_jobs)
    try:
        data = ds.load(spec)
        y, _ = encode_target(data.y, data.task)
        (split,) = load_or_make_splits(args.out / "raw" / "splits" / spec.name / f"seed{seed}.npz", spec.name,
                                       data.y, data.task, seed, 1)
        X_train, X_test = data.X.iloc[split.train], data.X.iloc[split.test]
        record.update(task=data.task, metric=MAIN_METRIC[data.task], n_train=len(split.train),
                      n_test=len(split.test))
        options = dict(time_budget=args.budget, seed=seed, strategy=strategy, n_jobs=args.n_jobs,
                       warm_start=warm_start_for(strategy))
        record["warm_start"] = options["warm_start"]
        start = time.time()
        if data.task == "regression":
            est = AutoRegressor(**options).fit(X_train, y[split.train])
        else:
            est = AutoClassifier(**options).fit(X_train, y[split.train], task=data.task)
        scores = score_model(data.task, est, X_test, y[split.test], n_classes(data.task, y))
        fit_time = time.time() - start
        records = est.search_.records
        validation = [r for r in records if r.result is not None and r.spec.instance is None]
        record.update({k: v for k, v in scores.items() if k != "metric"}, status="ok", fit_time=fit_time,
                      curve=anytime_curve(full_budget_points(records, start)), n_trials=len(validation),
                      n_full_budget=sum(r.result.ok and r.spec.budget >= 1.0 for r in validation),
                      n_warm_started=sum(bool(r.result.info.get("warm_started")) for r in validation))
    except Exception:  # one run failing must not stop the benchmark
        record["reason"] = traceback.format_exc()
    record["finished_at"] = utc_now()
    return record


# -- report --------------------------------------------------------------------------------------------
def _fmt_time(t: float) -> str:
    return "never" if not math.isfinite(t) else f"{t:.0f}"


def plot_curves(df_records: list[dict[str, Any]], strategies: Sequence[str], out: Path) -> list[str]:
    """``anytime_<dataset>.png``: per strategy, the median over seeds of the best-so-far validation loss."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    datasets = sorted({r["dataset"] for r in df_records})
    for dataset in datasets:
        runs = [r for r in df_records if r["dataset"] == dataset and r.get("curve")]
        if not runs:
            continue
        budget = max(float(r["budget"]) for r in runs)
        grid = np.linspace(0, budget * 1.05, 200)
        fig, ax = plt.subplots(figsize=(6, 4))
        for s in strategies:
            curves = [[tuple(p) for p in r["curve"]] for r in runs if r["system"] == s]
            if not curves:
                continue
            values = np.array([[best_at(c, t) for t in grid] for c in curves])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # before any seed's first result: all NaN
                median = np.nanmedian(values, axis=0)
            ax.step(grid, median, where="post", label=s, lw=2.2 if s == DEFAULT else 1.2)
        ax.set(xlabel="seconds since fit started", ylabel="best full-budget validation loss",
               title=f"{dataset} (median over seeds)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"anytime_{dataset}.png"
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        names.append(name)
    return names


def plot_reached(df: pd.DataFrame, strategies: Sequence[str], budget: float, out: Path) -> str:
    """``reached.png``: share of dataset × seed targets (random's final loss) reached by each time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0, budget * 1.05, 200)
    fig, ax = plt.subplots(figsize=(6, 4))
    with_target = df[df["ratio"].notna()]
    for s in strategies:
        times = with_target.loc[with_target["strategy"] == s, "time_to_target"].to_numpy(dtype=float)
        if len(times):
            ax.step(grid, [(times <= t).mean() for t in grid], where="post", label=s, lw=2.2 if s == DEFAULT else 1.2)
    ax.set(xlabel="seconds since fit started", ylabel="share of targets reached", ylim=(0, 1.02),
           title="reaching random search's final validation loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "reached.png", dpi=90)
    plt.close(fig)
    return "reached.png"


def write_report(out: Path, budget: float, strategies: Sequence[str]) -> str:
    """``report.md``, ``runs.csv`` and the PNGs from the finished runs in ``results.jsonl`` at ``budget``."""
    latest = {result_key(r): r for r in read_results(out / "results.jsonl")}
    records = [r for r in latest.values() if float(r["budget"]) == float(budget) and r["system"] in strategies]
    if not records:
        text = f"# Multi-fidelity search\n\nNo results at {budget:g} s yet.\n"
        (out / "report.md").write_text(text)
        return text
    df = compare(records)
    df.to_csv(out / "runs.csv", index=False)
    summary = summarize(df, strategies)
    auto = summary.set_index("strategy")["median_ratio"].get(DEFAULT, math.nan)
    verdict = ("not measured (auto not run)" if DEFAULT not in strategies else
               f"**{'met' if auto <= TARGET_RATIO else 'NOT met'}** (median ratio {auto:.2f})")
    per_time = df.pivot_table(index="dataset", columns="strategy", values="time_to_target", aggfunc="median")
    per_ratio = df.pivot_table(index="dataset", columns="strategy", values="ratio",
                               aggfunc=lambda v: median_ratio(list(v)))
    per_test = df.pivot_table(index="dataset", columns="strategy", values="test_value", aggfunc="mean")
    order = [s for s in strategies if s in per_time.columns]
    times = per_time[order].map(_fmt_time)
    ratios = per_ratio[order].map(lambda v: "–" if math.isnan(v) else ("inf" if math.isinf(v) else f"{v:.2f}"))
    tests = per_test[order].map(lambda v: "failed" if math.isnan(v) else f"{v:.4f}")
    metric = df.groupby("dataset")["metric"].first()
    tests.insert(0, "metric", metric.reindex(tests.index))
    table = summary.assign(median_ratio=summary["median_ratio"].map(lambda v: f"{v:.2f}"),
                           reached=summary["reached"].map(lambda v: "–" if math.isnan(v) else f"{v:.0%}"))
    plots = plot_curves(records, order, out)
    reached = plot_reached(df, order, budget, out)
    lines = [
        "# Multi-fidelity search: time to reach random search's final validation loss", "",
        f"Budget {budget:g} s per search, {df['dataset'].nunique()} dataset(s), seeds "
        f"{sorted(df['seed'].unique().tolist())}, strategies {', '.join(order)} (`{out / 'results.jsonl'}`). "
        "Target of a dataset × seed: random search's final full-budget validation loss there. Ratio = "
        "time to target / random's time to it; never reached (or failed) = inf, counted in the median "
        "(see `benchmarks/multifidelity.py`).", "",
        f"**Target** (`{DEFAULT}` reaches it in ≤ {TARGET_RATIO:.2f} × random's time, on median): {verdict}.", "",
        "## Summary", "", markdown_table(table, digits=2), "",
        "## Seconds to the target (median over seeds)", "", markdown_table(times.reset_index()), "",
        "## Ratio to random search (median over seeds)", "", markdown_table(ratios.reset_index()), "",
        "## Test metric (mean over seeds; AUC higher, log loss / RMSE lower is better)", "",
        markdown_table(tests.reset_index(), digits=4), "",
        "## Plots", "", f"![reached]({reached})", "", *[f"![{p}]({p})" for p in plots], "",
    ]
    bad = df[df["status"] != "ok"]
    if len(bad):
        reasons = {result_key(r): (r.get("reason") or "").strip().splitlines()[-1:] for r in records}
        lines += ["## Failures", ""] + [
            f"- {row.dataset} / {row.strategy} / seed {row.seed}: "
            f"{(reasons.get((row.strategy, row.dataset, row.seed, 0, float(budget))) or [''])[0][:160]}"
            for row in bad.itertuples()] + [""]
    text = "\n".join(lines)
    (out / "report.md").write_text(text + "\n")
    return text


# -- command line --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    campaign.add_arguments(p, "multifidelity.txt", "benchmarks/results/multifidelity", QUICK_BUDGET)
    p.add_argument("--strategies", nargs="+", choices=STRATEGIES, help=f"default all: {' '.join(STRATEGIES)}")
    p.add_argument("--quick", action="store_true",
                   help=f"{' and '.join(QUICK_DATASETS)}, {QUICK_BUDGET:g} s, seed 0, {' '.join(QUICK_STRATEGIES)}")
    args = p.parse_args(argv)
    campaign.fill_defaults(args, QUICK_BUDGET, QUICK_DATASETS)
    if args.quick:
        args.strategies = args.strategies or QUICK_STRATEGIES
    args.strategies = list(dict.fromkeys(args.strategies or STRATEGIES))
    if REFERENCE not in args.strategies:
        args.strategies.insert(0, REFERENCE)  # every ratio is relative to it
    return args


def describe(record: dict[str, Any]) -> str:
    """One finished run in the progress log."""
    return (f"{record['metric']}={record[record['metric']]:.4f}, best val loss "
            f"{record['curve'][-1][1] if record['curve'] else math.nan:.4f}, {record['n_trials']} trials "
            f"({record['n_full_budget']} full, {record['n_warm_started']} warm-started)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        specs = ds.resolve(args.datasets, args.data_root)
        runs = [(spec, seed, s) for spec in specs for seed in args.seeds for s in args.strategies]
        campaign.run(runs, args, run_one, describe)
    print(write_report(args.out, args.budget, args.strategies))
    print(f"report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
