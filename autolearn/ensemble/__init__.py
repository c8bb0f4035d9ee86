"""Combining the search's models: ensemble selection, penalized stacking, the fitted ensemble.

The search leaves one validation prediction per finished trial (:class:`PredictionStore`); a combiner is
chosen on those (:func:`ensemble_selection`, :func:`choose_under_latency` or :func:`fit_stacker`), the
chosen members are refitted, and :class:`Ensemble` holds them with the combiner for prediction.
"""

from autolearn.ensemble.ensemble import Ensemble, choose_under_latency, measure_predict_time
from autolearn.ensemble.prediction_store import PredictionStore
from autolearn.ensemble.selection import ensemble_selection
from autolearn.ensemble.stacking import Stacker, fit_stacker

__all__ = [
    "Ensemble",
    "PredictionStore",
    "Stacker",
    "choose_under_latency",
    "ensemble_selection",
    "fit_stacker",
    "measure_predict_time",
]
