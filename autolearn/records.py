"""Records every layer passes around: what to run (TrialSpec), under which limits, and what happened.

They are frozen and JSON-friendly so that storage, runners (local or Dask) and optimizers can exchange
them without knowing about each other.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """How a trial ended. Only SUCCESS carries objective values."""

    SUCCESS = "success"
    FAILED = "failed"  # the objective raised
    TIMEOUT = "timeout"  # killed at the per-trial wall-time limit
    MEMOUT = "memout"  # killed at the memory limit
    CRASHED = "crashed"  # the worker process died (segfault, abort, os._exit)
    CANCELLED = "cancelled"  # never finished because the search stopped
    PRUNED = "pruned"  # stopped early by a scheduler or learning-curve rule; values hold the last loss


@dataclass(frozen=True)
class Limits:
    """Per-trial resource limits, enforced by the runner in an isolated worker."""

    wall_time: float | None = None  # seconds
    memory_mb: float | None = None  # resident memory of the worker and its children


@dataclass(frozen=True)
class Suggestion:
    """What an optimizer or scheduler proposes: a configuration at a fidelity.

    ``budget`` is the fraction of the full fidelity in (0, 1]; the evaluator decides what it means
    for a given model (rows, boosting rounds, epochs). ``instance`` names a CV fold, dataset or seed
    when the optimizer intensifies over instances.
    """

    config: Mapping[str, Any]
    budget: float = 1.0
    instance: str | None = None
    origin: str = ""  # e.g. "default", "random", "tpe", "meta", "promoted"
    parent: int | None = None  # trial continued from (a promoted multi-fidelity trial)


@dataclass(frozen=True)
class TrialSpec:
    """A suggestion with an identity, a seed and limits: exactly what a worker runs."""

    trial_id: int
    config: Mapping[str, Any]
    budget: float = 1.0
    instance: str | None = None
    seed: int = 0
    limits: Limits = field(default_factory=Limits)
    origin: str = ""
    parent: int | None = None

    @classmethod
    def from_suggestion(cls, s: Suggestion, trial_id: int, seed: int, limits: Limits) -> TrialSpec:
        return cls(trial_id, dict(s.config), s.budget, s.instance, seed, limits, s.origin, s.parent)

    def suggestion(self) -> Suggestion:
        return Suggestion(self.config, self.budget, self.instance, self.origin, self.parent)


@dataclass(frozen=True)
class TrialResult:
    """The outcome of one trial. ``values`` are losses (lower is better), one per objective."""

    trial_id: int
    status: Status
    values: tuple[float, ...] = ()
    duration: float = 0.0  # wall seconds, measured by the runner
    started: float = 0.0  # unix time the worker started it
    error: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)  # JSON-able extras (scores, timings, memory)
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Status.SUCCESS

    @property
    def loss(self) -> float:
        """First objective, or +inf where the trial gave none (failed, crashed, ...)."""
        if self.values and math.isfinite(self.values[0]):
            return float(self.values[0])
        return math.inf


@dataclass(frozen=True)
class TrialRecord:
    """A spec with its result (None while it runs): what storage keeps and optimizers learn from."""

    spec: TrialSpec
    result: TrialResult | None = None


@dataclass
class Outcome:
    """What an objective function returns to the runner; ``artifacts`` (predictions, a fitted
    model) travel back to the caller but are never written to the run history."""

    values: tuple[float, ...]
    info: dict[str, Any] = field(default_factory=dict)
    artifacts: Any = None
    status: Status = Status.SUCCESS
