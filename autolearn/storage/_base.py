"""The run-history interface. Implementations: in-memory (:mod:`.memory`) and SQL through SQLAlchemy
(:mod:`.sql`: SQLite by default, any SQLAlchemy URL such as PostgreSQL).

Storage assigns trial ids, so several processes writing to one store never collide, and keeps every
spec as soon as it starts: a search killed at any moment is resumed from what is stored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from autolearn.records import Limits, Suggestion, TrialRecord, TrialResult, TrialSpec


@dataclass(frozen=True)
class StudyInfo:
    name: str
    directions: tuple[str, ...]  # "minimize" | "maximize", one per objective
    meta: dict[str, Any] = field(default_factory=dict)  # JSON-able: space JSON, optimizer, task, ...


class StudyExistsError(ValueError):
    pass


class StudyNotFoundError(KeyError):
    pass


class Storage(ABC):
    @abstractmethod
    def create_study(
        self, name: str, directions: tuple[str, ...], meta: dict[str, Any] | None = None, load_if_exists: bool = False
    ) -> StudyInfo:
        """Create a study; with ``load_if_exists`` return the stored one instead of raising
        :class:`StudyExistsError`."""

    @abstractmethod
    def get_study(self, name: str) -> StudyInfo:
        """Raises :class:`StudyNotFoundError` naming the study and the ones that exist."""

    @abstractmethod
    def study_names(self) -> list[str]: ...

    @abstractmethod
    def update_meta(self, name: str, meta: dict[str, Any]) -> None:
        """Merge ``meta`` into the study's metadata (e.g. the final model's path)."""

    @abstractmethod
    def add_trial(self, study: str, suggestion: Suggestion, seed: int, limits: Limits) -> TrialSpec:
        """Store a new running trial and return its spec with a fresh, unique ``trial_id``."""

    @abstractmethod
    def set_result(self, study: str, result: TrialResult) -> None:
        """Store a trial's result (once; a second result for the same trial raises ValueError)."""

    @abstractmethod
    def trials(self, study: str) -> list[TrialRecord]:
        """Every trial of the study in id order; running ones have ``result=None``."""

    # Cheaper reads for the ask/tell path, which must not re-read a long history on every call. The
    # defaults are correct for any storage; implementations override them with indexed reads.
    def n_trials(self, study: str) -> int:
        """How many trials the study has, running ones included."""
        return len(self.trials(study))

    def running(self, study: str) -> list[TrialSpec]:
        """Specs of the trials that have no result yet, in id order."""
        return [r.spec for r in self.trials(study) if r.result is None]

    def trial(self, study: str, trial_id: int) -> TrialRecord:
        """One trial; raises KeyError naming the study and the id when it does not exist."""
        for record in self.trials(study):
            if record.spec.trial_id == trial_id:
                return record
        raise KeyError(f"study {study!r} has no trial {trial_id}")

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""
