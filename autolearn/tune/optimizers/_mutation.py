"""Variation operators on mixed, conditional configurations: mutation, crossover, repair.

Evolution, NSGA-II, the policy-gradient controller and hypergradient descent all edit plain
configuration dicts (active hyperparameters only). Editing a parent choice changes which children
are active, so every operator ends in :meth:`ConfigOperators.repair`: walking the hyperparameters
parents-first, it keeps the values that are still active, samples the ones that just became active
and drops the ones that did not. That one walk is what keeps every offspring valid, so it lives here
once instead of in each optimizer.

Numeric hyperparameters are perturbed in ConfigSpace's normalized vector (the unit interval, on a
log scale where ``log=True``), so one step size means the same thing for a learning rate and a depth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from ConfigSpace.conditions import AndConjunction, Conjunction
from ConfigSpace.hyperparameters import (
    CategoricalHyperparameter,
    Constant,
    FloatHyperparameter,
    IntegerHyperparameter,
    OrdinalHyperparameter,
)

from autolearn.tune import space as spaces

__all__ = ["ConfigOperators", "SeenKeys", "continuous_names", "first_new", "from_unit",
           "is_numeric", "natural_span", "reflect", "to_unit"]

Config = dict[str, Any]


def is_numeric(hp: Any) -> bool:
    """Float or integer hyperparameters with more than one value: what can move in the unit interval."""
    return isinstance(hp, (FloatHyperparameter, IntegerHyperparameter)) and hp.lower < hp.upper


def natural_span(hp: Any) -> float:
    """d(natural coordinate) / d(unit coordinate): the range, or the log-range on a log scale.

    The natural coordinate is the value itself, or its natural logarithm where ``log=True``; it
    converts gradients reported per value into gradients in the normalized vector.
    """
    if hp.log:
        return math.log(hp.upper) - math.log(hp.lower)
    return float(hp.upper - hp.lower)


def to_unit(hp: Any, value: Any) -> float:
    return float(hp.to_vector(value))


def from_unit(hp: Any, u: float) -> Any:
    """The value at ``u`` in [0, 1] (integers rounded by ConfigSpace), as a plain Python number."""
    return spaces.plain(hp.to_value(np.float64(min(max(u, 0.0), 1.0))))


def _condition_holds(cond: Any, values: Mapping[str, Any]) -> bool:
    """ConfigSpace raises KeyError for an absent parent; an absent (inactive) parent fails the condition."""
    if isinstance(cond, Conjunction):
        parts = (_condition_holds(c, values) for c in cond.components)
        return all(parts) if isinstance(cond, AndConjunction) else any(parts)
    if cond.parent.name not in values:
        return False
    return bool(cond.satisfied_by_value(values))


def continuous_names(space: ConfigurationSpace, who: str) -> list[str]:
    """Names of the numeric hyperparameters of an unconditional numeric space, else a ValueError.

    Methods that move a real vector (CMA-ES) cannot place a categorical choice or a branch; the error
    names the hyperparameters so the user sees what to change.
    """
    bad = [
        name for name, hp in space.items()
        if space.parent_conditions_of[name] or not (is_numeric(hp) or isinstance(hp, Constant))
    ]
    if bad:
        raise ValueError(
            f"{who} needs a continuous space; use 'tpe' or 'evolution' (categorical or conditional"
            f" hyperparameters: {', '.join(sorted(bad))})"
        )
    names = [name for name, hp in space.items() if is_numeric(hp)]
    if not names:
        raise ValueError(f"{who} needs at least one float or integer hyperparameter with a range")
    return names


class ConfigOperators:
    """Mutation, crossover and repair bound to one space (its parents-first order is computed once)."""

    def __init__(self, space: ConfigurationSpace) -> None:
        self.space = space
        self.hps = dict(space.items())
        self.conditions = {name: list(space.parent_conditions_of[name]) for name in self.hps}
        self.order = self._parents_first()
        self.has_forbidden = bool(space.forbidden_clauses)

    def _parents_first(self) -> list[str]:
        order: list[str] = []
        placed: set[str] = set()
        remaining = list(self.hps)
        while remaining:
            ready = [n for n in remaining if all(p.name in placed for p in self.space.parents_of[n])]
            if not ready:  # ConfigSpace forbids cycles; keep its order rather than loop forever
                ready = remaining
            order += ready
            placed.update(ready)
            remaining = [n for n in remaining if n not in placed]
        return order

    # -- single hyperparameters ------------------------------------------------------------------
    def active(self, name: str, values: Mapping[str, Any]) -> bool:
        return all(_condition_holds(c, values) for c in self.conditions[name])

    def mutable(self, name: str) -> bool:
        hp = self.hps[name]
        if isinstance(hp, CategoricalHyperparameter):
            return len(hp.choices) > 1
        if isinstance(hp, OrdinalHyperparameter):
            return len(hp.sequence) > 1
        return is_numeric(hp)

    def sample_value(self, name: str, rng: np.random.Generator) -> Any:
        """A draw from the hyperparameter's own distribution (weights and priors included)."""
        state = np.random.RandomState(int(rng.integers(2**31 - 1)))
        return spaces.plain(self.hps[name].sample_value(seed=state))

    def legal(self, name: str, value: Any) -> bool:
        try:
            return bool(self.hps[name].legal_value(value))
        except (TypeError, ValueError):
            return False

    def perturb(self, name: str, value: Any, rng: np.random.Generator, scale: float = 0.15,
                resample_prob: float = 0.1) -> Any:
        """A different value near ``value``: a Gaussian step in the unit interval for numbers (an
        occasional uniform redraw keeps long jumps possible), another choice for categoricals."""
        hp = self.hps[name]
        if isinstance(hp, CategoricalHyperparameter):
            others = [c for c in hp.choices if c != value]
            return spaces.plain(others[int(rng.integers(len(others)))])
        if isinstance(hp, OrdinalHyperparameter):
            i = list(hp.sequence).index(value)
            steps = [j for j in (i - 1, i + 1) if 0 <= j < len(hp.sequence)]
            if rng.random() < resample_prob:
                steps = [j for j in range(len(hp.sequence)) if j != i]
            return spaces.plain(hp.sequence[steps[int(rng.integers(len(steps)))]])
        u = to_unit(hp, value)
        step = rng.normal(0.0, scale)
        new_u = rng.random() if rng.random() < resample_prob else reflect(u + step)
        new = from_unit(hp, new_u)
        if new == value and isinstance(hp, IntegerHyperparameter):  # a small step rounded back: move one
            direction = 1 if (step > 0 and value < hp.upper) or value == hp.lower else -1
            new = int(value) + direction
        return new

    # -- whole configurations -------------------------------------------------------------------
    def repair(self, values: Mapping[str, Any], rng: np.random.Generator, fill: str = "sample") -> Config:
        """Keep legal values of active hyperparameters, drop inactive ones, fill newly active ones
        (``fill="sample"`` draws them, ``"default"`` takes the space's defaults)."""
        out: Config = {}
        for name in self.order:
            if not self.active(name, out):
                continue
            value = values.get(name)
            if name not in values or not self.legal(name, value):
                value = self.sample_value(name, rng) if fill == "sample" else spaces.plain(self.hps[name].default_value)
            out[name] = value
        return out

    def valid(self, config: Mapping[str, Any]) -> bool:
        """Forbidden clauses are the only thing :meth:`repair` cannot guarantee; check them when present."""
        if not self.has_forbidden:
            return True
        try:
            spaces.to_configuration(self.space, config)
        except ValueError:
            return False
        return True

    def mutate(self, config: Mapping[str, Any], rng: np.random.Generator, *, n_changes: int = 1,
               rate: float | None = None, scale: float = 0.15, resample_prob: float = 0.1) -> Config:
        """Change ``n_changes`` active hyperparameters (or each with probability ``rate``, at least
        one), then repair: a changed parent choice activates its children with sampled values."""
        names = [n for n in self.order if n in config and self.mutable(n)]
        if not names:
            return dict(config)
        if rate is not None:
            chosen = [n for n in names if rng.random() < rate] or [names[int(rng.integers(len(names)))]]
        else:
            idx = rng.choice(len(names), size=min(max(n_changes, 1), len(names)), replace=False)
            chosen = [names[i] for i in sorted(idx)]
        child = dict(config)
        for name in chosen:
            child[name] = self.perturb(name, config[name], rng, scale, resample_prob)
        return self.repair(child, rng)

    def crossover(self, a: Mapping[str, Any], b: Mapping[str, Any], rng: np.random.Generator, *,
                  numeric: str = "uniform", eta: float = 15.0) -> Config:
        """Uniform crossover parents-first: each active hyperparameter comes from either parent (from
        the one that has it when only one does), so children stay consistent with the chosen branch.
        ``numeric="sbx"`` blends numbers both parents share by simulated binary crossover."""
        child: Config = {}
        for name in self.order:
            if not self.active(name, child):
                continue
            has = [p[name] for p in (a, b) if name in p]
            if not has:
                child[name] = self.sample_value(name, rng)
            elif len(has) == 2 and numeric == "sbx" and is_numeric(self.hps[name]):
                child[name] = self._sbx(name, has[0], has[1], rng, eta)
            else:
                child[name] = has[int(rng.integers(len(has)))]
        return child

    def _sbx(self, name: str, x: Any, y: Any, rng: np.random.Generator, eta: float) -> Any:
        hp = self.hps[name]
        u1, u2 = to_unit(hp, x), to_unit(hp, y)
        r = rng.random()
        beta = (2 * r) ** (1 / (eta + 1)) if r <= 0.5 else (1 / (2 * (1 - r))) ** (1 / (eta + 1))
        if rng.random() < 0.5:  # which of SBX's two children
            u1, u2 = u2, u1
        return from_unit(hp, reflect(0.5 * ((1 + beta) * u1 + (1 - beta) * u2)))


def reflect(u: float) -> float:
    """Fold a step that left [0, 1] back inside (clipping would pile samples on the bounds)."""
    u = abs(u) % 2.0
    return 2.0 - u if u > 1.0 else u


class SeenKeys:
    """Keys of every told and every pending configuration: what a new proposal must differ from.

    The history only grows, so its keys are cached and each ask pays only for new and pending trials.
    """

    def __init__(self) -> None:
        self._told: set[str] = set()
        self._n = 0

    def __call__(self, history: Sequence[tuple[Any, Any]], pending: Sequence[Any]) -> set[str]:
        for spec, _ in history[self._n:]:
            self._told.add(spaces.config_key(spec.config))
        self._n = len(history)
        return self._told | {spaces.config_key(spec.config) for spec in pending}


def first_new(make: Callable[[], Config], seen: set[str], fallback: Callable[[], Config], tries: int = 20,
              valid: Callable[[Config], bool] | None = None) -> Config:
    """``make()`` until it gives an unseen (and ``valid``) configuration; ``fallback()`` (random,
    always valid) after ``tries``."""
    for _ in range(tries):
        config = make()
        if spaces.config_key(config) not in seen and (valid is None or valid(config)):
            return config
    for _ in range(tries):
        config = fallback()
        if spaces.config_key(config) not in seen:
            return config
    return config  # a tiny space with everything seen: a repeat is better than no proposal
