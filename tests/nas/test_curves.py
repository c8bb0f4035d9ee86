"""Learning-curve extrapolation and the stopping rule built on it (no torch needed)."""

from __future__ import annotations

import numpy as np

from autolearn.nas.curves import LearningCurveRule, extrapolate


def saturating(n: int, floor: float, start: float = 1.0, rate: float = 0.3, noise: float = 0.0) -> list[float]:
    t = np.arange(1, n + 1)
    rng = np.random.default_rng(0)
    return list(floor + (start - floor) * np.exp(-rate * t) + noise * rng.normal(size=n))


def test_extrapolation_finds_the_plateau():
    curve = saturating(15, floor=0.2)
    predictions = extrapolate(curve, horizon=100)
    assert set(predictions) == {"pow3", "exp", "log-linear"}
    assert abs(predictions["exp"] - 0.2) < 0.02
    assert min(predictions.values()) <= predictions["exp"] + 1e-9  # log-linear never saturates: the optimist


def test_rule_stops_a_hopeless_run_and_keeps_a_promising_one():
    hopeless = LearningCurveRule(incumbent=0.1)
    assert hopeless(saturating(10, floor=0.5, noise=0.002), horizon=50)
    assert hopeless.predicted_final is not None and hopeless.predicted_final > 0.1
    promising = LearningCurveRule(incumbent=0.1)
    assert not promising(saturating(10, floor=0.02, start=1.0, rate=0.1), horizon=50)


def test_rule_waits_for_enough_epochs_and_an_incumbent():
    curve = saturating(4, floor=0.9)
    assert not LearningCurveRule(incumbent=0.1)(curve, horizon=50)  # too short to judge
    assert not LearningCurveRule(incumbent=None)(saturating(20, floor=0.9), horizon=50)
    assert not LearningCurveRule(incumbent=0.1)(saturating(20, floor=0.9), horizon=20)  # already at the end


def test_noisy_curve_near_the_incumbent_is_not_stopped():
    # the incumbent lies within the curve's own noise: not clearly worse, keep training
    curve = saturating(12, floor=0.105, noise=0.02)
    assert not LearningCurveRule(incumbent=0.1)(curve, horizon=30)
