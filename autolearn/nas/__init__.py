"""Neural architecture search for tables, in PyTorch (the optional ``nn`` extra).

>>> from autolearn import nas
>>> model = nas.search(X, y, strategy="evolution", space="residual", time_budget=300)  # doctest: +SKIP
>>> print(model.architecture_); model.history_  # doctest: +SKIP

* :mod:`~autolearn.nas.spaces`: the chain, residual and cell spaces (ConfigSpace) and ``Architecture``;
* :mod:`~autolearn.nas.estimators`: ``NeuralNetClassifier`` / ``NeuralNetRegressor`` for one architecture;
* :mod:`~autolearn.nas.strategies`: random, evolution, rl, tpe, bohb, hyperband (the package's own
  optimizers and schedulers) and darts (:mod:`~autolearn.nas.darts`);
* :mod:`~autolearn.nas.curves`: learning-curve extrapolation that prunes hopeless runs;
* :func:`search`: all of it under a time budget, trials isolated like every AutoML trial.

Importing this package does not import torch; the estimators and ``search`` do, with a clear
ImportError naming the extra when it is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autolearn.nas.spaces import SPACES, Architecture, architecture, default_architecture, make_space
from autolearn.nas.strategies import STRATEGIES

__all__ = [
    "SPACES", "STRATEGIES", "Architecture", "NeuralNetClassifier", "NeuralNetRegressor", "architecture",
    "default_architecture", "load", "make_space", "save", "search",
]


def __getattr__(name: str) -> Any:
    # torch is imported only when a network is needed
    if name in ("NeuralNetClassifier", "NeuralNetRegressor"):
        from autolearn.nas import estimators

        return getattr(estimators, name)
    if name == "search":
        from autolearn.nas.searching import search

        return search
    raise AttributeError(f"module 'autolearn.nas' has no attribute {name!r}")


def save(model: Any, path: str | Path) -> Path:
    """Write a fitted network (or any estimator) with cloudpickle, atomically."""
    import cloudpickle

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        cloudpickle.dump(model, fh)
    tmp.replace(path)
    return path


def load(path: str | Path) -> Any:
    """Read a model written by :func:`save` (or ``cloudpickle.dump``)."""
    import cloudpickle

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved model at {path}")
    with open(path, "rb") as fh:
        return cloudpickle.load(fh)
