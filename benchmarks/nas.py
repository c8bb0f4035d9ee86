"""Does neural architecture search pay, and does the "nn" model help the AutoML search?

On shared datasets of at least 2,000 rows (binary, multiclass, regression), per seed, on a stratified
75/25 split, the test score of

* ``nas``: ``autolearn.nas.search`` (``--strategy``, ``--space``) within the budget;
* ``nn_default``: our network with the default residual architecture (no search, early stopping);
* ``mlp_sklearn``: scikit-learn's default MLPClassifier / MLPRegressor (imputation, one-hot, scaling);
* ``automl``: ``AutoClassifier`` / ``AutoRegressor`` with the default space;
* ``automl_nn``: the same with ``"nn"`` added to the default models.

    python benchmarks/nas.py --budget 300 --seeds 0 1 2 --out benchmarks/results/nas
    python benchmarks/nas.py --quick        # two small subsampled datasets, 20 s, one seed: does it run?

Scores are oriented so that higher is better: ROC AUC (binary), -log loss (multiclass), -RMSE
(regression). Writes ``nas.csv`` (one row per dataset × seed × system, appended as runs finish) and
``nas.json`` (rows, per-dataset means, mean ranks) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# every network trains on one thread, as in search workers: torch's thread pool on a busy machine is
# many times slower, and the comparison should not depend on what else the machine runs
os.environ.setdefault("AUTOLEARN_TORCH_THREADS", "1")

import autolearn.components.neural  # noqa: E402,F401  (registers "nn" until autolearn.components imports it)
from autolearn import AutoClassifier, AutoRegressor, nas  # noqa: E402
from autolearn.components import components  # noqa: E402
from autolearn.data import load_table  # noqa: E402
from autolearn.evaluation.metrics import get_metric  # noqa: E402

DATASETS_DIR = Path(__file__).resolve().parents[2] / "shared" / "datasets"
# Four per task, 2k-23k rows, numeric and integer-coded categorical columns; chosen for variety, not results.
DEFAULT_DATASETS = [
    "openml_binary/kc1", "openml_binary/ozone_level_8hr", "pmlb/spambase", "pmlb/phoneme",
    "pmlb/splice", "pmlb/optdigits", "pmlb/nursery", "pmlb/page_blocks",
    "pmlb/529_pollen", "arff/kin8nm", "arff/ailerons", "pmlb/574_house_16H",
]
QUICK_DATASETS = ["pmlb/phoneme", "pmlb/529_pollen"]
SYSTEMS = ("nas", "nn_default", "mlp_sklearn", "automl", "automl_nn")


def load(item: str, index: pd.DataFrame, max_rows: int | None, seed: int) -> tuple[pd.DataFrame, pd.Series, str]:
    collection, name = item.split("/", 1)
    row = index[(index["collection"] == collection) & (index["name"] == name)]
    if row.empty:
        raise ValueError(f"{item!r} is not in {DATASETS_DIR / 'index.csv'}")
    row = row.iloc[0]
    X, y = load_table(DATASETS_DIR / row["path"], target=row["target"])
    task = str(row["task"])
    if max_rows is not None and len(X) > max_rows:
        keep, _ = train_test_split(np.arange(len(X)), train_size=max_rows, random_state=seed,
                                   stratify=None if task == "regression" else y)
        X, y = X.iloc[keep].reset_index(drop=True), y.iloc[keep].reset_index(drop=True)
    return X, y, task


def test_score(task: str, model, X, y) -> float:
    """Higher is better: AUC, -log loss, -RMSE on the test rows."""
    metric = get_metric(None, task)
    if task == "regression":
        return -metric.loss(np.asarray(y, dtype=float), model.predict(X))
    classes = list(model.classes_)
    encoded = np.array([classes.index(v) for v in y])
    score = metric.score(encoded, np.asarray(model.predict_proba(X), dtype=float))
    return score if metric.greater_is_better else -score


def sklearn_mlp(task: str, seed: int):
    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), make_column_selector(dtype_include="number")),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         make_column_selector(dtype_exclude="number")),
    ])
    model = MLPRegressor(random_state=seed) if task == "regression" else MLPClassifier(random_state=seed)
    return make_pipeline(prep, model)


def run_system(system: str, task: str, X_tr, y_tr, budget: float, seed: int, args: argparse.Namespace):
    regression = task == "regression"
    if system == "nas":
        return nas.search(X_tr, y_tr, task, strategy=args.strategy, space=args.space, time_budget=budget,
                          max_epochs=args.max_epochs, seed=seed, n_jobs=args.n_jobs)
    if system == "nn_default":
        cls = nas.NeuralNetRegressor if regression else nas.NeuralNetClassifier
        return cls(epochs=args.max_epochs, seed=seed, max_time=budget).fit(X_tr, y_tr)
    if system == "mlp_sklearn":
        return sklearn_mlp(task, seed).fit(X_tr, y_tr)
    cls = AutoRegressor if regression else AutoClassifier
    include = None
    if system == "automl_nn":
        include = [c.name for c in components("model", task) if c.default_in_space] + ["nn"]
    model = cls(time_budget=budget, n_jobs=args.n_jobs, seed=seed, include=include)
    return model.fit(X_tr, y_tr) if regression else model.fit(X_tr, y_tr, task=task)


def summarize(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    ok = df[df["status"] == "ok"]
    table = ok.pivot_table(index="dataset", columns="system", values="score", aggfunc="mean")
    complete = table.dropna(axis=0, how="any")
    ranks = complete.rank(axis=1, ascending=False).mean() if len(complete) else pd.Series(dtype=float)
    return table, ranks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", help="collection/name items of shared/datasets/index.csv")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per search (nas, automl, automl_nn)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--strategy", default="evolution", choices=nas.STRATEGIES)
    parser.add_argument("--space", default="residual", choices=nas.SPACES)
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--max-rows", type=int, help="subsample larger datasets to this many rows")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/nas")
    parser.add_argument("--quick", action="store_true", help="2 datasets subsampled to 600 rows, 20 s, seed 0")
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets = args.datasets or QUICK_DATASETS
        args.budget, args.seeds, args.max_rows, args.max_epochs = 20.0, [0], args.max_rows or 600, 20
    items = args.datasets or DEFAULT_DATASETS
    index = pd.read_csv(DATASETS_DIR / "index.csv")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "nas.csv"
    rows: list[dict] = []
    for item in items:
        for seed in args.seeds:
            X, y, task = load(item, index, args.max_rows, seed)
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed,
                                                      stratify=None if task == "regression" else y)
            for system in args.systems:
                row = {"dataset": item, "task": task, "seed": seed, "system": system, "budget": args.budget,
                       "n_rows": len(X), "status": "ok", "score": np.nan, "fit_time": np.nan, "error": "",
                       "architecture": ""}
                t0 = time.monotonic()
                try:
                    model = run_system(system, task, X_tr, y_tr, args.budget, seed, args)
                    row["fit_time"] = time.monotonic() - t0
                    row["score"] = test_score(task, model, X_te, y_te)
                    row["architecture"] = str(getattr(model, "architecture_", ""))
                except Exception as exc:  # noqa: BLE001 - one failure must not end the benchmark
                    row.update(status="failed", fit_time=time.monotonic() - t0, error=repr(exc))
                    traceback.print_exc()
                rows.append(row)
                pd.DataFrame([row]).to_csv(csv_path, mode="a", header=not csv_path.exists(), index=False)
                print(f"{item:32s} seed {seed} {system:12s} {row['status']:6s} score {row['score']:.4f} "
                      f"({row['fit_time']:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    table, ranks = summarize(df)
    report = {"args": {k: v for k, v in vars(args).items()}, "rows": rows,
              "mean_scores": table.reset_index().to_dict(orient="records"), "mean_ranks": ranks.to_dict()}
    (out / "nas.json").write_text(json.dumps(report, indent=1, default=str))
    print("\nmean test score per dataset (higher is better: AUC, -log loss, -RMSE)\n")
    print(table.to_markdown(floatfmt=".4f") if hasattr(table, "to_markdown") else table.to_string())
    print("\nmean rank over datasets where every system finished (1 is best)\n")
    print(ranks.sort_values().to_string(float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
