"""Tables of a search for people: every trial, and the ranked leaderboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from autolearn.evaluation.evaluate import REFIT
from autolearn.evaluation.metrics import Metric
from autolearn.records import TrialRecord


def _key_hyperparameters(config: Mapping[str, Any]) -> str:
    """The model's own hyperparameters, short: what tells two rows of one model apart."""
    model = config.get("model")
    prefix = f"{model}:"
    parts = [f"{k[len(prefix):]}={_short(v)}" for k, v in sorted(config.items()) if k.startswith(prefix)]
    return ", ".join(parts)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trials_frame(records: Sequence[TrialRecord], metric: Metric) -> pd.DataFrame:
    rows = []
    for r in records:
        res = r.result
        info = dict(res.info) if res is not None else {}
        rows.append({
            "trial": r.spec.trial_id,
            "model": r.spec.config.get("model", ""),
            "budget": r.spec.budget,
            "kind": "refit" if r.spec.instance == REFIT else "validation",
            "origin": r.spec.origin,
            "status": res.status.value if res is not None else "running",
            "loss": res.loss if res is not None and res.values else None,
            metric.name: info.get("score"),
            "fit_time": info.get("fit_time"),
            "duration": res.duration if res is not None else None,
            "error": (res.error.strip().splitlines() or [""])[-1] if res is not None else "",
            "config": dict(r.spec.config),
        })
    return pd.DataFrame(rows)


def leaderboard(records: Sequence[TrialRecord], metric: Metric, weights: Mapping[int, float]) -> pd.DataFrame:
    """Validation trials best first (full-budget successes, then partial budgets, then failures)."""
    rows = []
    for r in records:
        if r.spec.instance == REFIT or r.result is None:
            continue
        res = r.result
        info = dict(res.info)
        rows.append({
            "model": r.spec.config.get("model", ""),
            "hyperparameters": _key_hyperparameters(r.spec.config),
            metric.name: info.get("score"),
            "budget": r.spec.budget,
            "fit_time": info.get("fit_time"),
            "status": res.status.value,
            "ensemble_weight": round(weights.get(r.spec.trial_id, 0.0), 4),
            "trial": r.spec.trial_id,
            "_order": (not res.ok, -r.spec.budget, res.loss),
        })
    if not rows:
        return pd.DataFrame(columns=["rank", "model", "hyperparameters", metric.name, "budget", "fit_time", "status",
                                     "ensemble_weight", "trial"])
    frame = pd.DataFrame(rows).sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame
