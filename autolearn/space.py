"""The CASH search space: which model, which preprocessing, and every hyperparameter of the chosen ones.

One ConfigSpace space per task, built from the component registry. Top-level categoricals name the
component of each kind (``"model"``, ``"imputer"``, ``"encoder"``, ``"scaler"``, ``"feature"``); each
component's hyperparameters appear as ``"{component}:{hyperparameter}"`` and are active only while that
component is chosen, so optimizers see one flat, conditional space.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace, EqualsCondition, InCondition
from ConfigSpace.hyperparameters import (
    CategoricalHyperparameter,
    Constant,
    Hyperparameter,
    OrdinalHyperparameter,
    UniformFloatHyperparameter,
    UniformIntegerHyperparameter,
)

from autolearn.components import KINDS, TASKS, Component, components
from autolearn.data.schema import Schema

SEP = ":"

# The default configuration is evaluated first, so each kind defaults to a strong, fast choice.
PREFERRED_DEFAULTS = {
    "model": ("lightgbm", "hist_gradient_boosting", "random_forest", "extra_trees", "logistic_regression", "ridge"),
    "imputer": ("median", "mean"),
    "encoder": ("one_hot", "ordinal", "target"),
    "scaler": ("no_scaling", "standard"),
    "feature": ("all_features",),
}
_DENSIFYING = {"pca", "quantile"}  # steps that do nothing on sparse input (see DenseOrSparse)


def build_space(
    task: str,
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    schema: Schema | None = None,
    seed: int | None = None,
    sparse: bool = False,
) -> ConfigurationSpace:
    """The conditional space of pipelines for ``task``.

    ``include`` restricts each kind that has an included name to the included names (other kinds keep
    all their components); ``exclude`` removes names. Both take component names of any kind and raise
    ValueError on names that are unknown or not available for ``task``. The ``"encoder"`` choice
    exists only when ``schema`` is None or has categorical columns. ``sparse=True`` leaves out models
    that would need densified input and preprocessing that is a no-op on sparse input.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    include_set, exclude_set = set(include or ()), set(exclude or ())
    _check_names(include_set | exclude_set, task)

    kinds = [k for k in KINDS if k != "encoder" or schema is None or schema.of("categorical")]
    hyperparameters: list[Hyperparameter] = []
    conditions: list = []
    for kind in kinds:
        chosen = _choices(kind, task, include_set, exclude_set, sparse)
        names = [c.name for c in chosen]
        default = next((n for n in PREFERRED_DEFAULTS[kind] if n in names), names[0])
        top = CategoricalHyperparameter(kind, names, default_value=default)
        hyperparameters.append(top)
        for comp in chosen:
            hps, conds = _component_part(top, comp, task)
            hyperparameters += hps
            conditions += conds
    cs = ConfigurationSpace(seed=seed)
    cs.add(hyperparameters + conditions)  # one add: ConfigSpace re-checks the whole space on each call
    return cs


def config_to_components(config: Configuration | Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{kind: (component name, {hyperparameter: value})}`` for the kinds present in ``config``."""
    values = dict(config)
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for kind in KINDS:
        if kind not in values:
            continue
        name = _plain(values[kind])
        prefix = f"{name}{SEP}"
        out[kind] = (name, {k[len(prefix):]: _plain(v) for k, v in values.items() if k.startswith(prefix)})
    return out


def valid_names(task: str) -> list[str]:
    """Component names usable in ``include``/``exclude`` for ``task``."""
    return [c.name for c in components(task=task)]


def _check_names(names: set[str], task: str) -> None:
    valid = valid_names(task)
    unknown = sorted(names - set(valid))
    if unknown:
        other = sorted(n for n in unknown if n in {c.name for c in components()})
        hint = f" ({', '.join(other)} not available for {task!r})" if other else ""
        raise ValueError(f"unknown component name(s) {unknown}{hint}; valid names for {task!r}: {valid}")


def _choices(kind: str, task: str, include: set[str], exclude: set[str], sparse: bool) -> list[Component]:
    available = components(kind, task)
    included = [c for c in available if c.name in include]
    chosen = included or [c for c in available if c.default_in_space]
    chosen = [c for c in chosen if c.name not in exclude]
    if sparse:
        chosen = [c for c in chosen if c.handles_sparse and c.name not in _DENSIFYING]
    if not chosen:
        raise ValueError(
            f"no {kind} left to choose for {task!r} after include/exclude"
            f"{' and sparse input' if sparse else ''}; {kind}s available: {[c.name for c in available]}"
        )
    return chosen


def _component_part(top: CategoricalHyperparameter, comp: Component, task: str) -> tuple[list, list]:
    """``comp``'s hyperparameters, prefixed, and the conditions that make them active."""
    hps = {hp.name: _renamed(hp, f"{comp.name}{SEP}{hp.name}") for hp in comp.hyperparameters_for(task)}
    inner = {child: (parent, value) for child, parent, value in comp.conditions if child in hps and parent in hps}
    conditions = []
    for name, hp in hps.items():
        if name in inner:  # active while its parent takes a value; the parent carries the top-level condition
            parent, value = inner[name]
            if isinstance(value, (list, tuple, set)):
                conditions.append(InCondition(hp, hps[parent], list(value)))
            else:
                conditions.append(EqualsCondition(hp, hps[parent], value))
        else:
            conditions.append(EqualsCondition(hp, top, comp.name))
    return list(hps.values()), conditions


def _renamed(hp: Hyperparameter, name: str) -> Hyperparameter:
    """A copy of ``hp`` called ``name`` (registry entries stay untouched and unprefixed)."""
    if isinstance(hp, UniformFloatHyperparameter):
        return UniformFloatHyperparameter(name, hp.lower, hp.upper, default_value=hp.default_value, log=hp.log)
    if isinstance(hp, UniformIntegerHyperparameter):
        return UniformIntegerHyperparameter(name, hp.lower, hp.upper, default_value=hp.default_value, log=hp.log)
    if isinstance(hp, CategoricalHyperparameter):
        return CategoricalHyperparameter(name, list(hp.choices), default_value=hp.default_value, weights=hp.weights)
    if isinstance(hp, OrdinalHyperparameter):
        return OrdinalHyperparameter(name, list(hp.sequence), default_value=hp.default_value)
    if isinstance(hp, Constant):
        return Constant(name, hp.value)
    clone = copy.deepcopy(hp)  # other distributions (normal, beta): same object, new name
    clone.name = name
    return clone


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
