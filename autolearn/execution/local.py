"""Trials on this machine: ``n_workers`` isolated worker processes, dispatched asynchronously."""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import wait as wait_handles
from typing import Any

from autolearn.execution._base import Runner
from autolearn.execution.isolation import Completed, IsolatedWorker, serialize
from autolearn.records import Status, TrialResult, TrialSpec


class LocalRunner(Runner):
    def __init__(self, n_workers: int = 1, threads_per_worker: int | None = None, prestart: bool = True) -> None:
        if n_workers < 1:
            raise ValueError(f"n_workers must be at least 1, got {n_workers}")
        self.n_workers = n_workers
        cores = os.cpu_count() or 1
        threads = threads_per_worker or max(cores // n_workers, 1)
        self._workers = [IsolatedWorker(f"worker-{i}", threads) for i in range(n_workers)]
        if prestart:  # start-up overlaps with whatever the caller does before the first trial
            for worker in self._workers:
                worker.start()
        self._queue: deque[tuple[str, bytes, TrialSpec]] = deque()
        self._blob_of: tuple[Callable, str, bytes] | None = None

    def _blob(self, fn: Callable) -> tuple[str, bytes]:
        # Serialize each objective once, not once per trial. The cache holds the objective itself and
        # compares identity: keyed by id() alone, a new objective allocated where a collected one lived
        # would be sent as the old one's bytes.
        if self._blob_of is None or self._blob_of[0] is not fn:
            blob = serialize(fn)
            self._blob_of = (fn, hashlib.sha1(blob).hexdigest(), blob)
        return self._blob_of[1], self._blob_of[2]

    def submit(self, fn: Callable[[TrialSpec], Any], spec: TrialSpec) -> None:
        digest, blob = self._blob(fn)
        self._queue.append((digest, blob, spec))
        self._dispatch()

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._queue:
                return
            if not worker.busy:
                worker.submit(*self._queue.popleft())

    def running(self) -> list[TrialSpec]:
        return [w.spec for w in self._workers if w.spec is not None] + [s for _, _, s in self._queue]

    def wait(self, timeout: float | None = None) -> list[Completed]:
        end = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            done = [c for c in (w.check() for w in self._workers) if c is not None]
            self._dispatch()
            if done or not any(w.busy for w in self._workers):
                return done
            remaining = end - time.monotonic()
            if remaining <= 0:
                return []
            handles = [h for w in self._workers if w.busy for h in w.handles]
            nap = min([remaining, 1.0] + [w.next_event_in() for w in self._workers])
            wait_handles(handles, timeout=nap)

    def cancel_all(self) -> list[Completed]:
        cancelled = []
        now = time.time()
        for worker in self._workers:
            if worker.spec is not None:
                spec = worker.spec
                worker.kill()
                worker.spec = None
                cancelled.append(spec)
        cancelled += [s for _, _, s in self._queue]
        self._queue.clear()
        return [
            Completed(s, TrialResult(s.trial_id, Status.CANCELLED, (), 0.0, now, "search stopped", {}, ""))
            for s in cancelled
        ]

    def close(self) -> None:
        for worker in self._workers:
            worker.kill()
            worker.spec = None
        self._queue.clear()
