"""Every scheduler passes the optimizer contract and is reachable by name."""

import pytest
from ConfigSpace import ConfigurationSpace

from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune.optimizers import Optimizer
from autolearn.tune.optimizers.random_search import RandomSearch
from autolearn.tune.schedulers import SCHEDULERS, Scheduler, make_scheduler
from autolearn.tune.space import default_config


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_contract(name):
    check_optimizer(SCHEDULERS[name])


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_contract_with_other_rungs(name):
    check_optimizer(lambda space, seed: make_scheduler(name, space, seed=seed, min_budget=1 / 4, eta=2), n_trials=40)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_make_scheduler(name):
    opt = make_scheduler(name, {"lr": ("float", 1e-4, 1e-1, "log"), "kind": ["a", "b"]}, seed=0, min_budget=1 / 9)
    assert isinstance(opt, Scheduler) and isinstance(opt, Optimizer) and opt.name == name
    assert opt.budgets == pytest.approx([1 / 9, 1 / 3, 1.0]) and opt.eta == 3
    s = opt.ask([])
    assert s.budget == pytest.approx(1 / 9) and s.config == {"lr": pytest.approx(s.config["lr"]), "kind": s.config["kind"]}


def test_unknown_scheduler():
    with pytest.raises(ValueError, match="unknown scheduler"):
        make_scheduler("pbt", {"x": ("float", 0.0, 1.0)})


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_sampler_proposes_and_is_told_everything(name):
    space = conditional_space()
    sampler = RandomSearch(space, seed=5, default_first=False)
    opt = make_scheduler(name, space, sampler=sampler, seed=5)
    history = run(opt, conditional_objective, 40, batch=2)
    assert len(sampler.history) == len(history)  # promotions and all: the sampler may learn from them
    assert opt.sampler is sampler


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_initial_design_starts_at_the_lowest_rung(name):
    space: ConfigurationSpace = conditional_space()
    first = {"model": "knn", "knn:k": 3, "knn:weights": "distance", "x": 2.0}
    opt = make_scheduler(name, space, seed=0, initial_design=[first])
    asked = [opt.ask([]) for _ in range(2)]  # the default sampler evaluates the space's default first
    assert [s.config for s in asked] == [default_config(space), first]
    assert all(s.budget == pytest.approx(opt.budgets[0]) for s in asked)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_rung_table_rows(name):
    opt = make_scheduler(name, conditional_space(), seed=0, min_budget=1 / 9)
    history = run(opt, conditional_objective, 30, batch=3)
    rows = opt.rung_table()
    assert len(rows) == len(history)
    assert set(rows[0]) >= {"trial_id", "key", "budget", "loss", "promoted"}
    assert all(row["budget"] == pytest.approx(opt.budgets[row["rung"]]) for row in rows)
    full = opt.full_budget_results()
    assert all(s.budget == pytest.approx(1.0) for s, _ in full)
    if full:
        assert opt.best()[1] == min(r.loss for _, r in full)
