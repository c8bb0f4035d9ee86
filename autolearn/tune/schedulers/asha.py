"""Asynchronous successive halving (ASHA; Li et al., MLSys 2020).

Synchronous successive halving idles workers while a rung finishes, and a single straggler holds up
a whole bracket. ASHA decides on every ``ask`` with what is known *now*: starting from the highest
rung, it promotes any configuration that is in the top ``1/eta`` of its rung (among the trials told
so far) and has not been promoted yet; if there is none, it starts a new configuration at the lowest
rung. So a free worker always gets work, and ``ask`` returns None only when no work is affordable or
the sampler is exhausted. The price: early promotions are decided on few results, so some are
mistakes (the paper shows this costs little).

Told trials this scheduler did not start (warm starts, a resumed study) join the rung whose budget
they match, so a resumed search keeps promoting where it stopped.

Time awareness (``time_left``): no promotion to a rung whose expected trial duration exceeds the time
left, and no new configuration whose lowest-rung trial would not finish. With
``max_budget_aware=True`` new configurations are started only while one could still climb every rung
up to ``max_budget`` in the time left (one trial per rung, back to back); after that ASHA only
promotes, so the last minutes are not spent on low-budget results that can never reach full budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ConfigSpace import ConfigurationSpace

from autolearn.records import Suggestion, TrialResult, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.schedulers._base import RungEntry, Scheduler, top_k


class ASHA(Scheduler):
    """Asynchronous successive halving over the rungs ``rungs(min_budget, max_budget, eta)``.

    Parameters (besides those of :class:`~autolearn.tune.schedulers._base.Scheduler`)
    ----------
    max_budget_aware : with ``time_left``, stop starting new configurations once one could no longer
        reach ``max_budget`` in the time left (default False).
    """

    name = "asha"

    def __init__(self, space: ConfigurationSpace, *, max_budget_aware: bool = False, **kwargs) -> None:
        super().__init__(space, **kwargs)
        self.max_budget_aware = max_budget_aware
        self.told: list[list[RungEntry]] = [[] for _ in self.budgets]

    def _schedule(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        for k in range(len(self.budgets) - 2, -1, -1):
            entry = self.promotable(k)
            if entry is not None and self.affordable(self.expected_duration(self.budgets[k + 1])):
                return self._promote(entry, 0)
        if self.max_budget_aware and not self.affordable(self.rung_seconds((1, b) for b in self.budgets)):
            return None
        if not self.affordable(self.expected_duration(self.budgets[0])):
            return None
        suggestion = self._new_config(pending)
        if suggestion is None:
            return None
        return self._issue(suggestion.config, 0, 0, origin=suggestion.origin)

    def promotable(self, rung: int) -> RungEntry | None:
        """The best trial of ``rung`` in its top ``1/eta`` (so far) that has not been promoted yet."""
        told = self.told[rung]
        k = math.floor(len(told) / self.eta + 1e-9)
        return next((e for e in top_k(told, k) if not e.promoted), None)

    def _place(self, entry: RungEntry) -> None:
        self.told[entry.rung].append(entry)

    def _foreign(self, spec: TrialSpec, result: TrialResult) -> None:
        rung = next((i for i, b in enumerate(self.budgets) if math.isclose(b, spec.budget)), None)
        if rung is None or spec.trial_id in self.entries:
            return
        entry = RungEntry(spec.trial_id, dict(spec.config), spaces.config_key(spec.config), spec.budget,
                          rung, 0, result.status, result.loss, spec.parent)
        self.entries[spec.trial_id] = entry
        if spec.parent in self.entries:  # a resumed promotion: its parent must not advance again
            self.entries[spec.parent].promoted = True
        self._place(entry)
