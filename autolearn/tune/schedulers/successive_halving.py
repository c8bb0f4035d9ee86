"""Synchronous successive halving (Jamieson & Talwalkar 2016), the building block of Hyperband and BOHB.

A *bracket* starts ``n`` configurations at its lowest rung; when every trial of a rung has been told,
the best ``1/eta`` advance to the next budget, until one rung at ``max_budget`` is done; then the
next bracket starts. Synchronous means ``ask`` returns None while trials of the current rung are
still running: promotions are decided on complete rungs only, which is what makes the result
independent of completion order (ASHA trades that for never idling a worker).

Failed trials rank last and are never promoted, so a rung of failures ends its bracket early.

Time awareness (``time_left``): a bracket is opened only if all its rungs are expected to finish
in the time left, a rung is promoted into only if it is expected to finish, and a bracket is
abandoned when a trial it still needs is expected to overrun. Expected times come from measured
durations (see ``Scheduler.expected_duration``); with several workers, a rung of ``n`` trials counts
as ``ceil(n / workers)`` trial durations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ConfigSpace import ConfigurationSpace

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune.schedulers._base import RungEntry, Scheduler, top_k


def _floor(x: float) -> int:
    return math.floor(x + 1e-9)  # 27 * 3**-3 must be 1, not 0


def _ceil(x: float) -> int:
    return math.ceil(x - 1e-9)  # 4/3 * 9 must be 12, not 13


def halving_sizes(n: int, levels: int, eta: float = 3) -> list[int]:
    """Trials per rung of a bracket starting ``n`` configurations: ``floor(n * eta**-i)``, at least 1."""
    return [max(1, _floor(n * float(eta) ** -i)) for i in range(levels)]


@dataclass
class Bracket:
    """One run of successive halving over consecutive rungs ``first_rung .. first_rung + len(sizes) - 1``."""

    index: int
    first_rung: int
    sizes: list[int]  # trials per rung; later rungs shrink when fewer configurations can advance
    level: int = 0  # the rung being run, counted from first_rung
    started: int = 0  # trials handed out at ``level``
    told: list[list[RungEntry]] = field(default_factory=list)
    advancing: list[RungEntry] = field(default_factory=list)  # what ``level`` promotes (level > 0)
    done: bool = False

    def __post_init__(self) -> None:
        self.told = [[] for _ in self.sizes]


class SuccessiveHalving(Scheduler):
    """Successive halving, one bracket after another.

    Parameters (besides those of :class:`Scheduler`)
    ----------
    n_configs : configurations each bracket starts at ``min_budget``; default ``eta**(n_rungs - 1)``
        so exactly one reaches ``max_budget`` (27 for ``min_budget=1/27, eta=3``).
    """

    name = "sh"

    def __init__(self, space: ConfigurationSpace, *, n_configs: int | None = None, **kwargs) -> None:
        super().__init__(space, **kwargs)
        default = _floor(float(self.eta) ** (len(self.budgets) - 1))
        self.n_configs = default if n_configs is None else int(n_configs)
        if self.n_configs < 1:
            raise ValueError(f"n_configs must be >= 1, got {n_configs!r}")
        self.brackets: list[Bracket] = []

    # -- which bracket next -----------------------------------------------------------------------
    def _bracket_choices(self) -> list[tuple[int, int]]:
        """``(n_configs, first_rung)`` of the brackets that may open next, in order of preference."""
        return [(self.n_configs, 0)]

    def _opened(self, n: int, first_rung: int) -> None:  # noqa: B027 - optional hook
        """A bracket from ``_bracket_choices`` was opened (Hyperband moves its cycle on)."""

    def _open_bracket(self) -> Bracket | None:
        """The first preferred bracket whose whole run is expected to finish in time; None if none is."""
        if self._exhausted:
            return None
        for n, first in self._bracket_choices():
            sizes = halving_sizes(n, len(self.budgets) - first, self.eta)
            plan = zip(sizes, self.budgets[first:])
            if self.affordable(self.rung_seconds(plan)):
                bracket = Bracket(len(self.brackets), first, sizes)
                self.brackets.append(bracket)
                self._opened(n, first)
                return bracket
        return None

    @property
    def current(self) -> Bracket | None:
        return self.brackets[-1] if self.brackets and not self.brackets[-1].done else None

    # -- the state machine --------------------------------------------------------------------------
    def _schedule(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        # Each pass hands out a trial, waits, or closes a rung or a bracket; the bound only guards
        # against a bug turning into an endless loop.
        for _ in range(4 * len(self.budgets) + 8):
            bracket = self.current or self._open_bracket()
            if bracket is None:
                return None  # nothing affordable, or the sampler is exhausted
            rung = bracket.first_rung + bracket.level
            if bracket.started < bracket.sizes[bracket.level]:
                if not self.affordable(self.expected_duration(self.budgets[rung])):
                    bracket.done = True  # a trial this rung needs cannot finish: the rung never would
                    continue
                if bracket.level > 0:
                    entry = bracket.advancing[bracket.started]
                    bracket.started += 1
                    return self._promote(entry, bracket.index)
                suggestion = self._new_config(pending)
                if suggestion is None:  # sampler exhausted: halve what was started
                    bracket.sizes = halving_sizes(bracket.started, len(bracket.sizes), self.eta)
                    bracket.done = bracket.started == 0
                    continue
                bracket.started += 1
                return self._issue(suggestion.config, rung, bracket.index, origin=suggestion.origin)
            if len(bracket.told[bracket.level]) < bracket.started:
                return None  # synchronous: wait until the whole rung is told
            self._close_rung(bracket)
        return None

    def _close_rung(self, bracket: Bracket) -> None:
        """Decide who advances from a complete rung, or end the bracket."""
        nxt = bracket.level + 1
        if nxt == len(bracket.sizes):
            bracket.done = True
            return
        winners = top_k(bracket.told[bracket.level], bracket.sizes[nxt])
        budget = self.budgets[bracket.first_rung + nxt]
        if not winners or not self.affordable(self.rung_seconds([(len(winners), budget)])):
            bracket.done = True
            return
        bracket.level, bracket.started = nxt, 0
        bracket.sizes[nxt] = len(winners)
        bracket.advancing = winners

    def _place(self, entry: RungEntry) -> None:
        bracket = self.brackets[entry.bracket]
        bracket.told[entry.rung - bracket.first_rung].append(entry)
