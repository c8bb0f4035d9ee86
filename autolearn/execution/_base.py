"""The runner interface: submit trials with their limits, collect them as they finish, cancel.

Implementations: :mod:`autolearn.execution.local` (worker processes on this machine, the default)
and :mod:`autolearn.execution.dask` (a Dask cluster). Both run each trial through
:class:`autolearn.execution.isolation.IsolatedWorker`, so limits behave the same everywhere.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from autolearn.execution.isolation import Completed
from autolearn.records import TrialSpec


class Runner(ABC):
    n_workers: int

    @abstractmethod
    def submit(self, fn: Callable[[TrialSpec], Any], spec: TrialSpec) -> None:
        """Start ``fn(spec)`` as soon as a worker is free; never blocks."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> list[Completed]:
        """Trials finished since the last call; waits up to ``timeout`` s for at least one."""

    @abstractmethod
    def running(self) -> list[TrialSpec]:
        """Submitted trials not yet collected."""

    @abstractmethod
    def cancel_all(self) -> list[Completed]:
        """Stop every submitted trial; returns them as CANCELLED."""

    @abstractmethod
    def close(self) -> None:
        """Release the workers."""

    @property
    def free_slots(self) -> int:
        return max(self.n_workers - len(self.running()), 0)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
