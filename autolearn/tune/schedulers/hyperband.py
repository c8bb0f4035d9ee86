"""Hyperband (Li et al., JMLR 2018): successive halving brackets of every aggressiveness, in turn.

A single successive-halving bracket bets on low budgets being informative. Hyperband hedges: bracket
``s`` (``s = s_max .. 0``) starts ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` configurations at
``r = max_budget * eta**-s`` and halves them ``s`` times, so the most aggressive bracket screens many
configurations cheaply and the last one runs a few at full budget only. Each bracket costs about the
same, ``(s_max + 1)`` full-budget evaluations.

With ``time_left``, a bracket that is not expected to finish is skipped in favour of the next one in
the cycle that is (see :mod:`successive_halving`), so late in a search Hyperband falls back to
short, high-budget brackets instead of starting a wide low-budget one it could not complete.
"""

from __future__ import annotations

from ConfigSpace import ConfigurationSpace

from autolearn.tune.schedulers._base import rungs
from autolearn.tune.schedulers.successive_halving import SuccessiveHalving, _ceil, halving_sizes


def hyperband_brackets(min_budget: float, max_budget: float = 1.0, eta: float = 3) -> list[list[tuple[int, float]]]:
    """The ``(n_i, r_i)`` of every bracket, ``s = s_max`` first, as in Table 1 of Li et al.

    ``min_budget=1/27, eta=3`` (R = 27) gives::

        s=3: (27, 1/27) (9, 1/9) (3, 1/3) (1, 1)
        s=2: (12, 1/9)  (4, 1/3) (1, 1)
        s=1: (6, 1/3)   (2, 1)
        s=0: (4, 1)
    """
    budgets = rungs(min_budget, max_budget, eta)
    s_max = len(budgets) - 1
    out = []
    for s in range(s_max, -1, -1):
        n = _ceil((s_max + 1) / (s + 1) * float(eta) ** s)
        out.append(list(zip(halving_sizes(n, s + 1, eta), budgets[s_max - s:])))
    return out


class Hyperband(SuccessiveHalving):
    """Hyperband: cycles through brackets ``s = s_max .. 0`` and starts over.

    Takes the parameters of :class:`~autolearn.tune.schedulers._base.Scheduler` (``sampler``,
    ``min_budget=1/27``, ``max_budget=1.0``, ``eta=3``, ``time_left``, ``seed``); bracket sizes
    follow from ``eta`` and the budget ratio, so there is no ``n_configs``.
    """

    name = "hyperband"

    def __init__(self, space: ConfigurationSpace, **kwargs) -> None:
        if "n_configs" in kwargs:
            raise TypeError("Hyperband sizes its brackets from eta and the budget ratio; n_configs is for 'sh'")
        super().__init__(space, **kwargs)
        self.s_max = len(self.budgets) - 1
        self._next_s = self.s_max

    def _bracket_choices(self) -> list[tuple[int, int]]:
        order = [(self._next_s - i) % (self.s_max + 1) for i in range(self.s_max + 1)]
        return [(_ceil((self.s_max + 1) / (s + 1) * float(self.eta) ** s), self.s_max - s) for s in order]

    def _opened(self, n: int, first_rung: int) -> None:
        s = self.s_max - first_rung
        self._next_s = (s - 1) % (self.s_max + 1)
