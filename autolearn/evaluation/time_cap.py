"""Boosting rounds, trees and epochs that fit the per-trial time limit, instead of a timeout.

A full-budget trial of an iterative model (LightGBM's 512 rounds, 256 trees, 200 epochs) on a large
table can take longer than the per-trial limit (a tenth of a short budget). Killed at the limit, it
leaves nothing: on a 75,000-row table at a 60 s budget most gradient-boosting trials ended that way.
AutoGluon and FLAML stop adding rounds when time runs out; so does this, with the continuation hooks the
multi-fidelity schedulers use (``Fidelity.warm_start``):

* fit a quarter of the units first (the probe), which measures the seconds per unit on this data;
* train on to the full count when it fits in the time allowed, else to as many units as fit (with a
  margin), so the trial returns a smaller but valid model and its validation loss says what it is worth;
* the probe's seconds include fitting the preprocessing (and LightGBM's binning), which a continuation
  does not pay again: a table where they are most of the probe's cost would stop far short. So after
  each continuation the cost per unit is measured again on that step alone, and training goes on while
  a step at least as large as the last one fits;
* the other folds of a cross-validation fit that many units from scratch, so every fold's model is the
  same size, and the refit on all rows trains that many too (``refit_budget``).

The probe and its continuation give the model a fit from scratch gives (exactly for the hooks that
claim it, an equally valid model of the same size for LightGBM with row or feature subsampling; see
:mod:`autolearn.components.warm_start`). The probe's own time includes fitting the preprocessing, so
the first estimate of the seconds per unit is high, never low. Each later estimate includes its step's
own fixed cost (a continuation transforms the rows again) spread over that step's units; a step never
smaller than the one measured therefore never costs more than projected, and a capped trial ends
before its limit.
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
    probe = units = min(full, max(fidelity.min, round(PROBE_FRACTION * full)))
    t0 = time.perf_counter()
    pipeline = build(probe / full).fit(X, y)
    step_units, step_seconds = units, time.perf_counter() - t0
    while units < full:
        left = seconds - (time.perf_counter() - t0)
        affordable = full if step_seconds <= 0 else int(MARGIN * left * step_units / step_seconds)
        # after the probe (which paid for fitting the preprocessing, so it overestimates) any step; after
        # a continuation, none smaller than it: a smaller one could cost more than it projects
        if affordable < (1 if units == probe else step_units):
            break
        target = min(full, units + affordable)
        t1 = time.perf_counter()
        continued = continue_pipeline(pipeline, fidelity, target, X, y)
        if continued is None:  # the model cannot train on (its hook refused): fit the affordable size anew
            return build(target / full).fit(X, y), target
        step_units, step_seconds = target - units, time.perf_counter() - t1
        pipeline, units = continued, target
    return pipeline, units


def refit_budget(info: dict[str, Any]) -> float:
    """The budget a refit on all rows trains at: the units the validated (possibly capped) models had."""
    units, full = info.get("units"), info.get("units_full")
    return 1.0 if not units or not full else min(1.0, units / full)
