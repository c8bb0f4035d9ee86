"""Learning-curve extrapolation: stop a training run whose final loss cannot beat the incumbent.

After Domhan, Springenberg & Hutter (IJCAI 2015), much simplified: instead of an MCMC posterior over
eleven parametric families we fit three saturating ones by least squares to the best-so-far
validation loss ``y(t)`` (epoch ``t = 1..n``) and extrapolate to the last epoch ``T``:

* ``pow3``:       ``y = c + a * t**(-alpha)``
* ``exp``:        ``y = c + a * exp(-b * t)``
* ``log-linear``: ``y = a - b * log(t)`` (never saturates, so it is the optimistic member)

A run is stopped only when *every* family that fits predicts a final loss worse than the incumbent by
more than ``margin`` (relative) and by more than the curve's own epoch-to-epoch noise (the standard
deviation of its last five steps) — the most optimistic extrapolation still loses, clearly. This is deliberately
conservative: a wrongly stopped good run costs the search its best architecture, a wrongly continued
bad one only some epochs. Curves shorter than ``min_points`` epochs (or a tenth of ``T``) are never
judged, because early epochs say little about the plateau.

Needs only numpy and scipy, so it is usable (and tested) without torch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit


def _pow3(t: np.ndarray, c: float, a: float, alpha: float) -> np.ndarray:
    return c + a * np.power(t, -alpha)


def _exp(t: np.ndarray, c: float, a: float, b: float) -> np.ndarray:
    return c + a * np.exp(-b * t)


def _loglinear(t: np.ndarray, a: float, b: float) -> np.ndarray:
    return a - b * np.log(t)


Family = tuple[str, Callable[..., np.ndarray], Callable[[np.ndarray], list[float]], tuple[list[float], list[float]]]


def _families(y: np.ndarray) -> list[Family]:
    last, first = float(y[-1]), float(y[0])
    span = max(first - last, 1e-6)
    return [
        ("pow3", _pow3, lambda _: [last - 0.5 * span, span, 0.5], ([-np.inf, 0.0, 1e-3], [np.inf, np.inf, 5.0])),
        ("exp", _exp, lambda _: [last - 0.1 * span, span, 0.3], ([-np.inf, 0.0, 1e-4], [np.inf, np.inf, 5.0])),
        ("log-linear", _loglinear, lambda _: [first, span / max(math.log(len(y)), 1e-6)],
         ([-np.inf, 0.0], [np.inf, np.inf])),
    ]


def extrapolate(curve: Sequence[float], horizon: int, lower_bound: float | None = None) -> dict[str, float]:
    """Predicted loss at epoch ``horizon`` from each family that fits ``curve`` (losses of epochs 1..n).

    The curve is first made monotone (best so far), as early stopping keeps the best epoch. Families
    whose fit fails are left out; ``lower_bound`` (e.g. 0 for a loss that cannot go below it) floors
    the predictions.
    """
    y = np.minimum.accumulate(np.asarray(curve, dtype=float))
    y = y[np.isfinite(y)]
    if len(y) < 3:
        return {}
    t = np.arange(1, len(y) + 1, dtype=float)
    out: dict[str, float] = {}
    for name, fn, p0, bounds in _families(y):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                params, _ = curve_fit(fn, t, y, p0=p0(y), bounds=bounds, maxfev=2000)
        except (RuntimeError, ValueError):
            continue
        pred = float(fn(np.array([float(horizon)]), *params)[0])
        if math.isfinite(pred):
            out[name] = max(pred, lower_bound) if lower_bound is not None else pred
    return out


@dataclass
class LearningCurveRule:
    """``rule(curve, horizon) -> bool``: True when the run should stop (see the module docstring).

    ``incumbent`` is the best final loss seen so far at the same number of epochs (None: never stop).
    The last decision's extrapolations stay in ``predictions`` for the trial's report.
    """

    incumbent: float | None
    margin: float = 0.05
    min_points: int = 5
    lower_bound: float | None = 0.0
    predictions: dict[str, float] = field(default_factory=dict)

    def __call__(self, curve: Sequence[float], horizon: int) -> bool:
        if self.incumbent is None or not math.isfinite(self.incumbent):
            return False
        n = len(curve)
        if n < max(self.min_points, math.ceil(0.1 * horizon)) or n >= horizon:
            return False
        self.predictions = extrapolate(curve, horizon, self.lower_bound)
        if not self.predictions:
            return False
        optimistic = min(self.predictions.values())
        recent = np.asarray(curve[-6:], dtype=float)
        noise = float(np.std(np.diff(recent))) if np.all(np.isfinite(recent)) else math.inf
        return optimistic > self.incumbent + max(self.margin * abs(self.incumbent), noise)

    @property
    def predicted_final(self) -> float | None:
        return min(self.predictions.values()) if self.predictions else None
