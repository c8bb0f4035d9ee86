"""autolearn: automated machine learning under a hard time budget.

>>> from autolearn import AutoClassifier
>>> model = AutoClassifier(time_budget=60).fit(X, y)  # doctest: +SKIP
"""

from autolearn.estimators import AutoClassifier, AutoRegressor, load

__version__ = "0.1.0"

__all__ = ["AutoClassifier", "AutoRegressor", "__version__", "load"]
