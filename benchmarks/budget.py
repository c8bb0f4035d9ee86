"""Is the time budget honoured, and what does it buy? Wall time of ``fit`` against the budget and the
test score against a default LightGBM and a default random forest.

    python benchmarks/budget.py --budgets 10 30 60 --out benchmarks/results/budget

Writes ``budget.csv`` and ``budget.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import train_test_split

from autolearn import AutoClassifier, AutoRegressor
from autolearn.evaluation.metrics import get_metric


def datasets() -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    Xh, yh = make_regression(n_samples=20640, n_features=8, n_informative=6, noise=10.0, random_state=0)
    yh = yh + 0.01 * yh**2  # a little non-linearity, as in real prices
    return {
        "breast_cancer": (*load_breast_cancer(return_X_y=True), "binary"),
        "wine": (*load_wine(return_X_y=True), "multiclass"),
        "diabetes": (*load_diabetes(return_X_y=True), "regression"),
        "housing_synthetic": (Xh, yh, "regression"),
    }


def test_score(task: str, model, X, y) -> float:
    metric = get_metric(None, task)
    if task == "regression":
        return metric.score(y, model.predict(X))
    proba = model.predict_proba(X)
    return metric.score(np.searchsorted(model.classes_, y), proba)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budgets", type=float, nargs="+", default=[10, 30, 60])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/budget")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, (X, y, task) in datasets().items():
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.25, random_state=args.seed, stratify=None if task == "regression" else y)
        regression = task == "regression"
        baselines = {
            "lightgbm_default": (LGBMRegressor if regression else LGBMClassifier)(verbose=-1, random_state=0),
            "rf_default": (RandomForestRegressor if regression else RandomForestClassifier)(random_state=0,
                                                                                            n_jobs=args.n_jobs),
        }
        base_scores = {}
        for bname, model in baselines.items():
            model.fit(X_tr, y_tr)
            base_scores[bname] = test_score(task, model, X_te, y_te)
        for budget in args.budgets:
            cls = AutoRegressor if regression else AutoClassifier
            model = cls(time_budget=budget, n_jobs=args.n_jobs, seed=args.seed)
            t0 = time.monotonic()
            model.fit(X_tr, y_tr)
            wall = time.monotonic() - t0
            trials = model.trials_
            row = {
                "dataset": name, "task": task, "metric": get_metric(None, task).name, "budget_s": budget,
                "fit_wall_s": round(wall, 2), "overrun_s": round(wall - budget, 2),
                "allowed_overrun_s": round(max(0.05 * budget, 5.0), 2),
                "trials": int((trials["kind"] == "validation").sum()),
                "failed": int(((trials["kind"] == "validation") & (trials["status"] != "success")).sum()),
                "autolearn": round(test_score(task, model, X_te, y_te), 5),
                **{k: round(v, 5) for k, v in base_scores.items()},
                "members": len(model.get_models_with_weights()),
            }
            rows.append(row)
            print(row, flush=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "budget.csv", index=False)
    (out / "budget.json").write_text(json.dumps(rows, indent=2))
    print(frame.to_markdown(index=False))
    print(f"max overrun: {frame['overrun_s'].max():.2f} s; "
          f"within allowance: {(frame['overrun_s'] <= frame['allowed_overrun_s']).all()}")


if __name__ == "__main__":
    main()
