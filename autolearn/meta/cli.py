"""``autolearn meta DATA --target COL``: a dataset's meta-features, its nearest neighbours in the
meta-database and what they recommend — to see *why* a warm start starts where it does.

Registered by ``autolearn/cli.py`` through :func:`add_meta_parser`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from autolearn.meta.similarity import DISTANCES


def add_meta_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``meta`` command to ``autolearn``'s subparsers (``parser.add_subparsers()``)."""
    meta = subparsers.add_parser("meta", help="meta-features of a table and its nearest datasets in the meta-database")
    meta.add_argument("data", help="CSV/TSV/Parquet/ARFF file or PMLB folder")
    meta.add_argument("--target", required=True, help="name of the column to predict")
    meta.add_argument("--task", choices=["binary", "multiclass", "regression"], help="inferred when omitted")
    meta.add_argument("--k", type=int, default=5, help="neighbours to show (default 5)")
    meta.add_argument("--n", type=int, default=8, help="configurations to recommend (default 8)")
    meta.add_argument("--method", choices=["knn", "rank", "portfolio"], default="knn")
    meta.add_argument("--distance", choices=DISTANCES, default="euclidean")
    meta.add_argument("--time-limit", type=float, default=30.0, help="seconds for the meta-features (default 30)")
    meta.add_argument("--database", help="a meta-database file (default: the shipped one)")
    meta.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    meta.set_defaults(func=cmd_meta)
    return meta


def cmd_meta(args: argparse.Namespace) -> int:
    from autolearn.data import load_table
    from autolearn.meta.database import load_metadb
    from autolearn.meta.metafeatures import metafeatures
    from autolearn.meta.recommend import recommend
    from autolearn.meta.similarity import nearest

    X, y = load_table(args.data, target=args.target)
    keep = y.notna().to_numpy()
    X, y = X.loc[keep], y.loc[keep]
    mf = metafeatures(X, y, task=args.task, time_limit=args.time_limit)
    task = str(mf.attrs["task"])
    db = load_metadb(args.database)
    table = db[task]
    neighbours = nearest(mf, table, args.k, distance=args.distance)
    configs = recommend(X, y, n=args.n, method=args.method, task=task, database=db, meta_features=mf,
                        distance=args.distance)
    best = {name: table.configs[table.best_configs(name, 1)[0]]["model"] if table.best_configs(name, 1) else "-"
            for name, _ in neighbours}
    if args.json:
        print(json.dumps({
            "task": task, "metafeatures": {k: (None if v != v else v) for k, v in mf.items()},
            "skipped": list(mf.attrs.get("skipped", [])),
            "neighbours": [{"dataset": n, "distance": d, "best_model": best[n]} for n, d in neighbours],
            "recommendations": configs,
        }, default=str))
        return 0
    _print(mf, task, neighbours, best, configs, args)
    return 0


def _print(mf: Any, task: str, neighbours: list[tuple[str, float]], best: dict[str, str],
           configs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    features = Table(title=f"meta-features ({task}; {len(mf.attrs.get('skipped', []))} skipped for time)")
    for column in ("name", "value", "name ", "value "):
        features.add_column(column, justify="right" if column.startswith("value") else "left")
    items = [(name, "nan" if value != value else f"{value:.5g}") for name, value in mf.items()]
    half = (len(items) + 1) // 2
    for left, right in zip(items[:half], items[half:] + [("", "")]):
        features.add_row(*left, *right)
    console.print(features)
    near = Table(title=f"nearest datasets ({args.distance} distance on robust-scaled meta-features)")
    for column in ("rank", "dataset", "distance", "best model there"):
        near.add_column(column)
    for i, (name, distance) in enumerate(neighbours, 1):
        near.add_row(str(i), name, f"{distance:.3f}", best[name])
    console.print(near)
    recs = Table(title=f"recommended configurations ({args.method})")
    for column in ("#", "model", "hyperparameters", "imputer / encoder / scaler / feature"):
        recs.add_column(column)
    for i, config in enumerate(configs, 1):
        model = str(config["model"])
        params = ", ".join(f"{k.split(':', 1)[1]}={_short(v)}" for k, v in config.items() if k.startswith(model + ":"))
        steps = " / ".join(str(config.get(kind, "-")) for kind in ("imputer", "encoder", "scaler", "feature"))
        recs.add_row(str(i), model, params, steps)
    console.print(recs)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
