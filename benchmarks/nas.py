"""Does neural architecture search pay, and does the "nn" model help the AutoML search?

    python benchmarks/nas.py --budget 300 --seeds 0 1 2 --out benchmarks/results/nas
    python benchmarks/nas.py --quick --out /tmp/nas   # two small subsampled datasets, 20 s, one seed: does it run?
    python benchmarks/nas.py --report-only --out benchmarks/results/nas

On the datasets of ``suites/nas.txt`` (12 of ``shared/datasets`` with 2,000-23,000 rows: 4 binary, 4
multiclass, 4 regression), for each seed, on the AutoML harness's seeded 75/25 split
(``benchmarks.automl.splits``: same loader, same split), the test metric of

* ``nas``: ``autolearn.nas.search`` (``--strategy``, ``--space``) within the budget;
* ``nn_default``: our network with the default residual architecture (no search; early stopping, at most
  the budget);
* ``mlp_sklearn``: scikit-learn's default MLPClassifier / MLPRegressor (imputation, one-hot, scaling);
* ``automl``: ``AutoClassifier`` / ``AutoRegressor(time_budget=B, n_jobs=..., seed=s)``, the default space;
* ``automl_nn``: the same with ``"nn"`` added to the default models.

Metric: the task's AMLB metric (ROC AUC binary, log loss multiclass, RMSE regression). Per dataset the
metric is averaged over the seeds both compared systems finished; a system that failed on any seed loses.
**Targets (issue "NAS")**: ``nas`` beats ``mlp_sklearn`` on at least 80 % of datasets; ``automl_nn`` is
never more than 0.5 % worse than ``automl`` (relative change of the mean metric, oriented so that positive
is better, as in ``benchmarks/ensemble.py``). A verdict is given once every dataset × seed × system ran;
before that the report is marked interim.

Runs go seed by seed (every dataset with seed 0 first), so an interrupted run still covers the datasets.
After a change to a system, ``--systems nas --redo-before 2026-12-07T16:00`` redoes its runs made before
that time (the new records replace the old; the same command resumes).
Output in ``--out``: ``results.jsonl`` (one line per run, appended and fsynced; a rerun skips finished
runs), ``nas.csv`` (per dataset × system: mean metric over seeds and change vs the reference),
``report.md``. Splits go to ``--out/raw/`` (git-ignored). Time: per dataset and seed 3 × 300 s of search
plus the default network (up to the budget) and the MLP: 12 datasets × 3 seeds ≈ 10 h on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# every network trains on one thread, as in search workers: torch's thread pool on a busy machine is
# many times slower, and the comparison should not depend on what else the machine runs
os.environ.setdefault("AUTOLEARN_TORCH_THREADS", "1")

from benchmarks.automl import campaign  # noqa: E402
from benchmarks.automl import datasets as ds  # noqa: E402
from benchmarks.automl.metrics import (  # noqa: E402
    HIGHER_IS_BETTER,
    MAIN_METRIC,
    n_classes,
    outcome,
    relative_change,
    score_model,
)
from benchmarks.automl.report import markdown_table  # noqa: E402
from benchmarks.automl.results import latest, new_record, read_results, utc_now  # noqa: E402
from benchmarks.automl.splits import encode_target, load_or_make_splits  # noqa: E402

SYSTEMS = ("nas", "nn_default", "mlp_sklearn", "automl", "automl_nn")
# (system, reference, rule): "share" = beats the reference on at least `value` of the datasets;
# "worst" = never worse than the reference by more than `value` (relative)
TARGETS = (("nas", "mlp_sklearn", "share", 0.80), ("automl_nn", "automl", "worst", -0.005))
TIE_TOLERANCE = 0.001
QUICK_DATASETS = ["phoneme", "529_pollen"]
QUICK_BUDGET, QUICK_ROWS, QUICK_EPOCHS = 20.0, 600, 20


# -- one run -------------------------------------------------------------------------------------------
def sklearn_mlp(task: str, seed: int) -> Any:
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), make_column_selector(dtype_include="number")),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         make_column_selector(dtype_exclude="number")),
    ])
    model = MLPRegressor(random_state=seed) if task == "regression" else MLPClassifier(random_state=seed)
    return make_pipeline(prep, model)


def fit_system(system: str, task: str, X: pd.DataFrame, y: np.ndarray, seed: int, args: argparse.Namespace) -> Any:
    from autolearn import AutoClassifier, AutoRegressor, nas
    from autolearn.components import components

    regression = task == "regression"
    if system == "nas":
        return nas.search(X, y, task, strategy=args.strategy, space=args.space, time_budget=args.budget,
                          max_epochs=args.max_epochs, seed=seed, n_jobs=args.n_jobs)
    if system == "nn_default":
        cls = nas.NeuralNetRegressor if regression else nas.NeuralNetClassifier
        return cls(epochs=args.max_epochs, seed=seed, max_time=args.budget).fit(X, y)
    if system == "mlp_sklearn":
        return sklearn_mlp(task, seed).fit(X, y)
    include = None
    if system == "automl_nn":
        include = [c.name for c in components("model", task) if c.default_in_space] + ["nn"]
    options = dict(time_budget=args.budget, n_jobs=args.n_jobs, seed=seed, include=include)
    return AutoRegressor(**options).fit(X, y) if regression else AutoClassifier(**options).fit(X, y, task=task)


def describe(system: str, model: Any) -> dict[str, Any]:
    """What a run's record keeps about the fitted model: the architecture, how many were tried, and
    for the AutoML runs how many trials ran and what share of the ensemble the networks hold."""
    if system == "nas":
        return {"architecture": str(model.architecture_), "n_trials": len(model.history_),
                "n_networks": model.search_["n_networks"]}
    if system == "nn_default":
        return {"architecture": str(getattr(model, "architecture_", ""))}
    if system.startswith("automl"):
        board = model.leaderboard()
        return {"n_trials": len(board), "n_nn_trials": int((board["model"] == "nn").sum()),
                "nn_weight": float(board.loc[board["model"] == "nn", "ensemble_weight"].sum())}
    return {}


def run_one(spec: ds.DatasetSpec, system: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Split, fit ``system`` on the training rows, score on the test rows; failures are recorded, not raised."""
    record = new_record(system, spec.name, seed, args.budget, args.n_jobs)
    try:
        data = ds.load(spec)
        X, y_raw = data.X, data.y
        if args.max_rows and len(X) > args.max_rows:  # --quick: a seeded random subsample
            keep = np.sort(np.random.default_rng(seed).permutation(len(X))[:args.max_rows])
            X, y_raw = X.iloc[keep].reset_index(drop=True), y_raw.iloc[keep].reset_index(drop=True)
        y, _ = encode_target(y_raw, data.task)
        (split,) = load_or_make_splits(args.out / "raw" / "splits" / spec.name / f"seed{seed}.npz", spec.name,
                                       y_raw, data.task, seed, 1)
        X_train, X_test = X.iloc[split.train], X.iloc[split.test]
        record.update(task=data.task, metric=MAIN_METRIC[data.task], n_train=len(split.train),
                      n_test=len(split.test))
        start = time.monotonic()
        model = fit_system(system, data.task, X_train, y[split.train], seed, args)
        record["fit_time"] = time.monotonic() - start
        scores = score_model(data.task, model, X_test, y[split.test], n_classes(data.task, y))
        record.update({k: v for k, v in scores.items() if k != "metric"}, **describe(system, model), status="ok")
    except Exception:  # one run failing must not stop the benchmark
        record["reason"] = traceback.format_exc()
    record["finished_at"] = utc_now()
    return record


# -- comparison ----------------------------------------------------------------------------------------
def dataset_means(records: list[dict[str, Any]], systems: Sequence[str]) -> pd.DataFrame:
    """One row per (dataset, system): the metric averaged over the seeds it finished, with ``failed``
    set when any of its seeds failed."""
    rows = []
    frame = pd.DataFrame.from_records(records)
    for (dataset, system), group in frame.groupby(["dataset", "system"], sort=False):
        if system not in systems:
            continue
        metric = group["metric"].dropna().iloc[0] if group["metric"].notna().any() else None
        ok = group[group["status"] == "ok"]
        values = pd.to_numeric(ok[metric], errors="coerce") if metric else pd.Series(dtype=float)
        rows.append({"dataset": dataset, "system": system, "task": group["task"].dropna().iloc[0]
                     if group["task"].notna().any() else None, "metric": metric,
                     "seeds": sorted(int(s) for s in ok["seed"]), "failed": bool((group["status"] != "ok").any()),
                     "value": float(values.mean()) if len(values) else math.nan,
                     "fit_time": float(ok["fit_time"].mean()) if len(ok) else math.nan})
    return pd.DataFrame(rows)


def paired_change(records: list[dict[str, Any]], system: str, reference: str) -> pd.DataFrame:
    """Per dataset: the mean metric of ``system`` and ``reference`` over the seeds both finished, its
    relative change (positive = better) and the outcome; a failure of ``system`` on any seed is ``failed``."""
    frame = pd.DataFrame.from_records(records)
    rows = []
    for dataset, group in frame.groupby("dataset", sort=False):
        runs = {s: group[group["system"] == s] for s in (system, reference)}
        if runs[system].empty or runs[reference].empty:
            continue
        metric = next(m for m in group["metric"] if isinstance(m, str))
        ok = {s: r[r["status"] == "ok"].set_index("seed")[metric] for s, r in runs.items()}
        seeds = sorted(set(ok[system].index) & set(ok[reference].index))
        value = float(ok[system].loc[seeds].mean()) if seeds else math.nan
        ref = float(ok[reference].loc[seeds].mean()) if seeds else math.nan
        failed = bool((runs[system]["status"] != "ok").any())
        change = math.nan if failed else relative_change(value, ref, HIGHER_IS_BETTER[metric])
        rows.append({"dataset": dataset, "metric": metric, "seeds": len(seeds), system: value, reference: ref,
                     "change": change, "outcome": outcome(change, TIE_TOLERANCE)})
    return pd.DataFrame(rows)


def verdict(pairs: pd.DataFrame, rule: str, value: float) -> dict[str, Any]:
    """Whether one target holds on these per-dataset comparisons."""
    if pairs.empty:
        return {"datasets": 0, "met": False, "share_beats": math.nan, "worst_change": math.nan, "worst_dataset": ""}
    beats = float((pairs["outcome"] == "beats").mean())
    changes = pairs["change"].fillna(-math.inf)
    worst = pairs.loc[changes.idxmin()]
    met = beats >= value if rule == "share" else bool(changes.min() >= value)
    return {"datasets": len(pairs), "met": bool(met), "share_beats": beats,
            "worst_change": float(changes.min()), "worst_dataset": str(worst["dataset"])}


def _pct(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v * 100:+.2f} %"


def write_report(out: Path, budget: float, systems: Sequence[str], expected: int | None = None) -> str:
    """``report.md`` and ``nas.csv`` from the last record of every run at ``budget`` in ``results.jsonl``.

    ``expected``: how many runs the full benchmark has; fewer finished runs make the report interim."""
    records = [r for r in latest(read_results(out / "results.jsonl")).values()
               if float(r["budget"]) == float(budget) and r["system"] in systems]
    if not records:
        text = f"# Neural architecture search\n\nNo results at {budget:g} s yet.\n"
        (out / "report.md").write_text(text)
        return text
    means = dataset_means(records, systems)
    means.to_csv(out / "nas.csv", index=False)
    complete = expected is not None and len(records) >= expected
    seeds = sorted({int(r["seed"]) for r in records})
    lines = ["# Neural architecture search vs default networks, and AutoML with and without \"nn\"", "",
             f"Budget {budget:g} s, seeds {seeds}, {means['dataset'].nunique()} dataset(s), {len(records)} runs "
             f"(`{out / 'results.jsonl'}`){'' if complete else ' — **interim**: not every run has finished'}. "
             "Metric per dataset: the mean over the seeds both compared systems finished; AUC (binary, higher "
             "is better), log loss (multiclass) and RMSE (regression, lower is better). Change = relative "
             f"difference, positive = better; beats / ties / loses at {TIE_TOLERANCE:.1%}; a failure loses.", ""]
    summary, pair_sections = [], []
    for system, reference, rule, value in TARGETS:
        if system not in systems or reference not in systems:
            continue
        pairs = paired_change(records, system, reference)
        v = verdict(pairs, rule, value)
        goal = (f"beats {reference} on ≥ {value:.0%} of datasets" if rule == "share"
                else f"never more than {-value:.1%} worse than {reference}")
        state = ("**met**" if v["met"] else "**NOT met**") if complete else ("holds so far" if v["met"] else
                                                                                "fails so far")
        summary.append({"system": system, "reference": reference, "target": goal, "datasets": v["datasets"],
                        "beats": int((pairs["outcome"] == "beats").sum()) if len(pairs) else 0,
                        "ties": int((pairs["outcome"] == "ties").sum()) if len(pairs) else 0,
                        "loses": int(pairs["outcome"].isin(["loses", "failed"]).sum()) if len(pairs) else 0,
                        "worst": f"{_pct(v['worst_change'])} ({v['worst_dataset']})", "verdict": state})
        if len(pairs):
            pair_sections += [f"## {system} vs {reference}", "",
                              markdown_table(pairs.assign(change=pairs["change"].map(_pct)), digits=4), ""]
    table = means.pivot_table(index="dataset", columns="system", values="value", aggfunc="first", sort=False)
    table = table[[s for s in systems if s in table.columns]]
    table.insert(0, "metric", means.groupby("dataset", sort=False)["metric"].first().reindex(table.index))
    oriented = means.assign(score=[v if HIGHER_IS_BETTER.get(m or "auc", True) else -v
                                   for v, m in zip(means["value"], means["metric"])])
    ranks = (oriented.pivot_table(index="dataset", columns="system", values="score").dropna()
             .rank(axis=1, ascending=False).mean().reindex(list(systems)))
    times = means.pivot_table(index="dataset", columns="system", values="fit_time", sort=False)
    lines += ["## Targets", "", markdown_table(pd.DataFrame(summary)), "",
              "## Test metric per dataset (mean over seeds)", "", markdown_table(table.reset_index(), digits=4), "",
              "## Mean rank over datasets every system finished (1 = best)", "",
              markdown_table(ranks.rename("mean rank").reset_index(), digits=2), "",
              "## Fit time per dataset (seconds, mean over seeds)", "",
              markdown_table(times[[s for s in systems if s in times.columns]].reset_index(), digits=0), ""]
    failures = [r for r in records if r["status"] != "ok"]
    tail = (["## Failures", ""] + [f"- {r['dataset']} / {r['system']} / seed {r['seed']}: "
                                   f"{((r.get('reason') or '').strip().splitlines() or [''])[-1][:160]}"
                                   for r in failures] + [""]) if failures else []
    text = "\n".join(lines + pair_sections + tail)
    (out / "report.md").write_text(text + "\n")
    return text


# -- command line --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from autolearn import nas

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    campaign.add_arguments(p, "nas.txt", "benchmarks/results/nas", QUICK_BUDGET)
    p.add_argument("--systems", nargs="+", choices=SYSTEMS, help=f"default all: {' '.join(SYSTEMS)}")
    p.add_argument("--strategy", default="evolution", choices=nas.STRATEGIES)
    p.add_argument("--space", default="residual", choices=nas.SPACES)
    p.add_argument("--max-epochs", type=int, help=f"default 50 ({QUICK_EPOCHS} with --quick)")
    p.add_argument("--max-rows", type=int, help="subsample larger datasets to this many rows")
    p.add_argument("--quick", action="store_true",
                   help=f"{' and '.join(QUICK_DATASETS)} subsampled to {QUICK_ROWS} rows, {QUICK_BUDGET:g} s, seed 0")
    args = p.parse_args(argv)
    campaign.fill_defaults(args, QUICK_BUDGET, QUICK_DATASETS)
    if args.quick:
        args.max_rows = args.max_rows or QUICK_ROWS
        args.max_epochs = args.max_epochs or QUICK_EPOCHS
    args.max_epochs = args.max_epochs or 50
    args.systems = list(dict.fromkeys(args.systems or SYSTEMS))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    specs = ds.resolve(args.datasets, args.data_root)
    expected = len(specs) * len(args.seeds) * len(args.systems)
    if not args.report_only:
        runs = [(spec, seed, s) for seed in args.seeds for spec in specs for s in args.systems]
        campaign.run(runs, args, run_one, lambda r: f"{r['metric']}={r[r['metric']]:.4f} ({r['fit_time']:.0f} s)")
    print(write_report(args.out, args.budget, args.systems, expected))
    print(f"report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
