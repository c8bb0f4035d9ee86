"""The one search loop: ask → submit → collect → record → tell, until the budget is spent.

Used by ``Study.optimize`` and by the AutoML estimators alike; it never knows which optimizer,
scheduler, runner or storage it drives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from autolearn.execution import Completed, Runner
from autolearn.records import Limits, TrialSpec
from autolearn.storage import Storage
from autolearn.tune.budget import Budget
from autolearn.tune.optimizers import Optimizer

Callback = Callable[[Completed], None]


def trial_seed(base_seed: int | None, trial_id: int) -> int:
    """A distinct, reproducible seed per trial."""
    return ((base_seed or 0) * 1_000_003 + trial_id * 7919) % (2**31 - 1)


def run_search(
    *,
    optimizer: Optimizer,
    runner: Runner,
    objective: Callable[[TrialSpec], Any],
    storage: Storage,
    study: str,
    budget: Budget,
    limits: Limits,
    seed: int | None = None,
    callbacks: Iterable[Callback] = (),
    poll: float = 1.0,
) -> int:
    """Run trials until the budget is spent or the optimizer has nothing left; returns trials finished.

    Every trial is stored before it starts and its result as soon as it ends, so the run history is
    complete at any moment. Trials still running when time is up are cancelled and stored as such.
    """
    callbacks = list(callbacks)
    pending: dict[int, TrialSpec] = {}
    finished = 0
    counter = storage.n_trials(study)  # seeds continue, not repeat, when a study resumes
    if budget.time_budget is not None:
        optimizer.time_left = budget.remaining

    def record(done: Completed) -> None:
        nonlocal finished
        pending.pop(done.spec.trial_id, None)
        storage.set_result(study, done.result)
        optimizer.tell(done.spec, done.result)
        finished += 1
        for cb in callbacks:
            cb(done)

    exhausted = False
    while True:
        while not exhausted and runner.free_slots > 0 and budget.may_start():
            suggestion = optimizer.ask(list(pending.values()))
            if suggestion is None:
                exhausted = not pending  # nothing pending to wait for: the optimizer is done
                break
            trial_limits = budget.clip(limits)
            spec = storage.add_trial(study, suggestion, seed=trial_seed(seed, counter), limits=trial_limits)
            counter += 1
            budget.n_started += 1
            pending[spec.trial_id] = spec
            runner.submit(objective, spec)
        if not pending:
            break
        if budget.time_up():
            for done in runner.cancel_all():
                record(done)
            break
        for done in runner.wait(timeout=max(min(poll, budget.remaining()), 0.01)):
            record(done)
    return finished
