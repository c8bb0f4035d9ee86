"""What every runner script shares: arguments, reading the task, writing ``result.json``.

Runners execute inside a peer's own venv (Python 3.9 for auto-sklearn), so this file uses only the
standard library, numpy and pandas (with pyarrow), and nothing from ``benchmarks`` or ``autolearn``.

A runner defines ``fit_predict(task) -> dict`` and calls ``main(fit_predict, import_check)``.
``fit_predict`` returns ``classes`` + ``probabilities`` (classification) or ``predictions``
(regression), ``fit_time``, ``predict_time``, ``version`` and, if it could save the model,
``model_size_bytes`` (else ``model_size_reason``). ``main`` turns an ImportError of the peer's package
into ``not_installed`` and any other exception into ``failed`` with its traceback, so the harness
always learns why.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class Task:
    """One benchmark task as the runner sees it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.dir = Path(args.task_dir)
        self.out_dir = Path(args.out_dir)
        self.budget = float(args.budget)
        self.cores = int(args.cores)
        self.seed = int(args.seed)
        self.options: dict[str, Any] = json.loads(args.options or "{}")
        self.meta: dict[str, Any] = json.loads((self.dir / "task.json").read_text())
        self.kind: str = self.meta["task"]  # binary | multiclass | regression
        self.target: str = self.meta["target"]
        self.n_classes: int = int(self.meta.get("n_classes") or 0)
        self.train = pd.read_parquet(self.dir / "train.parquet")
        self.test = pd.read_parquet(self.dir / "test.parquet")

    @property
    def X_train(self) -> pd.DataFrame:
        return self.train.drop(columns=[self.target])

    @property
    def y_train(self) -> pd.Series:
        return self.train[self.target]

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"


def dir_size(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _watch_parent() -> None:
    """If the harness dies (SIGKILL), end this runner's whole process group instead of orphaning it."""
    parent = os.getppid()

    def loop() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=loop, daemon=True).start()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def write_result(out_dir: Path, result: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "result.json.tmp"
    tmp.write_text(json.dumps(result, default=_json_default))
    tmp.replace(out_dir / "result.json")  # the harness never reads half a file


def timed(fn: Callable[[], Any]) -> tuple:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main(fit_predict: Callable[[Task], dict[str, Any]], import_check: Callable[[], str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task-dir", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--options", default="{}")
    args = parser.parse_args()
    _watch_parent()
    out_dir = Path(args.out_dir)
    if import_check is not None:
        try:
            version = import_check()
        except ImportError as exc:
            write_result(out_dir, {"status": "not_installed", "reason": f"{type(exc).__name__}: {exc}"})
            sys.exit(3)
    else:
        version = ""
    try:
        task = Task(args)
        result = fit_predict(task)
        result.setdefault("version", version)
        result["status"] = "ok"
    except Exception as exc:  # the harness records the reason; the traceback is in the log
        traceback.print_exc()
        write_result(out_dir, {"status": "failed", "reason": f"{type(exc).__name__}: {exc}", "version": version,
                               "info": {"traceback": traceback.format_exc(limit=-4)}})
        sys.exit(1)
    write_result(out_dir, result)
