"""``autolearn nas DATA --target COL``: a network search from a shell, the best network saved to a file.

``autolearn/cli.py`` registers it with ``add_nas_parser(subparsers)``; nothing here imports torch
until the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_nas_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``nas`` sub-command to the ``autolearn`` parser's ``subparsers``."""
    from autolearn.nas.spaces import SPACES
    from autolearn.nas.strategies import STRATEGIES

    nas = subparsers.add_parser("nas", help="neural architecture search on a table (needs the 'nn' extra: torch)")
    nas.add_argument("data", help="CSV, Parquet or ARFF table")
    nas.add_argument("--target", required=True, help="name of the column to predict")
    nas.add_argument("--task", choices=["binary", "multiclass", "regression"])
    nas.add_argument("--strategy", default="evolution", choices=STRATEGIES)
    nas.add_argument("--space", default="residual", choices=SPACES)
    nas.add_argument("--time-budget", type=float, default=300.0, help="seconds for the whole search (default 300)")
    nas.add_argument("--max-trials", type=int, help="stop after this many trials")
    nas.add_argument("--max-epochs", type=int, default=50, help="epochs of a full-fidelity trial (default 50)")
    nas.add_argument("--metric")
    nas.add_argument("--n-jobs", type=int, default=1)
    nas.add_argument("--seed", type=int, default=0)
    nas.add_argument("--no-curve-stopping", action="store_true", help="never prune runs by their learning curve")
    nas.add_argument("--out", default="model.pkl", help="where to save the fitted network (default model.pkl)")
    nas.add_argument("--history", help="also write every trial (architecture, fidelity, score, time) to this CSV")
    nas.add_argument("--top", type=int, default=10, help="trials to print")
    nas.add_argument("--quiet", action="store_true")
    nas.set_defaults(func=cmd_nas)
    return nas


def cmd_nas(args: argparse.Namespace) -> int:
    from autolearn.data import load_table
    from autolearn.nas import save, search

    X, y = load_table(args.data, target=args.target)
    try:
        model = search(X, y, args.task, strategy=args.strategy, space=args.space, time_budget=args.time_budget,
                       max_trials=args.max_trials, max_epochs=args.max_epochs, metric=args.metric,
                       seed=args.seed, n_jobs=args.n_jobs, curve_stopping=not args.no_curve_stopping,
                       verbose=0 if args.quiet else 1)
    except (RuntimeError, ImportError) as exc:  # no network finished, or no torch: a message, not a traceback
        print(f"autolearn: error: {exc}", file=sys.stderr)
        return 2
    history = model.history_
    columns = ["trial", "origin", "budget", "epochs_trained", "status", "score", "seconds", "architecture"]
    ranked = history[history["instance"] == ""].sort_values("loss").head(args.top)
    print(ranked[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    info = model.search_
    print(f"best ({info['metric']} {info['validation_score']:.5g} on the {info['resampling']}, {info['n_trials']} trials, "
          f"{info['seconds']:.0f} s): {model.architecture_}")
    if args.history:
        history.to_csv(args.history, index=False)
    out = save(model, Path(args.out))
    print(f"model saved to {out}")
    return 0
