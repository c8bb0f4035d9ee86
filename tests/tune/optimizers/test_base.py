"""The queue every optimizer shares: enqueued configurations first, a family killed at a limit deferred."""

from __future__ import annotations

import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Float

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.tune.optimizers import make_optimizer


def _space() -> ConfigurationSpace:
    return ConfigurationSpace({"model": Categorical("model", ["svm", "tree", "knn"]), "x": Float("x", (0.0, 1.0))})


QUEUE = [{"model": "svm", "x": 0.1}, {"model": "tree", "x": 0.2}, {"model": "svm", "x": 0.3},
         {"model": "knn", "x": 0.4}, {"model": "svm", "x": 0.5}]


def _after(status: Status, family: str | None) -> list[tuple[str, float]]:
    """The queue's order after the first suggestion ends with ``status``."""
    optimizer = make_optimizer("random", _space(), seed=0, initial_design=QUEUE)
    optimizer.family = family
    first = optimizer.ask()
    values = (1.0,) if status is Status.SUCCESS else ()
    optimizer.tell(TrialSpec(0, first.config), TrialResult(0, status, values))
    return [(s.config["model"], round(s.config["x"], 1)) for s in (optimizer.ask() for _ in QUEUE[1:])]


@pytest.mark.parametrize("status", [Status.TIMEOUT, Status.MEMOUT])
def test_a_family_killed_at_a_limit_goes_behind_the_rest_of_the_queue(status):
    assert _after(status, "model") == [("tree", 0.2), ("knn", 0.4), ("svm", 0.3), ("svm", 0.5)]


@pytest.mark.parametrize(("status", "family"), [(Status.FAILED, "model"), (Status.SUCCESS, "model"),
                                                (Status.TIMEOUT, None), (Status.TIMEOUT, "no_such")])
def test_otherwise_the_queue_keeps_its_order(status, family):
    assert _after(status, family) == [("tree", 0.2), ("svm", 0.3), ("knn", 0.4), ("svm", 0.5)]
