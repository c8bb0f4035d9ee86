"""What a benchmarked system is: something that, given a task folder, returns test predictions.

Every system (in-process baseline or peer in its own venv) reads the same task folder written by
``splits.write_task_files`` (``train.parquet``, ``test.parquet``, ``task.json``), so none gets a
different view of the data, and returns a ``SystemOutput``; the harness scores it, so no system
computes its own test metric.
"""

from __future__ import annotations

import math
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil


@dataclass(frozen=True)
class RunContext:
    """One run's inputs: the task folder, a folder for the system's files, and the limits."""

    task_dir: Path
    out_dir: Path
    task: str
    n_classes: int
    budget: float
    cores: int
    seed: int
    kill_after: float | None = None  # tests shorten the hard limit; benchmarks leave it alone

    @property
    def hard_limit(self) -> float:
        """Wall-clock seconds after which a run is killed (AMLB-style generous margin: 2× budget + 60 s)."""
        return self.kill_after if self.kill_after is not None else 2.0 * self.budget + 60.0


@dataclass
class SystemOutput:
    """What a system returns. ``proba`` is (n, K) in the order of ``classes`` (codes); regression
    systems fill ``pred``. Timings in seconds; size in bytes (NaN with a reason if not measurable)."""

    status: str = "ok"
    reason: str = ""
    proba: np.ndarray | None = None
    classes: list[Any] | None = None
    pred: np.ndarray | None = None
    fit_time: float = math.nan
    predict_time: float = math.nan
    wall_time: float = math.nan
    model_size_bytes: float = math.nan
    model_size_reason: str = ""
    peak_memory_mb: float = math.nan
    version: str = ""
    info: dict[str, Any] = field(default_factory=dict)


class System(ABC):
    """A benchmarked system. ``name`` is its identity in the results; ``options`` its settings."""

    def __init__(self, name: str, options: dict[str, Any] | None = None) -> None:
        self.name = name
        self.options = dict(options or {})

    @abstractmethod
    def run(self, ctx: RunContext) -> SystemOutput:
        """Fit on ``ctx.task_dir/train.parquet``, predict ``test.parquet``; never raise for the
        system's own failures (return status ``failed`` / ``timeout`` / ``not_installed``)."""


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 once it has gone)."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


class MemoryPoller:
    """Peak resident memory of a process tree, sampled every ``interval`` s on a daemon thread.

    Polling misses spikes shorter than the interval; it is what AMLB-style harnesses can do for a
    process tree they do not control (a child's ``ru_maxrss`` would miss its own children).
    """

    def __init__(self, pid: int | None = None, interval: float = 0.2) -> None:
        self.proc = psutil.Process(pid or os.getpid())
        self.interval = interval
        self.peak = tree_rss(self.proc)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        self.peak = max(self.peak, tree_rss(self.proc))

    def __enter__(self) -> MemoryPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def dir_size(path: Path) -> int:
    """Bytes of every file under ``path`` (a saved model may be a folder, as AutoGluon's is)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
