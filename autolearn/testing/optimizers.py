"""Checks every optimizer and scheduler must pass (run from tests/tune/test_conformance.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, InCondition, Integer

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer


def conditional_space(seed: int = 0) -> ConfigurationSpace:
    """A small CASH-like space: a top-level choice with conditional children of every type."""
    cs = ConfigurationSpace(seed=seed)
    model = Categorical("model", ["linear", "tree", "knn"], default="linear")
    c = Float("linear:C", (1e-4, 1e4), log=True, default=1.0)
    pen = Categorical("linear:penalty", ["l1", "l2"], default="l2")
    depth = Integer("tree:depth", (1, 32), log=True, default=8)
    leaf = Float("tree:min_leaf", (0.0, 0.5), default=0.0)
    k = Integer("knn:k", (1, 50), default=5)
    w = Categorical("knn:weights", ["uniform", "distance"], default="uniform")
    x = Float("x", (-5.0, 5.0), default=0.0)
    cs.add([model, c, pen, depth, leaf, k, w, x])
    cs.add([EqualsCondition(c, model, "linear"), EqualsCondition(pen, model, "linear"),
            EqualsCondition(depth, model, "tree"), EqualsCondition(leaf, model, "tree"),
            InCondition(k, model, ["knn"]), EqualsCondition(w, model, "knn")])
    return cs


def conditional_objective(config: dict[str, Any]) -> float:
    """Best in the 'tree' branch near depth 6, min_leaf 0.1 and x = 1."""
    base = (config["x"] - 1.0) ** 2
    if config["model"] == "linear":
        return 3.0 + base + 0.1 * abs(np.log10(config["linear:C"]))
    if config["model"] == "tree":
        return base + (np.log2(config["tree:depth"]) - np.log2(6)) ** 2 + 4 * (config["tree:min_leaf"] - 0.1) ** 2
    return 2.0 + base + 0.01 * config["knn:k"]


def run(optimizer: Optimizer, objective: Callable[[dict], float | tuple], n_trials: int,
        batch: int = 1) -> list[tuple[TrialSpec, TrialResult]]:
    """Drive ``optimizer`` for ``n_trials`` with ``batch`` trials pending at a time (no processes)."""
    done: list[tuple[TrialSpec, TrialResult]] = []
    next_id = 0
    while next_id < n_trials:
        pending: list[TrialSpec] = []
        for _ in range(min(batch, n_trials - next_id)):
            s = optimizer.ask(pending)
            if s is None:
                break
            pending.append(TrialSpec(next_id, dict(s.config), s.budget, s.instance, 0, origin=s.origin, parent=s.parent))
            next_id += 1
        if not pending:
            break
        for spec in pending:
            value = objective(dict(spec.config))
            values = value if isinstance(value, tuple) else (value,)
            result = TrialResult(spec.trial_id, Status.SUCCESS, tuple(float(v) for v in values))
            optimizer.tell(spec, result)
            done.append((spec, result))
    return done


def check_optimizer(factory: Callable[..., Optimizer], n_trials: int = 30) -> None:
    """Raise AssertionError where ``factory(space, seed=...)`` breaks the optimizer contract."""
    space = conditional_space()
    # 1. every suggestion is a valid configuration, also with several trials pending
    opt = factory(space, seed=1)
    history = run(opt, conditional_objective, n_trials, batch=3)
    assert history, "optimizer proposed nothing"
    for spec, _ in history:
        spaces.to_configuration(space, spec.config)  # raises on an invalid or inactive-but-set value
        assert 0 < spec.budget <= 1.0, f"budget {spec.budget} outside (0, 1]"
    # 2. the same seed gives the same suggestions
    again = run(factory(conditional_space(), seed=1), conditional_objective, n_trials, batch=3)
    assert [spaces.config_key(s.config) for s, _ in history] == [spaces.config_key(s.config) for s, _ in again], \
        "same seed, different suggestions"
    # 3. foreign trials and failures are accepted
    opt = factory(conditional_space(), seed=2)
    foreign = spaces.sample(space, 5, np.random.default_rng(0))
    for i, config in enumerate(foreign):
        status = Status.SUCCESS if i % 2 == 0 else Status.CRASHED
        values = (conditional_objective(config),) if status is Status.SUCCESS else ()
        opt.tell(TrialSpec(1000 + i, config), TrialResult(1000 + i, status, values))
    run(opt, conditional_objective, 10)
