"""Trials in the calling process, one at a time: for cheap objectives, debugging and profilers.

No isolation: time and memory limits are not enforced, and a crash of the objective takes the caller
down. Use :class:`~autolearn.execution.local.LocalRunner` whenever a trial might misbehave.
"""

from __future__ import annotations

import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from autolearn.execution._base import Runner
from autolearn.execution.isolation import Completed, normalize_outcome
from autolearn.records import Status, TrialResult, TrialSpec


class InlineRunner(Runner):
    n_workers = 1

    def __init__(self) -> None:
        self._queue: deque[tuple[Callable[[TrialSpec], Any], TrialSpec]] = deque()

    def submit(self, fn: Callable[[TrialSpec], Any], spec: TrialSpec) -> None:
        self._queue.append((fn, spec))

    def running(self) -> list[TrialSpec]:
        return [spec for _, spec in self._queue]

    def wait(self, timeout: float | None = None) -> list[Completed]:
        if not self._queue:
            return []
        fn, spec = self._queue.popleft()
        started = time.time()
        t0 = time.perf_counter()
        try:
            out = normalize_outcome(fn(spec))
        except Exception:  # noqa: BLE001 - a failing objective is a failed trial
            result = TrialResult(spec.trial_id, Status.FAILED, (), time.perf_counter() - t0, started,
                                 traceback.format_exc(limit=8), {}, "inline")
            return [Completed(spec, result)]
        result = TrialResult(spec.trial_id, out.status, tuple(out.values), time.perf_counter() - t0, started, "",
                             dict(out.info), "inline")
        return [Completed(spec, result, out.artifacts)]

    def cancel_all(self) -> list[Completed]:
        now = time.time()
        cancelled = [Completed(s, TrialResult(s.trial_id, Status.CANCELLED, (), 0.0, now, "search stopped"))
                     for _, s in self._queue]
        self._queue.clear()
        return cancelled

    def close(self) -> None:
        self._queue.clear()
