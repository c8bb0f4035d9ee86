"""The component registry: one small entry per model or preprocessor.

An entry says everything the rest of autolearn needs about a component — how to build its estimator,
which hyperparameters it has, what a fidelity budget means for it and rough cost hints — so adding a
model is adding one ``register(Component(...))`` call, never a class hierarchy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import sklearn
from ConfigSpace.hyperparameters import Hyperparameter

TASKS = ("binary", "multiclass", "regression")
KINDS = ("model", "imputer", "encoder", "scaler", "feature")
CLASSIFICATION = ("binary", "multiclass")


def _threads() -> int:
    # Imported lazily so that building a context never drags the execution layer in at import time.
    try:
        from autolearn.execution.isolation import worker_threads
    except ImportError:  # pragma: no cover - only while the package is half-installed
        return int(os.environ.get("AUTOLEARN_THREADS", "1"))
    return worker_threads()


@dataclass(frozen=True)
class BuildContext:
    """What a component may know about the problem when it builds its estimator."""

    task: str
    seed: int = 0
    n_jobs: int = field(default_factory=_threads)
    n_rows: int | None = None  # rows the estimator will be trained on, when known
    n_features: int | None = None  # input columns of the raw data, when known

    @property
    def is_classification(self) -> bool:
        return self.task in CLASSIFICATION


class WarmStart(Protocol):
    """How a fitted model trains on to more fidelity units, so a promoted trial continues its parent.

    ``continue_fit(model, value, X, y)`` takes the estimator ``build`` made (unwrapped from the
    pipeline's class-completing or target-scaling wrappers), already fitted on ``X, y`` with fewer
    units, and returns it trained on to ``value`` units: the model a fit from scratch to ``value`` units
    (with the same seed) would give, wherever the library allows; or None, having changed nothing, when
    it finds it cannot (the evaluator then trains from scratch). ``can_continue(model)`` says whether
    a fitted model can be continued at all (an early-stopped one cannot), so that the evaluator does
    not keep models nobody can use. Implementations are in :mod:`autolearn.components.warm_start`.
    """

    def can_continue(self, model: Any) -> bool: ...

    def continue_fit(self, model: Any, value: int, X: Any, y: np.ndarray) -> Any | None: ...


@dataclass(frozen=True)
class Fidelity:
    """What a budget fraction means for one model: how many ``param`` units it trains for.

    ``kind`` is ``"iterations"`` (boosting rounds, trees) or ``"epochs"`` (passes over the data).
    A budget ``b`` in (0, 1] trains ``max(min, round(b * full))`` units, so cost grows with the budget.
    ``warm_start`` (None: the model always trains from scratch) continues a model fitted at a lower
    budget, which is what makes a promoted trial cost only the units it adds.
    """

    kind: str
    param: str
    full: int
    min: int = 1
    warm_start: WarmStart | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min <= self.full:
            raise ValueError(f"fidelity {self.param!r}: need 1 <= min <= full, got min={self.min} full={self.full}")

    def value(self, budget: float = 1.0) -> int:
        if not 0.0 < budget <= 1.0:
            raise ValueError(f"budget must be in (0, 1], got {budget!r}")
        return int(min(self.full, max(self.min, round(budget * self.full))))


HyperparameterSpec = Sequence[Hyperparameter] | Callable[[str], Sequence[Hyperparameter]]


@dataclass(frozen=True)
class Component:
    """One model or preprocessor.

    ``build(params, ctx)`` returns an unfitted scikit-learn estimator from a complete dict of this
    component's (unprefixed) hyperparameter values. ``hyperparameters`` is a list of ConfigSpace
    hyperparameters, or a function of the task when they differ between tasks. ``conditions`` lists
    ``(child, parent, value_or_values)``: ``child`` is active only while ``parent`` takes that value.
    ``average_folds``: after cross-validation the final model averages this model's fold fits instead
    of refitting it on all rows (``refit="auto"``), for learners whose single fit is one draw of a
    high-variance random start (networks), where k fits averaged beat one fit on more rows.
    """

    name: str
    kind: str
    tasks: tuple[str, ...]
    build: Callable[[dict[str, Any], BuildContext], Any]
    hyperparameters: HyperparameterSpec = ()
    conditions: tuple[tuple[str, str, Any], ...] = ()
    fidelity: Fidelity | None = None
    default_in_space: bool = True
    handles_sparse: bool = True
    needs_scaling: bool = False
    average_folds: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"component {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        unknown = set(self.tasks) - set(TASKS)
        if unknown or not self.tasks:
            raise ValueError(f"component {self.name!r}: tasks must be a non-empty subset of {TASKS}")
        if ":" in self.name:
            raise ValueError(f"component {self.name!r}: ':' separates component and hyperparameter names")

    @property
    def time_capped(self) -> bool:
        """Whether a trial can train it to as many units as fit in its time limit (an iterative model
        that can continue a fit) instead of being killed at the limit."""
        return self.fidelity is not None and self.fidelity.warm_start is not None

    def hyperparameters_for(self, task: str) -> list[Hyperparameter]:
        hps = self.hyperparameters(task) if callable(self.hyperparameters) else self.hyperparameters
        return list(hps)

    def defaults(self, task: str) -> dict[str, Any]:
        return {hp.name: _plain(hp.default_value) for hp in self.hyperparameters_for(task)}

    def resolve(self, params: Mapping[str, Any], task: str, budget: float = 1.0) -> dict[str, Any]:
        """Defaults, overridden by ``params``, plus the fidelity parameter at ``budget``."""
        known = self.defaults(task)
        unknown = set(params) - set(known)
        if unknown:
            raise ValueError(
                f"component {self.name!r} has no hyperparameter(s) {sorted(unknown)}; it has {sorted(known)}"
            )
        out = {**known, **{k: _plain(v) for k, v in params.items()}}
        if self.fidelity is not None:
            out[self.fidelity.param] = self.fidelity.value(budget)
        return out


_REGISTRY: dict[str, Component] = {}


def register(component: Component) -> Component:
    """Add ``component``; names are unique across kinds so that configurations stay unambiguous."""
    if component.name in _REGISTRY:
        raise ValueError(f"a component named {component.name!r} is already registered")
    _REGISTRY[component.name] = component
    return component


def get(name: str) -> Component:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown component {name!r}; registered: {sorted(_REGISTRY)}") from None


def components(kind: str | None = None, task: str | None = None) -> list[Component]:
    """Registered components of ``kind`` supporting ``task``, in registration order."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}; expected one of {KINDS}")
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    return [
        c for c in _REGISTRY.values() if (kind is None or c.kind == kind) and (task is None or task in c.tasks)
    ]


def models(task: str) -> list[Component]:
    return components("model", task)


def sklearn_at_least(major: int, minor: int) -> bool:
    """Parameters were deprecated across scikit-learn 1.4 → 1.9; builders pick the current spelling."""
    parts = sklearn.__version__.split(".")
    return (int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)) >= (major, minor)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
