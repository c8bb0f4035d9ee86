"""Boosting rounds, trees and epochs that fit the per-trial time limit, instead of a timeout.

A full-budget trial of an iterative model (LightGBM's 512 rounds, 256 trees, 200 epochs) on a large
table can take longer than the per-trial limit (a tenth of a short budget). Killed at the limit, it
leaves nothing: on a 75,000-row table at a 60 s budget most gradient-boosting trials ended that way.
AutoGluon and FLAML stop adding rounds when time runs out; so does this, with the continuation hooks the
multi-fidelity schedulers use (``Fidelity.warm_start``):

* fit a quarter of the units first (the probe), which measures the seconds per unit on this data;
* train on to the full count when it fits in the time allowed, else to as many units as fit (with a
  margin), so the trial returns a smaller but valid model and its validation loss says what it is worth;
* the other folds of a cross-validation fit that many units from scratch, so every fold's model is the
  same size, and the refit on all rows trains that many too (``refit_budget``).

The probe and its continuation give the model a fit from scratch gives (exactly for the hooks that
claim it, an equally valid model of the same size for LightGBM with row or feature subsampling; see
:mod:`autolearn.components.warm_start`). The probe's own time includes fitting the preprocessing, so
the seconds per unit are overestimated, never under: a capped trial ends before its limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from autolearn.components.registry import Fidelity
from autolearn.evaluation.continuation import continue_pipeline

FIT_SHARE = 0.8  # of the per-trial limit spent fitting; the rest predicts, scores and reports
PROBE_FRACTION = 0.25  # of the full units fitted before the cost per unit is known
MARGIN = 0.9  # of the projected affordable units actually trained


def fit_within(build: Callable[[float], Pipeline], fidelity: Fidelity, X: Any, y: np.ndarray,
               seconds: float) -> tuple[Pipeline, int]:
    """``build(budget)`` fitted on ``X, y`` with as many of ``fidelity``'s units as ``seconds`` allow;
    returns the fitted pipeline and its units."""
    full = fidelity.full
    probe = min(full, max(fidelity.min, round(PROBE_FRACTION * full)))
    t0 = time.perf_counter()
    pipeline = build(probe / full).fit(X, y)
    spent = time.perf_counter() - t0
    if probe >= full:
        return pipeline, probe
    per_unit = spent / probe
    affordable = full if per_unit <= 0 else probe + int(MARGIN * (seconds - spent) / per_unit)
    units = min(full, affordable)
    if units <= probe:
        return pipeline, probe
    continued = continue_pipeline(pipeline, fidelity, units, X, y)
    if continued is None:  # the model cannot train on (its hook refused): fit the affordable size anew
        return build(units / full).fit(X, y), units
    return continued, units


def refit_budget(info: dict[str, Any]) -> float:
    """The budget a refit on all rows trains at: the units the validated (possibly capped) models had."""
    units, full = info.get("units"), info.get("units_full")
    return 1.0 if not units or not full else min(1.0, units / full)
