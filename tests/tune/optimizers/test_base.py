"""The queue every optimizer shares: enqueued configurations first, a cost group killed at a limit dropped."""

from __future__ import annotations

import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Float

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.tune.optimizers import make_optimizer

QUEUE = [{"model": "svm", "x": 0.1}, {"model": "tree", "x": 0.2}, {"model": "svm", "x": 0.3},
         {"model": "knn", "x": 0.4}, {"model": "svm", "x": 0.5}]


def _svm_group(config):
    return "svm" if config["model"] == "svm" else None  # the trees and k-NN are in no group


def _after(status: Status, cost_group) -> list[tuple[str, float]]:
    """What the queue serves after its first configuration ends with ``status``."""
    space = ConfigurationSpace({"model": Categorical("model", ["svm", "tree", "knn"]), "x": Float("x", (0.0, 1.0))})
    optimizer = make_optimizer("random", space, seed=0, initial_design=QUEUE)
    optimizer.cost_group = cost_group
    first = optimizer.ask()
    optimizer.tell(TrialSpec(0, first.config), TrialResult(0, status, (1.0,) if status is Status.SUCCESS else ()))
    served = []
    while (suggestion := optimizer.ask()).origin == "initial":  # then the optimizer's own proposals
        served.append((suggestion.config["model"], round(suggestion.config["x"], 1)))
    return served


@pytest.mark.parametrize("status", [Status.TIMEOUT, Status.MEMOUT])
def test_a_group_killed_at_a_limit_leaves_the_queue(status):
    assert _after(status, _svm_group) == [("tree", 0.2), ("knn", 0.4)]


@pytest.mark.parametrize(("status", "cost_group"), [(Status.FAILED, _svm_group), (Status.SUCCESS, _svm_group),
                                                    (Status.TIMEOUT, None)])
def test_otherwise_the_queue_keeps_everything(status, cost_group):
    assert _after(status, cost_group) == [("tree", 0.2), ("svm", 0.3), ("knn", 0.4), ("svm", 0.5)]


def test_a_killed_configuration_outside_any_group_drops_nothing():
    optimizer = make_optimizer("random", ConfigurationSpace({"model": Categorical("model", ["svm", "tree"])}),
                               seed=0, initial_design=[{"model": "tree"}, {"model": "svm"}, {"model": "tree"}])
    optimizer.cost_group = _svm_group
    optimizer.tell(TrialSpec(0, optimizer.ask().config), TrialResult(0, Status.TIMEOUT, ()))
    assert [optimizer.ask().config["model"] for _ in range(2)] == ["svm", "tree"]
    assert optimizer.ask().origin == "random"
