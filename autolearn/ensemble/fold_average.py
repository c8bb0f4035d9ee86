"""A cross-validated trial's fold models, averaged: an ensemble member that needs no refit.

With k-fold cross-validation every training row was predicted by the one fold model that did not see
it, and ensemble selection chose its weights on exactly those predictions. Averaging the k fold models
keeps what was validated (each saw (k-1)/k of the rows) and lowers the variance a single refit on all
rows would have, at k times the prediction cost and no refit time: AutoGluon's bagging without
``refit_full``. ``refit=False`` on the estimators uses it for every member, ``refit="auto"`` (the
default) only for networks: on the ensemble benchmark the refit on all rows scored better on most
cross-validated datasets, most clearly in multiclass log loss, where 20 % more rows per model matters
more than the averaging, but for networks, one draw of a random start each, the average won
(``benchmarks/nas_final_model.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from autolearn.evaluation.metrics import widen_proba


def _classifies(self: FoldAverage) -> bool:
    return hasattr(self.models[0], "predict_proba")


class FoldAverage(BaseEstimator):
    """The mean prediction of fitted ``models`` (probabilities for classifiers, values for regressors)."""

    def __init__(self, models: Sequence[Any]) -> None:
        if len(models) == 0:
            raise ValueError("FoldAverage needs at least one fitted model")
        self.models = list(models)

    @property
    def classes_(self) -> np.ndarray:
        """Every class any model saw: a rare class may be missing from one fold's training rows."""
        return reduce(np.union1d, [np.asarray(m.classes_) for m in self.models])

    @available_if(_classifies)
    def predict_proba(self, X: Any) -> np.ndarray:
        """The mean probabilities; a model that never saw a class gives it probability 0."""
        classes = self.classes_
        probas = [widen_proba(m.predict_proba(X), np.searchsorted(classes, m.classes_), len(classes))
                  for m in self.models]
        return np.mean(probas, axis=0)

    def predict(self, X: Any) -> np.ndarray:
        if _classifies(self):
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return np.mean([np.asarray(m.predict(X), dtype=np.float64).ravel() for m in self.models], axis=0)
