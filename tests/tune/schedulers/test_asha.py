"""ASHA with simulated asynchronous workers: never idle, and every promotion follows the rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.tune.schedulers import ASHA, rungs


def space() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=0)
    cs.add(Float("x", (0.0, 1.0)))
    return cs


def expected_next(told: list[tuple[TrialSpec, TrialResult]], promoted: set[int], ladder: list[float], eta: int):
    """Li et al. 2020, Algorithm 2, recomputed from the outside: (parent trial, next rung) or None."""
    for k in range(len(ladder) - 2, -1, -1):
        rung = sorted(((r.loss, s.trial_id) for s, r in told if math.isclose(s.budget, ladder[k])))
        top = [(loss, tid) for loss, tid in rung[: len(rung) // eta] if math.isfinite(loss)]
        candidates = [tid for _, tid in top if tid not in promoted]
        if candidates:
            return candidates[0], k + 1
    return None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_async_workers_never_idle_and_promote_by_the_rule(sim, seed):
    ladder = rungs(1 / 27)
    opt = ASHA(space(), min_budget=1 / 27, eta=3, seed=seed)
    rng = np.random.default_rng(seed)
    checked = {"promotions": 0, "new": 0}

    def check(s, run):
        assert s is not None, "ASHA left a worker idle"
        promoted = {spec.parent for _, spec, _ in run.started if spec.parent is not None}
        expected = expected_next(run.told, promoted, ladder, 3)
        if expected is None:
            assert s.parent is None and s.budget == pytest.approx(ladder[0]) and s.origin != "promoted"
            checked["new"] += 1
        else:
            parent, rung = expected
            assert (s.parent, s.origin) == (parent, "promoted")
            assert s.budget == pytest.approx(ladder[rung])
            assert dict(s.config) == next(dict(spec.config) for _, spec, _ in run.started if spec.trial_id == parent)
            checked["promotions"] += 1

    def loss(spec):  # better x is better at every budget, with budget-dependent noise; 10% crash
        if rng.random() < 0.1:
            return None
        return spec.config["x"] + (1 - spec.budget) * 0.3 * rng.normal()

    run = sim(opt, loss, workers=2, n_trials=150, on_ask=check,
              duration=lambda spec: spec.budget * rng.exponential())  # random completion order
    assert len(run.started) == 150 and checked["promotions"] > 20
    assert any(math.isclose(s.budget, 1.0) for _, s, _ in run.started)
    parents = [s.parent for _, s, _ in run.started if s.parent is not None]
    assert len(parents) == len(set(parents)), "a trial was promoted twice"
    rows = {row["trial_id"]: row for row in opt.rung_table()}
    assert {tid for tid, row in rows.items() if row["promoted"]} == set(parents)


def test_foreign_trials_join_their_rung_and_get_promoted():
    opt = ASHA(space(), min_budget=1 / 9, seed=0)
    for i, x in enumerate([0.5, 0.1, 0.9]):
        spec = TrialSpec(100 + i, {"x": x}, 1 / 9)
        opt.tell(spec, TrialResult(100 + i, Status.SUCCESS, (x,)))
    s = opt.ask([])
    assert (s.parent, s.origin, dict(s.config)) == (101, "promoted", {"x": 0.1})
    assert s.budget == pytest.approx(1 / 3)
    assert opt.ask([]).parent is None  # the top third (one of three) is promoted: start a new one
