"""One adapter per optimizer family, all with the same ``run(task, seed, n_evals)``.

Each adapter returns one ``(loss, overhead_seconds)`` per evaluation, where the overhead is the time
the optimizer itself took to propose the configuration and digest the result (ask + tell, including
Optuna's define-by-run ``suggest_*`` calls), never the objective. Why one interface: the benchmark loop,
the results file and the report are then the same for every optimizer, and a difference in the
numbers can only come from the optimizers.

Hyperopt has no ask/tell API, so its overhead is the gap between the end of one objective call and
the start of the next inside ``fmin`` (its suggest plus its bookkeeping).
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from ConfigSpace.hyperparameters import CategoricalHyperparameter, IntegerHyperparameter

from benchmarks.hpo.functions import Task

Result = list[tuple[float, float]]
# Optimizers of ours run by default; grid (a 100-point grid in 6-10 dims is ~2 values per axis),
# nsga2 and parego (multi-objective by design) are accepted by name but not in the default set.
OURS_DEFAULT = ("tpe", "rf", "gp", "random", "sobol", "evolution", "cmaes", "rl", "hypergradient")
PEERS = ("optuna_tpe", "optuna_gp", "smac_hpo", "hyperopt_tpe")


@dataclass(frozen=True)
class Adapter:
    """An optimizer as the benchmark sees it: whether it can run a task, and the run itself."""

    name: str
    run: Callable[[Task, int, int], Result]
    family: str  # "autolearn" or the peer library
    needs: str = ""  # module that must import, for a "not installed" record instead of a crash
    continuous_only: bool = False

    def unavailable(self) -> str | None:
        """Why this adapter cannot run here at all (a missing library), or None."""
        if not self.needs:
            return None
        try:
            __import__(self.needs)
        except Exception as exc:  # ImportError, or a broken binary dependency
            return f"not installed: {type(exc).__name__}: {exc}"
        return None

    def skip_reason(self, task: Task) -> str | None:
        if self.continuous_only and not task.continuous:
            return "not applicable: categorical or conditional hyperparameters"
        return None


# -- autolearn --------------------------------------------------------------------------------------
def _autolearn(name: str) -> Callable[[Task, int, int], Result]:
    def run(task: Task, seed: int, n_evals: int) -> Result:
        from autolearn.tune import create_study

        study = create_study(task.space, optimizer=name, seed=seed)
        out: Result = []
        for _ in range(n_evals):
            t0 = time.perf_counter()
            trial = study.ask()
            asked = time.perf_counter() - t0
            loss = float(task.objective(trial.config))
            t0 = time.perf_counter()
            study.tell(trial, loss)
            out.append((loss, asked + time.perf_counter() - t0))
        return out

    return run


# -- conditional spaces for define-by-run libraries -------------------------------------------------
def is_active(space: ConfigurationSpace, name: str, values: Mapping[str, Any]) -> bool:
    """Whether ``name`` is active given the values of the hyperparameters decided so far."""
    for cond in space.parent_conditions_of[name]:
        try:
            if not cond.satisfied_by_value(values):
                return False
        except KeyError:  # a parent that is itself inactive (absent) never activates its children
            return False
    return True


def optuna_config(trial: Any, space: ConfigurationSpace) -> dict[str, Any]:
    """Suggest every active hyperparameter, parents first (ConfigSpace keeps a topological order)."""
    values: dict[str, Any] = {}
    for hp in space.values():
        if not is_active(space, hp.name, values):
            continue
        if isinstance(hp, CategoricalHyperparameter):
            values[hp.name] = trial.suggest_categorical(hp.name, list(hp.choices))
        elif isinstance(hp, IntegerHyperparameter):
            values[hp.name] = trial.suggest_int(hp.name, int(hp.lower), int(hp.upper), log=bool(hp.log))
        else:
            values[hp.name] = trial.suggest_float(hp.name, float(hp.lower), float(hp.upper), log=bool(hp.log))
    return values


def _optuna(kind: str) -> Callable[[Task, int, int], Result]:
    def run(task: Task, seed: int, n_evals: int) -> Result:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message=".*independent sampl.*")
        if kind == "tpe":
            sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
        else:
            # GPSampler has no conditional model: parameters outside the always-active set are sampled at
            # random (Optuna warns on every trial; the report notes it instead)
            sampler = optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)
        study = optuna.create_study(sampler=sampler)
        out: Result = []
        for _ in range(n_evals):
            t0 = time.perf_counter()
            trial = study.ask()
            config = optuna_config(trial, task.space)  # Optuna samples lazily, inside suggest_*
            asked = time.perf_counter() - t0
            loss = float(task.objective(config))
            t0 = time.perf_counter()
            study.tell(trial, loss)
            out.append((loss, asked + time.perf_counter() - t0))
        return out

    return run


# -- Hyperopt ---------------------------------------------------------------------------------------
def hyperopt_space(space: ConfigurationSpace) -> dict[str, Any]:
    """A nested Hyperopt space: a categorical with children becomes ``hp.choice`` over dicts holding the
    chosen value and the children active for it (conditions must be on categorical parents)."""
    from hyperopt import hp

    def node(h: Any, label: str) -> Any:
        if isinstance(h, CategoricalHyperparameter):
            children = space.children_of[h.name]
            if not children:
                return hp.choice(label, list(h.choices))
            branches = []
            for value in h.choices:
                branch: dict[str, Any] = {"__value__": value}
                for child in children:
                    if all(c.satisfied_by_value({h.name: value}) for c in space.parent_conditions_of[child.name]):
                        branch[child.name] = node(child, f"{child.name}|{h.name}={value}")
                branches.append(branch)
            return hp.choice(label, branches)
        if space.children_of[h.name]:
            raise NotImplementedError(f"conditions on a numeric parent ({h.name}) have no Hyperopt form here")
        lo, hi = float(h.lower), float(h.upper)
        if isinstance(h, IntegerHyperparameter):
            if h.log:
                return hp.qloguniform(label, math.log(lo - 0.5 if lo > 0.5 else lo), math.log(hi + 0.5), 1)
            return hp.quniform(label, lo - 0.5, hi + 0.5, 1)  # equal mass for the end points
        return hp.loguniform(label, math.log(lo), math.log(hi)) if h.log else hp.uniform(label, lo, hi)

    return {h.name: node(h, h.name) for h in space.values() if not space.parent_conditions_of[h.name]}


def flatten_hyperopt(sample: Mapping[str, Any], space: ConfigurationSpace) -> dict[str, Any]:
    """Hyperopt's nested sample as a flat configuration with ConfigSpace's types and bounds."""
    out: dict[str, Any] = {}
    for name, value in sample.items():
        if isinstance(value, Mapping):
            out[name] = value["__value__"]
            out.update(flatten_hyperopt({k: v for k, v in value.items() if k != "__value__"}, space))
        elif isinstance(space[name], IntegerHyperparameter):
            out[name] = int(np.clip(round(float(value)), space[name].lower, space[name].upper))
        elif isinstance(space[name], CategoricalHyperparameter):
            out[name] = value
        else:
            out[name] = float(value)
    return out


def _hyperopt(task: Task, seed: int, n_evals: int) -> Result:
    from hyperopt import STATUS_OK, Trials, fmin, tpe

    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    marks: list[tuple[float, float, float]] = []

    def objective(sample: Mapping[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        loss = float(task.objective(flatten_hyperopt(sample, task.space)))
        marks.append((start, time.perf_counter(), loss))
        return {"loss": loss, "status": STATUS_OK}

    t0 = time.perf_counter()
    fmin(objective, hyperopt_space(task.space), algo=tpe.suggest, max_evals=n_evals, trials=Trials(),
         rstate=np.random.default_rng(seed), show_progressbar=False)
    ends = [t0] + [end for _, end, _ in marks[:-1]]
    return [(loss, start - prev) for (start, _, loss), prev in zip(marks, ends)]


# -- SMAC3 ------------------------------------------------------------------------------------------
def _smac(task: Task, seed: int, n_evals: int) -> Result:
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    def unused(config: Any, seed: int = 0) -> float:  # the facade wants one; ask/tell never calls it
        raise RuntimeError("SMAC is driven by ask/tell here")

    with tempfile.TemporaryDirectory(prefix="smac-") as tmp:
        scenario = Scenario(task.space, deterministic=True, n_trials=n_evals, seed=seed, output_directory=tmp)
        smac = HyperparameterOptimizationFacade(scenario, unused, overwrite=True, logging_level=40)
        out: Result = []
        for _ in range(n_evals):
            t0 = time.perf_counter()
            info = smac.ask()
            asked = time.perf_counter() - t0
            loss = float(task.objective(dict(info.config)))
            t0 = time.perf_counter()
            smac.tell(info, TrialValue(cost=loss))
            out.append((loss, asked + time.perf_counter() - t0))
    return out


def adapters() -> dict[str, Adapter]:
    """Every optimizer the benchmark can run, by the name used in results files."""
    from autolearn.tune import OPTIMIZERS

    found = {name: Adapter(name, _autolearn(name), "autolearn", continuous_only=name == "cmaes")
             for name in OPTIMIZERS}
    found["optuna_tpe"] = Adapter("optuna_tpe", _optuna("tpe"), "optuna", needs="optuna")
    found["optuna_gp"] = Adapter("optuna_gp", _optuna("gp"), "optuna", needs="optuna.samplers._gp.sampler")
    found["smac_hpo"] = Adapter("smac_hpo", _smac, "smac", needs="smac")
    found["hyperopt_tpe"] = Adapter("hyperopt_tpe", _hyperopt, "hyperopt", needs="hyperopt")
    return found


def run(optimizer: str, task: Task, seed: int, n_evals: int) -> Result:
    """Run ``optimizer`` (a name from :func:`adapters`) on ``task``: [(loss, overhead seconds)] per evaluation."""
    return adapters()[optimizer].run(task, seed, n_evals)
