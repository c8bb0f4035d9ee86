"""Does meta-learning help? Leave-one-dataset-out (LODO) over the datasets of the meta-database: for
each dataset the database is masked so that the dataset itself is never used.

Two modes::

    python -m benchmarks.metalearning --offline                       # seconds, the database alone
    python -m benchmarks.metalearning --max-datasets 45 --budgets 30 120 --n-jobs 2 \
        --out benchmarks/results/metalearning                            # real searches (hours)
    python -m benchmarks.metalearning --held-out --min-rows 1000 --budgets 30 --arms cold warm \
        --out benchmarks/results/metalearning-heldout                    # datasets the database never saw

``--offline`` simulates warm starts from the database: for every dataset and method, the normalized
loss (0 = best candidate, 1 = constant predictor) of the best of the first n recommendations, next to
the space default and the expected best of n random candidates; and the best loss among the
recommendations evaluated in order within a cost budget (in units of the held-out dataset's own
median evaluation time), which is what a search with a time budget gets. ``portfolio-by-loss`` is the
portfolio ordered by loss alone, for comparison with the default cost-aware one; ``handmade`` is the
AutoML search's hand-made opening alone and ``warm-design`` what its warm start evaluates (the
cost-aware portfolio's first configurations, then the hand-made ones). It needs no training, so it is
how to compare methods, distances and learned weights quickly.

Online, each dataset is split 75/25 (stratified, seed) and these searches run on the 75 %, scored on
the 25 % with the task's default metric:

* ``cold@B`` / ``warm@B`` for each budget B: the estimator with ``warm_start=False`` / ``True``; the
  warm runs see the masked database through ``autolearn.meta.using_database``. ``cold`` still opens
  with the hand-made portfolio of ``strategy="auto"`` (knowledge carried over by hand);
* ``bare@B``: the optimizer alone (``strategy="gp"``, ``warm_start=False``: the space's default
  configuration, a Sobol design, then Bayesian optimization), the cold start of the literature
  (auto-sklearn without meta-learning);
* ``portfolio8``: exactly the first 8 portfolio configurations (``max_trials=8``), vs ``random@30``:
  30 s of cold random search.

``--held-out`` evaluates instead on datasets of ``../shared/datasets`` that are not in the database at all
(so nothing needs masking) with at least ``--min-rows`` rows: the database's datasets are small (median a
few hundred rows), where test sets of 12-100 rows decide a comparison and 30 s is rarely the limit.

``--seeds 0 1 2`` repeats every arm with other splits and search seeds (the dataset sample stays the
one of seed 0); a comparison then uses the seeds both arms finished and counts a dataset as won when
the arm's test loss, averaged over those seeds, is lower: one 25 % test split alone decides many
comparisons on small data.

Time: per dataset and seed sum(3 x budgets) + ~30 s (portfolio8) + 30 s; with budgets 30 and 120 that
is ~8.5 min, so 45 datasets take ~6.5 h on 2 cores (``--n-jobs 2``). Prints a table, writes
``metalearning.csv`` (one row per dataset x arm x seed, rewritten after every arm; a rerun skips the
arms it holds) and ``metalearning.json`` (the summary) to ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autolearn.meta import MetaDatabase, load_metadb, recommend, using_database
from autolearn.meta._configs import key, project
from autolearn.meta.database import TaskTable
from autolearn.meta.portfolio import greedy_portfolio
from benchmarks.automl.run import git_state, record_run

OFFLINE_N = (1, 2, 4, 8, 16)
OFFLINE_COST = (2, 5, 10, 20, 40)  # budgets in units of the dataset's median evaluation time
OFFLINE_LIST = 64  # recommendations per method and dataset, enough to fill the largest cost budget
ARMS = ("cold", "warm", "bare", "portfolio8", "random")
SAMPLE_SEED = 0  # the dataset sample; --seeds vary splits and searches on the same datasets


# -- offline: simulated from the database ------------------------------------------------------------
def offline(db: MetaDatabase, methods: list[str], distance: str, weights: str | None) -> pd.DataFrame:
    """Per dataset x method x n: best normalized loss among the first n recommendations (LODO)."""
    from autolearn.space import build_space
    from autolearn.strategy import portfolio

    rows = []
    for task, table in db.tables.items():
        space = build_space(task)
        index = {key(c): i for i, c in enumerate(table.configs)}
        handmade = [index.get(key(c)) for c in portfolio(space)]
        for d, name in enumerate(table.datasets):
            masked = table.without(name)
            if not len(masked):
                continue
            truth = np.nan_to_num(table.performance[d], nan=1.0)
            mf = table.metafeatures.loc[name]
            mf.attrs["task"] = task
            orders = {"portfolio-by-loss": greedy_portfolio(masked.performance, OFFLINE_LIST)}
            if None not in handmade:  # a database built before the candidates included them: no holes
                orders["handmade"] = handmade
                orders["warm-design"] = warm_design(space, masked, index)
            for method in methods:
                configs = recommend(n=OFFLINE_LIST, method=method, task=task, meta_features=mf,
                                    database=MetaDatabase({task: masked}), distance=distance,
                                    weights=weights if method != "portfolio" else None)
                orders[method] = [index[key(c)] for c in configs]
            cost = None if table.cost is None else np.nan_to_num(table.cost[d], nan=np.nanmax(table.cost))
            for method, picked in orders.items():
                rows += [{"task": task, "dataset": name, "method": method, "n": n,
                          "loss": float(truth[picked[:n]].min())} for n in OFFLINE_N]
                if cost is not None:
                    rows += [{"task": task, "dataset": name, "method": method, "cost": b,
                              "loss": best_within(truth[picked], cost[picked], b)} for b in OFFLINE_COST]
            rows += [{"task": task, "dataset": name, "method": "default", "n": n, "loss": float(truth[0])}
                     for n in OFFLINE_N]
            rows += [{"task": task, "dataset": name, "method": "random", "n": n,
                      "loss": expected_best_of_random(truth, n)} for n in OFFLINE_N]
    return pd.DataFrame(rows)


def warm_design(space: Any, masked: TaskTable, index: dict[str, int]) -> list[int]:
    """The AutoML warm start's initial design as candidate indices: the cost-aware portfolio's first
    recommendations from the masked table, then the hand-made opening."""
    from autolearn.automl import WARM_START_CONFIGS
    from autolearn.strategy import initial_design

    recommended = recommend(n=WARM_START_CONFIGS, method="portfolio", task=masked.task,
                            database=MetaDatabase({masked.task: masked}))
    return [index[key(c)] for c in initial_design(space, recommended)]


def best_within(losses: np.ndarray, costs: np.ndarray, budget: float) -> float:
    """The best loss among the configurations evaluated in order whose cumulative cost fits ``budget``
    (1, a constant predictor's, when not even the first fits)."""
    done = np.cumsum(costs) <= budget
    return float(losses[done].min()) if done.any() else 1.0


def expected_best_of_random(losses: np.ndarray, n: int) -> float:
    """E[min of n candidates drawn without replacement], exactly (order statistics of the sorted row)."""
    s = np.sort(losses)
    m = len(s)
    n = min(n, m)
    # P(min is the i-th smallest) = C(m-1-i, n-1) / C(m, n)
    from math import comb

    total = comb(m, n)
    return float(sum(s[i] * comb(m - 1 - i, n - 1) for i in range(m - n + 1)) / total)


# -- online: real searches ---------------------------------------------------------------------------
@contextlib.contextmanager
def evaluating_only(configs_for_space: Any) -> Iterator[None]:
    """Within the block, every AutoML search evaluates ``configs_for_space(space)`` instead of its
    strategy's initial design, so that a ``max_trials`` run evaluates exactly them. Benchmark-only: it
    replaces the optimizer's private queue, there is no public way to."""
    import autolearn.automl as automl

    original = automl.make_strategy

    def make_strategy(strategy: str, space: Any, seed: int, recommended: Any = None) -> Any:
        optimizer = original(strategy, space, seed, recommended)
        optimizer._queue.clear()
        optimizer.enqueue(configs_for_space(space), origin="meta")
        return optimizer

    automl.make_strategy = make_strategy
    try:
        yield
    finally:
        automl.make_strategy = original


def run_arm(cls: type, task: str, X_tr: Any, y_tr: Any, X_te: Any, y_te: Any, params: dict) -> dict:
    from autolearn.evaluation.metrics import get_metric

    model = cls(**params)
    t0 = time.monotonic()
    model.fit(X_tr, y_tr) if task == "regression" else model.fit(X_tr, y_tr, task=task)
    wall = time.monotonic() - t0
    metric = get_metric(None, task)
    if task == "regression":
        truth, prediction = np.asarray(y_te, float), model.predict(X_te)
    else:
        truth, prediction = np.searchsorted(model.classes_, np.asarray(y_te)), model.predict_proba(X_te)
    score, loss = metric.score(truth, prediction), metric.loss(truth, prediction)
    trials = model.trials_
    validated = trials[(trials["kind"] == "validation") & (trials["status"] == "success") & (trials["budget"] >= 1.0)]
    return {"test_score": float(score), "test_loss": float(loss), "metric": metric.name, "fit_seconds": round(wall, 1),
            "trials": int((trials["kind"] == "validation").sum()),
            # the search's own view, free of test-set noise: its best validation loss
            "best_val_loss": float(validated["loss"].min()) if len(validated) else float("nan")}


def split(X: Any, y: Any, task: str, seed: int, **sizes: Any) -> list:
    """train_test_split, stratified when every class has two members."""
    from sklearn.model_selection import train_test_split

    stratify = task != "regression" and y.value_counts().min() >= 2
    return train_test_split(X, y, random_state=seed, stratify=y if stratify else None, **sizes)


def online_dataset(name: str, task: str, db: MetaDatabase, args: argparse.Namespace,
                   done: frozenset[str] = frozenset()) -> Iterator[dict]:
    """The arms of one dataset, one row each as it finishes, except those in ``done`` (finished by an
    earlier, interrupted run)."""
    from autolearn import AutoClassifier, AutoRegressor
    from benchmarks.automl.datasets import DatasetSpec, default_data_root
    from benchmarks.automl.datasets import load as load_dataset
    from benchmarks.build_metadb import select_datasets

    base = {"n_jobs": args.n_jobs, "seed": args.seed}

    def portfolio(space: Any) -> list[dict]:
        ranked = recommend(y=y_tr, n=len(masked[task].configs), method="portfolio", task=task, database=masked)
        return [c for c in (project(space, r) for r in ranked) if c is not None][:8]

    # (arm, estimator parameters, context): the warm arms see the masked database; portfolio8 runs
    # exactly the portfolio's first 8 configurations. Data, split and mask come after the arms left to run.
    arms: list[tuple[str, dict, Any]] = []
    for budget in args.budgets:
        cold = {**base, "time_budget": budget, "warm_start": False}
        arms.append((f"cold@{budget:g}", cold, contextlib.nullcontext))
        arms.append((f"warm@{budget:g}", {**cold, "warm_start": True}, lambda: using_database(masked)))
        arms.append((f"bare@{budget:g}", {**cold, "strategy": "gp"}, contextlib.nullcontext))
    arms.append(("portfolio8", {**base, "time_budget": 10 * min(args.budgets), "max_trials": 8, "warm_start": False},
                 lambda: evaluating_only(portfolio)))
    arms.append((f"random@{args.random_budget:g}",
                 {**base, "time_budget": args.random_budget, "strategy": "random", "warm_start": False},
                 contextlib.nullcontext))
    arms = [a for a in arms if a[0] not in done and a[0].split("@")[0] in args.arms]
    if not arms:  # a resumed run does not reload a finished dataset
        return
    root = default_data_root()
    row = select_datasets(root, [name], None, args.seed)[0]  # the copy the database was built from (if any)
    target = None if pd.isna(row.get("target")) else str(row["target"])
    data = load_dataset(DatasetSpec(name=name, path=str(root / row["path"]), target=target, task=task))
    X, y = data.X, data.y
    if len(y) > args.max_rows:
        X, _, y, _ = split(X, y, task, args.seed, train_size=args.max_rows)
    X_tr, X_te, y_tr, y_te = split(X, y, task, args.seed, test_size=0.25)
    cls = AutoRegressor if task == "regression" else AutoClassifier
    masked = db.without(name)
    for arm, params, context in arms:
        try:
            with context():
                result = run_arm(cls, task, X_tr, y_tr, X_te, y_te, params)
        except Exception as exc:  # a failed arm is a result too
            result = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"  {arm:>12}: {result}", flush=True)
        yield {"dataset": name, "task": task, "arm": arm, "seed": args.seed, **result}


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean rank of each arm per dataset (1 = lowest test loss) and wins of warm over cold, on the test
    loss and (where recorded) on the search's best validation loss, which test-set noise does not touch."""
    ok = frame.dropna(subset=["test_loss"]).copy()
    if "seed" not in ok:
        ok["seed"] = 0
    ok["rank"] = ok.groupby(["dataset", "seed"])["test_loss"].rank(ascending=True)
    out = ok.groupby("arm").agg(mean_rank=("rank", "mean"), datasets=("dataset", "nunique"),
                                seeds=("seed", "nunique"), mean_trials=("trials", "mean"),
                                mean_fit_s=("fit_seconds", "mean"))
    columns = {"wins/ties/losses": "test_loss", "validation wins/ties/losses": "best_val_loss"}
    wides = {label: ok.pivot_table(index=["dataset", "seed"], columns="arm", values=value)
             for label, value in columns.items() if value in ok}
    for arm in out.index:
        if arm.startswith("warm@"):
            budget = arm.split("@")[1]
            references = {"": "cold@" + budget, "vs bare: ": "bare@" + budget}
        elif arm == "portfolio8":
            references = {"": next((a for a in wides["wins/ties/losses"].columns if a.startswith("random@")), "")}
        else:
            continue
        for prefix, reference in references.items():
            for label, wide in wides.items():
                if reference in wide and arm in wide:
                    # the seeds both arms finished, averaged per dataset; > 0: the arm has the lower loss
                    paired = wide[[reference, arm]].dropna().groupby(level="dataset").mean()
                    diff = paired[reference] - paired[arm]
                    wins, ties, losses = (diff > 1e-9).sum(), (diff.abs() <= 1e-9).sum(), (diff < -1e-9).sum()
                    if not prefix:
                        out.loc[arm, "vs"] = reference
                    out.loc[arm, prefix + label] = f"{wins}/{ties}/{losses}"
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--offline", action="store_true", help="simulate from the database only (seconds)")
    p.add_argument("--database", help="meta-database file (default: the shipped one)")
    p.add_argument("--methods", nargs="+", default=["knn", "rank", "portfolio"])
    p.add_argument("--distance", default="euclidean")
    p.add_argument("--weights", choices=["learned"], help="learned meta-feature weights (offline)")
    p.add_argument("--datasets", nargs="+", help="database datasets (default: a task-balanced sample)")
    p.add_argument("--max-datasets", type=int, default=45)
    p.add_argument("--held-out", action="store_true",
                   help="sample datasets the database does not hold instead of masking its own")
    p.add_argument("--min-rows", type=int, default=1000, help="smallest held-out dataset (with --held-out)")
    p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS), help="arms to run (default all)")
    p.add_argument("--budgets", type=float, nargs="+", default=[30.0, 120.0])
    p.add_argument("--random-budget", type=float, default=30.0, help="seconds of the random-search arm")
    p.add_argument("--max-rows", type=int, default=20_000, help="subsample larger datasets before splitting")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0],
                   help="splits and search seeds; every arm runs once per seed (the dataset sample is seed 0's)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/metalearning"))
    args = p.parse_args(argv)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # workers' convergence warnings would drown the table
    warnings.filterwarnings("ignore")
    db = load_metadb(args.database)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.offline:
        frame = offline(db, args.methods, args.distance, args.weights)
        by_n = frame.dropna(subset=["n"])
        table = by_n.pivot_table(index=["task", "method"], columns="n", values="loss", aggfunc="mean")
        overall = by_n.pivot_table(index="method", columns="n", values="loss", aggfunc="mean")
        print("mean normalized loss of the best of the first n (0 = best candidate, 1 = constant), LODO")
        print(table.round(3).to_string(), "\n\nall tasks\n" + overall.round(3).to_string())
        summary = {"by_n": {str(k): v for k, v in overall.round(4).to_dict(orient="index").items()}}
        if "cost" in frame:
            by_cost = frame.dropna(subset=["cost"])
            timed = by_cost.pivot_table(index="method", columns="cost", values="loss", aggfunc="mean")
            print("\nmean normalized loss within a cost budget (units: the dataset's median evaluation time)\n"
                  + timed.round(3).to_string())
            summary["by_cost"] = {str(k): v for k, v in timed.round(4).to_dict(orient="index").items()}
        frame.to_csv(args.out / "metalearning_offline.csv", index=False)
        (args.out / "metalearning_offline.json").write_text(json.dumps(summary, indent=1))
        return 0

    task_of = (held_out_datasets(db, args.min_rows) if args.held_out
               else {n: t for t, tb in db.tables.items() for n in tb.datasets})
    names = args.datasets or balanced_sample(task_of, args.max_datasets, SAMPLE_SEED)
    rows = finished_rows(args.out / "metalearning.csv")
    done = {(r["dataset"], r["arm"], r["seed"]) for r in rows}
    record_run(args.out, sys.argv[1:] if argv is None else argv)
    commit = str(git_state().get("commit") or "")[:7]
    for seed in args.seeds:  # every dataset with the first seed before the next seed
        run_args = argparse.Namespace(**{**vars(args), "seed": seed})
        for i, name in enumerate(names, 1):
            print(f"[{i}/{len(names)}] {name} ({task_of[name]}), seed {seed}", flush=True)
            finished = frozenset(a for d, a, s in done if d == name and s == seed)
            for row in online_dataset(name, task_of[name], db, run_args, finished):
                rows.append({**row, "commit": commit})  # a resumed campaign may span commits
                pd.DataFrame(rows).to_csv(args.out / "metalearning.csv", index=False)  # a rerun resumes from here
    frame = pd.DataFrame(rows)
    summary = summarize(frame)
    print(summary.round(3).to_string())
    (args.out / "metalearning.json").write_text(summary.reset_index().to_json(orient="records", indent=1))
    return 0


def finished_rows(path: Path) -> list[dict]:
    """The rows earlier runs finished, of every seed (failed arms are dropped, so they run again)."""
    if not path.exists():
        return []
    frame = pd.read_csv(path)
    if "seed" not in frame:
        return []
    if "error" in frame:
        frame = frame[frame["error"].isna()]
    return frame.drop(columns=["error"], errors="ignore").to_dict(orient="records")


def held_out_datasets(db: MetaDatabase, min_rows: int) -> dict[str, str]:
    """{name: task} of the shared datasets the database never saw with at least ``min_rows`` rows
    (deprecated copies excluded: they duplicate a newer entry)."""
    from benchmarks.automl.datasets import default_data_root
    from benchmarks.build_metadb import select_datasets

    known = {n for table in db.tables.values() for n in table.datasets}
    return {r["name"]: r["task"] for r in select_datasets(default_data_root(), None, None, 0)
            if r["name"] not in known and r["n_rows"] >= min_rows and r["task"] in db.tables}


def balanced_sample(task_of: dict[str, str], n: int, seed: int) -> list[str]:
    """A task-balanced seeded sample of ``task_of``'s datasets (round robin over tasks)."""
    rng = np.random.default_rng(seed)
    tasks = sorted(set(task_of.values()), key=["binary", "multiclass", "regression"].index)
    pools = {t: list(rng.permutation(sorted(d for d, dt in task_of.items() if dt == t))) for t in tasks}
    out: list[str] = []
    while len(out) < n and any(pools.values()):
        for pool in pools.values():
            if pool and len(out) < n:
                out.append(str(pool.pop()))
    return out


if __name__ == "__main__":
    sys.exit(main())
