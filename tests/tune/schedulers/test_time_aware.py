"""With a shrinking ``time_left`` and slow measured trials, no rung starts that cannot finish."""

from __future__ import annotations

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.tune.schedulers import SCHEDULERS, Hyperband, SuccessiveHalving


def space() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=0)
    cs.add(Float("x", (0.0, 1.0)))
    return cs


def slow(spec: TrialSpec) -> float:
    return 1.0 + 100.0 * spec.budget  # seconds: an overhead plus linear in the budget


def test_expected_duration_is_measured_then_scaled():
    opt = SuccessiveHalving(space(), min_budget=1 / 27)
    assert opt.expected_duration(1 / 3) is None  # nothing measured: unknown, not assumed
    for i, d in enumerate([2.0, 4.0]):
        opt.tell(TrialSpec(i, {"x": 0.5}, 1 / 9), TrialResult(i, Status.SUCCESS, (0.0,), duration=d))
    assert opt.expected_duration(1 / 9) == pytest.approx(3.0)  # the mean at that budget
    assert opt.expected_duration(1.0) == pytest.approx(27.0)  # scaled up from the nearest budget below
    assert opt.expected_duration(1 / 27) == pytest.approx(1.0)  # or down from above when none is below
    opt.tell(TrialSpec(5, {"x": 0.5}, 1 / 3), TrialResult(5, Status.SUCCESS, (0.0,), duration=5.0))
    assert opt.expected_duration(1.0) == pytest.approx(15.0)
    opt.tell(TrialSpec(6, {"x": 0.5}, 1.0), TrialResult(6, Status.CANCELLED, (), duration=0.5))
    assert opt.expected_duration(1.0) == pytest.approx(15.0)  # a cancelled trial says nothing


@pytest.mark.parametrize("name", list(SCHEDULERS))
@pytest.mark.parametrize("deadline", [150.0, 500.0, 900.0, 2000.0])
@pytest.mark.parametrize("workers", [1, 3])
def test_no_trial_is_started_that_cannot_finish(sim, make_clock, name, deadline, workers):
    clock = make_clock(deadline)
    opt = SCHEDULERS[name](space(), min_budget=1 / 27, seed=0, time_left=clock.left)
    rng = np.random.default_rng(0)
    run = sim(opt, lambda spec: float(spec.config["x"] + rng.normal(0, 0.1)), workers=workers,
              duration=slow, clock=clock)
    first_told = min(start + d for start, _, d in run.started)  # before that, no cost is known
    late = [(start, spec, d) for start, spec, d in run.started if start >= first_told]
    assert late, "the scheduler gave up although durations were known"
    for start, spec, d in late:
        assert start + d <= deadline + 1e-6, f"trial {spec.trial_id} at budget {spec.budget:.3f} overran"
    assert run.asks[-1] is None  # it stopped on its own, not because the clock ran out
    assert run.clock <= deadline


def test_synchronous_rungs_are_started_only_when_they_fit(sim, make_clock):
    """Each rung of successive halving is told in full; none is left half-run at the deadline."""
    for deadline in (200.0, 300.0, 400.0):
        now = make_clock(deadline)
        opt = SuccessiveHalving(space(), min_budget=1 / 27, seed=0, time_left=now.left)
        sim(opt, lambda spec: spec.config["x"], duration=slow, clock=now)
        sizes = {}
        for row in opt.rung_table():
            sizes[(row["bracket"], row["rung"])] = sizes.get((row["bracket"], row["rung"]), 0) + 1
        for (bracket, rung), n in sizes.items():
            assert n == opt.brackets[bracket].sizes[rung - opt.brackets[bracket].first_rung]


def test_hyperband_skips_a_wide_bracket_it_cannot_finish(sim, make_clock):
    # with 1 + 100 * budget seconds a trial, the R=27 brackets take about 440, 384, 408 and 404 s
    clock = make_clock(1640.0 + 420.0)  # after one cycle, 420 s: bracket s=3 (440 s) no longer fits
    opt = Hyperband(space(), min_budget=1 / 27, seed=0, time_left=clock.left)
    sim(opt, lambda spec: spec.config["x"], duration=slow, clock=clock)
    assert [b.first_rung for b in opt.brackets] == [0, 1, 2, 3, 1]  # s = 3, 2, 1, 0, then 2 instead of 3
    assert all(not b.done or b.level == len(b.sizes) - 1 for b in opt.brackets)  # every bracket ran to the top


def test_asha_max_budget_aware_stops_starting_what_cannot_reach_full_budget(sim, make_clock):
    clock = make_clock(600.0)
    opt = SCHEDULERS["asha"](space(), min_budget=1 / 27, seed=0, time_left=clock.left, max_budget_aware=True)
    run = sim(opt, lambda spec: spec.config["x"], duration=slow, clock=clock)
    ladder_seconds = sum(slow(TrialSpec(0, {}, b)) for b in opt.budgets)
    for start, spec, _ in run.started:
        if spec.parent is None and start > 0:
            assert clock.deadline - start >= ladder_seconds - 1e-6


def test_asha_without_max_budget_awareness_keeps_starting_new_configurations(sim, make_clock):
    clock = make_clock(600.0)
    opt = SCHEDULERS["asha"](space(), min_budget=1 / 27, seed=0, time_left=clock.left)
    run = sim(opt, lambda spec: spec.config["x"], duration=slow, clock=clock)
    ladder_seconds = sum(slow(TrialSpec(0, {}, b)) for b in opt.budgets)
    assert any(clock.deadline - start < ladder_seconds for start, spec, _ in run.started if spec.parent is None)
