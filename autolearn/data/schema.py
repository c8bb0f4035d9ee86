"""What each input column is, decided once at fit time and checked again at predict time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KINDS = ("numeric", "categorical", "boolean", "datetime", "text")


@dataclass(frozen=True)
class Schema:
    """Column names in order and the kind of each (one of :data:`KINDS`).

    ``categories`` holds, for categorical and boolean columns, the categories seen at fit time, so
    the mapping never changes after fit.
    """

    columns: tuple[str, ...]
    kinds: Mapping[str, str]
    categories: Mapping[str, tuple] = field(default_factory=dict)

    def of(self, kind: str) -> list[str]:
        if kind not in KINDS:
            raise ValueError(f"unknown column kind {kind!r}; expected one of {KINDS}")
        return [c for c in self.columns if self.kinds[c] == kind]

    @property
    def n_features(self) -> int:
        return len(self.columns)
