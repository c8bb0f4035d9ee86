"""What a meta-feature group is, the clock every group answers to, and two summaries they share.

A group is one small record (its feature names, how many rows it needs, how its cost grows with
rows) plus a ``compute`` function, so the runner in ``_compute.py`` can time, pilot and skip every
group the same way without knowing what it measures.

Contract for ``compute(data, table, deadline) -> dict[str, float]``: return a value (possibly NaN
for "not applicable to this task") for every name it computed; a name left out of the result was
skipped for lack of time and is reported in ``series.attrs["skipped"]``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from autolearn.meta.metafeatures._data import Dataset, Table

NAN = float("nan")


class Deadline:
    """Wall-clock end of the whole call; ``None`` seconds means no limit."""

    def __init__(self, seconds: float | None) -> None:
        self._end = math.inf if seconds is None else time.perf_counter() + float(seconds)

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self._end - time.perf_counter()

    @classmethod
    def never(cls) -> Deadline:
        return cls(None)


@dataclass(frozen=True)
class Group:
    """One family of meta-features.

    ``sample_rows`` caps the rows the group sees (a stratified prefix of the data), and
    ``cost_exponent`` says how its run time grows with rows, so a timed run on a small pilot
    sample predicts the full run. ``warm_up`` does work on the full data that does not grow with
    the sample (cached on the :class:`Dataset`), run before the pilot so it is not extrapolated.
    ``always`` groups are cheap and run even after the deadline: callers rely on them.
    """

    name: str
    names: tuple[str, ...]
    compute: Callable[[Dataset, Table, Deadline], dict[str, float]]
    sample_rows: int = 10_000
    cost_exponent: float = 1.0
    warm_up: Callable[[Dataset], object] | None = None
    always: bool = False


def describe(prefix: str, values: np.ndarray) -> dict[str, float]:
    """min/mean/max/std (population) of the finite values; all NaN when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {f"{prefix}_{s}": NAN for s in ("min", "mean", "max", "std")}
    return {
        f"{prefix}_min": float(v.min()),
        f"{prefix}_mean": float(v.mean()),
        f"{prefix}_max": float(v.max()),
        f"{prefix}_std": float(v.std()),
    }


def entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy in bits of a vector of counts (zeros ignored)."""
    c = np.asarray(counts, dtype=float)
    c = c[c > 0]
    if c.size == 0:
        return NAN
    p = c / c.sum()
    return float(-(p * np.log2(p)).sum())
