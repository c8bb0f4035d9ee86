"""What a user sees while a search runs: a live panel on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import logging
import sys
import time

from autolearn.execution import Completed

logger = logging.getLogger("autolearn")


class Progress:
    """A search callback: counts trials and tracks the best score; ``verbose=0`` shows nothing."""

    def __init__(self, time_budget: float | None, max_trials: int | None, metric: str, greater_is_better: bool,
                 verbose: int = 1, log_every: float = 5.0) -> None:
        self.time_budget = time_budget
        self.max_trials = max_trials
        self.metric = metric
        self.greater_is_better = greater_is_better
        self.verbose = verbose
        self.log_every = log_every
        self.done = self.failed = 0
        self.best: float | None = None
        self.best_model = ""
        self.phase = "searching"
        self._start = time.monotonic()
        self._last_log = 0.0
        self._live = None

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        if self.verbose and sys.stdout.isatty():
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._render(), console=Console(), refresh_per_second=4, transient=False)
            self._live.__enter__()
        elif self.verbose and not logger.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("[autolearn] %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(None, None, None)
            self._live = None
        elif self.verbose:
            self._log(force=True)

    def __call__(self, done: Completed) -> None:
        self.done += 1
        result = done.result
        if not result.ok:
            self.failed += 1
        elif done.spec.budget >= 1.0 and "score" in result.info:
            score = float(result.info["score"])
            better = self.best is None or (score > self.best if self.greater_is_better else score < self.best)
            if better:
                self.best, self.best_model = score, str(result.info.get("model", ""))
        self.refresh()

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self.refresh()

    def refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())
        elif self.verbose:
            self._log()

    def _status(self) -> str:
        elapsed = time.monotonic() - self._start
        budget = "" if self.time_budget is None else f" / {self.time_budget:.0f}s"
        trials = f"{self.done}" + ("" if self.max_trials is None else f"/{self.max_trials}")
        best = "-" if self.best is None else f"{self.best:.5g} ({self.best_model})"
        return (f"{self.phase}: {elapsed:.0f}s{budget} elapsed, trials {trials} done, {self.failed} failed, "
                f"best {self.metric} {best}")

    def _render(self):  # noqa: ANN202 - a rich renderable
        from rich.panel import Panel
        from rich.table import Table

        elapsed = time.monotonic() - self._start
        table = Table.grid(padding=(0, 2))
        table.add_row("phase", self.phase)
        remaining = "-" if self.time_budget is None else f"{max(self.time_budget - elapsed, 0):.0f}s"
        table.add_row("elapsed / remaining", f"{elapsed:.0f}s / {remaining}")
        table.add_row("trials done / failed", f"{self.done} / {self.failed}")
        best = "-" if self.best is None else f"{self.best:.5g}  ({self.best_model})"
        table.add_row(f"best {self.metric}", best)
        return Panel(table, title="autolearn", expand=False)

    def _log(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_log >= self.log_every:
            self._last_log = now
            logger.info(self._status())
