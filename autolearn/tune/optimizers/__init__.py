"""Optimizers behind one ask/tell interface, looked up by name.

Modules are imported lazily so that asking for random search never imports a GP library.
"""

from __future__ import annotations

import importlib
from typing import Any

from autolearn.tune.optimizers._base import Optimizer

# name -> "module:Class"; every name here is accepted by create_study(optimizer=...) and strategy=.
_OPTIMIZERS: dict[str, str] = {
    "random": "autolearn.tune.optimizers.random_search:RandomSearch",
    "grid": "autolearn.tune.optimizers.grid_search:GridSearch",
    "sobol": "autolearn.tune.optimizers.quasi_random:QuasiRandomSearch",
    "tpe": "autolearn.tune.optimizers.tpe:TPE",
    "rf": "autolearn.tune.optimizers.smac_rf:RandomForestBO",
    "gp": "autolearn.tune.optimizers.gaussian_process:GaussianProcessBO",
    "evolution": "autolearn.tune.optimizers.evolution:RegularizedEvolution",
    "cmaes": "autolearn.tune.optimizers.cmaes:CMAES",
    "rl": "autolearn.tune.optimizers.reinforce:PolicyGradient",
    "hypergradient": "autolearn.tune.optimizers.hypergradient:HypergradientDescent",
    "nsga2": "autolearn.tune.optimizers.nsga2:NSGA2",
    "parego": "autolearn.tune.optimizers.parego:ParEGO",
}

OPTIMIZERS: tuple[str, ...] = tuple(_OPTIMIZERS)


def get_optimizer_class(name: str) -> type[Optimizer]:
    if name not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(_OPTIMIZERS)}")
    module, cls = _OPTIMIZERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def make_optimizer(name: str, space: Any, **kwargs: Any) -> Optimizer:
    return get_optimizer_class(name)(space, **kwargs)


__all__ = ["OPTIMIZERS", "Optimizer", "get_optimizer_class", "make_optimizer"]
