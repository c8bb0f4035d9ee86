"""The ``autolearn`` command: fit, predict, leaderboard, demo, and ``tune`` for studies driven from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _read_table(path: str, target: str | None) -> tuple[Any, Any]:
    from autolearn.data import load_table

    return load_table(path, target=target)


def _estimator(task: str | None, args: argparse.Namespace) -> Any:
    from autolearn import AutoClassifier, AutoRegressor

    cls = AutoRegressor if task == "regression" else AutoClassifier
    return cls(time_budget=args.time, max_trials=args.max_trials, n_jobs=args.n_jobs, seed=args.seed,
               metric=args.metric, include=args.include, exclude=args.exclude, strategy=args.strategy,
               ensemble=None if args.ensemble == "none" else args.ensemble, refit=REFIT_CHOICES[args.refit],
               run_dir=args.run_dir,
               resume=args.resume is not None, backend=args.backend, dask_address=args.dask_address,
               verbose=0 if args.quiet else 1)


def cmd_fit(args: argparse.Namespace) -> int:
    from autolearn.data.validation import infer_task

    if args.resume is not None:
        _restore_fit_arguments(args)
    for key, value in FIT_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.data is None or args.target is None:
        raise ValueError("fit needs DATA and --target (or --resume RUN_DIR of an earlier fit)")
    if args.run_dir is not None:
        _save_fit_arguments(args)
    X, y = _read_table(args.data, args.target)
    if y is not None and y.isna().any():
        print(f"dropping {int(y.isna().sum())} rows whose target {args.target!r} is missing", file=sys.stderr)
        X, y = X[y.notna()], y[y.notna()]
    task = args.task or infer_task(y)
    model = _estimator(task, args)
    model.fit(X, y) if task == "regression" else model.fit(X, y, task=task)
    _print_leaderboard(model, args.top)
    out = Path(args.out)
    model.save(out)
    print(f"model saved to {out}")
    return 0


_RESUMED = ("data", "target", "task", "time", "metric", "out", "max_trials", "n_jobs", "seed", "include", "exclude",
            "strategy", "ensemble", "refit", "backend", "dask_address")


def _save_fit_arguments(args: argparse.Namespace) -> None:
    """The command's own arguments, so ``autolearn fit --resume RUN_DIR`` needs nothing else."""
    path = Path(args.run_dir) / "fit-arguments.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({k: getattr(args, k) for k in _RESUMED}, indent=1))


def _restore_fit_arguments(args: argparse.Namespace) -> None:
    path = Path(args.resume) / "fit-arguments.json"
    if not path.exists():
        raise FileNotFoundError(f"{args.resume} is not a run directory of 'autolearn fit' (no {path.name})")
    saved = json.loads(path.read_text())
    for key, value in saved.items():
        if getattr(args, key, None) is None:  # what is given on this command line wins
            setattr(args, key, value)
    args.run_dir = args.resume


# fit's defaults, applied after --resume has filled in what the earlier command said
FIT_DEFAULTS = {"time": 60.0, "out": "model.pkl", "n_jobs": -1, "seed": 0, "strategy": "auto",
                "ensemble": "selection", "refit": "auto", "backend": "local"}
REFIT_CHOICES = {"auto": "auto", "all-rows": True, "folds": False}


def cmd_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from autolearn import load

    model = load(args.model)
    X, _ = _read_table(args.data, None)
    target = getattr(model, "search_", None)
    columns = list(target.schema.columns) if target is not None else list(X.columns)
    X = X[[c for c in X.columns if c in columns]] if set(columns) <= set(X.columns) else X
    if args.proba and hasattr(model, "predict_proba"):
        frame = pd.DataFrame(model.predict_proba(X), columns=[f"proba_{c}" for c in model.classes_])
    else:
        frame = pd.DataFrame({"prediction": model.predict(X)})
    frame.to_csv(args.out, index=False)
    print(f"{len(frame)} predictions written to {args.out}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from autolearn import load

    _print_leaderboard(load(args.model), args.top)
    return 0


def _print_leaderboard(model: Any, top: int) -> None:
    board = model.leaderboard().head(top)
    if not sys.stdout.isatty():  # pipes and files get every column, unwrapped
        print("leaderboard")
        print(board.to_string(index=False, float_format=lambda v: f"{v:.5g}"))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="leaderboard")
    for col in board.columns:
        table.add_column(str(col))
    for row in board.itertuples(index=False):
        table.add_row(*[f"{v:.5g}" if isinstance(v, float) else str(v) for v in row])
    Console().print(table)


def cmd_demo(args: argparse.Namespace) -> int:
    """A real search on scikit-learn's breast-cancer data: leaderboard, test score, saved model."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from autolearn import AutoClassifier

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    model = AutoClassifier(time_budget=args.time, n_jobs=args.n_jobs, seed=0, verbose=1).fit(X_train, y_train)
    _print_leaderboard(model, 10)
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    print(f"test ROC AUC: {auc:.4f}   test accuracy: {model.score(X_test, y_test):.4f}   "
          f"fit time: {model.fit_time_:.1f}s (budget {args.time:.0f}s)")
    model.save(args.out)
    print(f"model saved to {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autolearn", description="Automated machine learning under a time budget.")
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="search for a model on a CSV/Parquet/ARFF table")
    fit.add_argument("data", nargs="?", help="CSV, Parquet, ARFF or PMLB table (optional with --resume)")
    fit.add_argument("--target", help="name of the column to predict")
    fit.add_argument("--task", choices=["binary", "multiclass", "regression"])
    fit.add_argument("--time", type=float, help="time budget in seconds (default 60)")
    fit.add_argument("--metric")
    fit.add_argument("--out", help="where to save the model (default model.pkl)")
    fit.add_argument("--max-trials", type=int)
    fit.add_argument("--n-jobs", type=int, help="parallel trials (default -1: every core)")
    fit.add_argument("--seed", type=int)
    fit.add_argument("--include", nargs="+")
    fit.add_argument("--exclude", nargs="+")
    fit.add_argument("--strategy", help="optimizer or scheduler name (default auto)")
    fit.add_argument("--ensemble", help="selection (default), stacking, stacking-lasso, stacking-elasticnet, none")
    fit.add_argument("--refit", choices=list(REFIT_CHOICES),
                     help="auto (default): refitted on all rows after cross-validation, holdout models kept after "
                          "a holdout; all-rows: always refitted; folds: the validated (fold) models, averaged")
    fit.add_argument("--run-dir", help="keep the run history here (resumable)")
    fit.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted search in RUN_DIR")
    fit.add_argument("--backend", choices=["local", "dask"])
    fit.add_argument("--dask-address", help="scheduler address, e.g. tcp://10.0.0.5:8786 (backend dask)")
    fit.add_argument("--top", type=int, default=15, help="leaderboard rows to print")
    fit.add_argument("--quiet", action="store_true")
    fit.set_defaults(func=cmd_fit)

    pred = sub.add_parser("predict", help="predict with a saved model")
    pred.add_argument("model")
    pred.add_argument("data")
    pred.add_argument("--out", required=True)
    pred.add_argument("--proba", action="store_true", help="write class probabilities")
    pred.set_defaults(func=cmd_predict)

    board = sub.add_parser("leaderboard", help="show a saved model's leaderboard")
    board.add_argument("model")
    board.add_argument("--top", type=int, default=20)
    board.set_defaults(func=cmd_leaderboard)

    demo = sub.add_parser("demo", help="a real search on a bundled scikit-learn dataset")
    demo.add_argument("--time", type=float, default=30.0)
    demo.add_argument("--n-jobs", type=int, default=2)
    demo.add_argument("--out", default="demo-model.pkl")
    demo.set_defaults(func=cmd_demo)

    from autolearn.meta.cli import add_meta_parser
    from autolearn.nas.cli import add_nas_parser
    from autolearn.report.cli import add_report_parser
    from autolearn.tune.cli import add_tune_parser

    add_tune_parser(sub)
    add_meta_parser(sub)
    add_report_parser(sub)
    add_nas_parser(sub)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, KeyError) as exc:
        print(f"autolearn: error: {exc}", file=sys.stderr)
        return 2


def dump_json(obj: Any) -> None:
    print(json.dumps(obj, default=str))


if __name__ == "__main__":
    sys.exit(main())
