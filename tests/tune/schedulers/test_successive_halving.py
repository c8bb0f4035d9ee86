"""Successive halving on a hand-computed example: which configurations advance, at which budgets."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from ConfigSpace import ConfigurationSpace, Integer

from autolearn.records import Status, Suggestion, TrialResult, TrialSpec
from autolearn.tune.optimizers import Optimizer
from autolearn.tune.schedulers import SuccessiveHalving


class ListSampler(Optimizer):
    """Proposes the given configurations in order, then nothing."""

    name = "list"

    def __init__(self, space: ConfigurationSpace, configs: Sequence[dict], **kwargs) -> None:
        super().__init__(space, **kwargs)
        self.configs = list(configs)

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        return Suggestion(self.configs.pop(0), origin=self.name) if self.configs else None


def space() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=0)
    cs.add(Integer("i", (0, 99)))
    return cs


def scheduler(n: int = 9, **kwargs) -> SuccessiveHalving:
    cs = space()
    return SuccessiveHalving(cs, sampler=ListSampler(cs, [{"i": k} for k in range(n)]), min_budget=1 / 9, **kwargs)


# losses by (config i, budget); None fails the trial
LOSSES = {
    1 / 9: {0: 5, 1: 3, 2: 8, 3: 1, 4: 9, 5: 2, 6: 7, 7: 4, 8: 6},
    1 / 3: {3: 0.9, 5: 0.5, 1: 0.7, 7: 0.8},
    1.0: {5: 0.1, 1: 0.2},
}


def lookup(table):
    def loss(spec: TrialSpec):
        budget = min(table, key=lambda b: abs(b - spec.budget))
        return table[budget][spec.config["i"]]
    return loss


def test_top_third_advances_with_parent_and_budget(sim):
    opt = scheduler()
    run = sim(opt, lookup(LOSSES))
    # budgets rounded: pytest.approx compares no nested tuples
    plan = [(s.config["i"], round(s.budget, 9), s.origin, s.parent) for _, s, _ in run.started]
    third, ninth = round(1 / 3, 9), round(1 / 9, 9)
    assert plan == (
        [(i, ninth, "list", None) for i in range(9)]
        # best three of rung 0 (losses 1, 2, 3), best first; parents are their rung-0 trial ids
        + [(3, third, "promoted", 3), (5, third, "promoted", 5), (1, third, "promoted", 1)]
        # best of rung 1 (loss 0.5), continued from trial 10
        + [(5, 1.0, "promoted", 10)]
    )
    assert run.asks[-1] is None  # the sampler is exhausted: no second bracket
    promoted = {row["trial_id"] for row in opt.rung_table() if row["promoted"]}
    assert promoted == {1, 3, 5, 10}
    assert [row["rung"] for row in opt.rung_table()] == [0] * 9 + [1] * 3 + [2]
    assert [(s.trial_id, r.loss) for s, r in opt.full_budget_results()] == [(12, 0.1)]
    assert opt.best() == ({"i": 5}, 0.1)


def test_failed_trials_rank_last_and_never_advance(sim):
    table = {b: dict(v) for b, v in LOSSES.items()}
    table[1 / 9][3] = None  # the best configuration crashes at the lowest rung
    run = sim(scheduler(), lookup(table))
    promoted = [(s.config["i"], round(s.budget, 9)) for _, s, _ in run.started if s.origin == "promoted"]
    third = round(1 / 3, 9)
    assert promoted == [(5, third), (1, third), (7, third), (5, 1.0)]


def test_a_rung_of_failures_ends_the_bracket(sim):
    run = sim(scheduler(n=18), lambda spec: None)
    assert all(s.origin == "list" for _, s, _ in run.started)  # nothing promoted
    assert [s.config["i"] for _, s, _ in run.started] == list(range(18))  # two brackets of 9


def test_ask_waits_until_the_rung_is_complete():
    opt = scheduler(n=18)
    specs = []
    for trial_id in range(9):
        s = opt.ask([])
        assert s is not None and s.budget == pytest.approx(1 / 9)
        specs.append(TrialSpec(trial_id, dict(s.config), s.budget, origin=s.origin))
    assert opt.ask(specs) is None  # rung 0 is fully started: wait
    for spec in specs[:-1]:
        opt.tell(spec, TrialResult(spec.trial_id, Status.SUCCESS, (float(spec.config["i"]),)))
        assert opt.ask(specs[-1:]) is None  # still one pending
    opt.tell(specs[-1], TrialResult(8, Status.SUCCESS, (8.0,)))
    promoted = [opt.ask([]) for _ in range(3)]
    assert [(s.config["i"], s.parent, s.origin) for s in promoted] == [(0, 0, "promoted"), (1, 1, "promoted"),
                                                                      (2, 2, "promoted")]
    assert opt.ask([]) is None  # rung 1 running: wait again, even though the sampler has more


def test_a_new_bracket_starts_when_one_finishes(sim):
    run = sim(scheduler(n=12), lambda spec: float(spec.config["i"]))
    origins = [s.origin for _, s, _ in run.started]
    assert origins == ["list"] * 9 + ["promoted"] * 4 + ["list"] * 3 + ["promoted"] * 2
    assert [s.budget for _, s, _ in run.started][-2:] == pytest.approx([1 / 3, 1.0])


def test_n_configs_and_foreign_trials():
    cs = space()
    opt = SuccessiveHalving(cs, min_budget=1 / 9, n_configs=4, seed=0)
    assert [b.sizes for b in opt.brackets] == []
    opt.tell(TrialSpec(100, {"i": 7}, 1.0), TrialResult(100, Status.SUCCESS, (0.0,)))  # foreign: no rung
    s = opt.ask([])
    assert s.budget == pytest.approx(1 / 9) and opt.brackets[0].sizes == [4, 1, 1]
    assert opt.rung_table() == [] and opt.best() == ({"i": 7}, 0.0)
