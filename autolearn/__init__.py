"""autolearn: automated machine learning under a hard time budget.

>>> from autolearn import AutoClassifier
>>> model = AutoClassifier(time_budget=60).fit(X, y)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["AutoClassifier", "AutoRegressor", "__version__", "load"]


def __getattr__(name: str) -> Any:
    # The estimators pull in the whole stack; workers and storage-only tools import autolearn without it.
    if name in ("AutoClassifier", "AutoRegressor", "load"):
        from autolearn import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'autolearn' has no attribute {name!r}")
