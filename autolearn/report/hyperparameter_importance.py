"""Which hyperparameters decided the score: a random-forest surrogate of configuration → loss.

fANOVA (Hutter et al., 2014) fits a random forest on the evaluated configurations and splits the
variance of its predictions among the hyperparameters. We keep its first, cheap half: the same kind of
forest, with each hyperparameter's share read from the forest's impurity decrease (``"impurity"``,
the default: free once the forest is fitted, but biased towards hyperparameters with many distinct
values) or from permutation importance on the surrogate (``"permutation"``: unbiased, ~n_repeats times
the forest's predict cost). Enough to say which knobs mattered; not a full functional ANOVA with
interaction terms.

Why the encoding looks like this:

* Conditional spaces: a hyperparameter exists only while its parent choice is made (``lightgbm:num_leaves``
  only when ``model == "lightgbm"``). Inactive values get a value outside the active range (below the
  minimum for numbers, code -1 for categories), as SMAC's forests do, so one split separates "inactive"
  from every active value and the forest learns "this model family" from the parent alone.
* Trees are invariant to monotone transforms, so log-scaled hyperparameters need no log.
* The target is the rank of the loss (a quantile in [0, 1]), so one disastrous configuration (a log loss
  of 30) does not own the variance the importances share.
* Only trials at the highest budget with enough successes are used: losses at different fidelities are
  not comparable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from autolearn.report.run_data import NoDataError, RunSource, load_run

MIN_TRIALS = 5


def encode_configs(configs: Sequence[dict[str, Any]], params: Sequence[str] | None = None) -> pd.DataFrame:
    """One float column per hyperparameter, inactive values encoded out of range (see the module docstring).

    Categorical (and boolean) values become integer codes in sorted order; ``frame.attrs["categories"]``
    maps each such column to its categories so plots can label the codes.
    """
    names = list(params) if params is not None else sorted({k for c in configs for k in c})
    columns: dict[str, np.ndarray] = {}
    categories: dict[str, list[Any]] = {}
    for name in names:
        values = [c.get(name) for c in configs]
        present = [v for v in values if v is not None]
        if not present:
            continue
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
            arr = np.array([math.nan if v is None else float(v) for v in values])
            lo, hi = np.nanmin(arr), np.nanmax(arr)
            columns[name] = np.where(np.isnan(arr), lo - (hi - lo) - 1.0, arr)
        else:
            cats = sorted({v for v in present}, key=lambda v: (type(v).__name__, str(v)))
            code = {v: i for i, v in enumerate(cats)}
            columns[name] = np.array([-1.0 if v is None else float(code[v]) for v in values])
            categories[name] = cats
    frame = pd.DataFrame(columns, index=range(len(configs)))
    frame.attrs["categories"] = categories
    return frame


def hyperparameter_importance(source: RunSource, *, method: str = "impurity", n_trees: int = 100,
                              n_repeats: int = 5, seed: int = 0, study: str | None = None) -> pd.DataFrame:
    """Share of the (rank-transformed) loss each hyperparameter explains, largest first.

    Returns a frame with ``hyperparameter``, ``importance`` (sums to 1 over the rows), ``std`` (over the
    forest's trees or the permutation repeats) and ``active`` (fraction of the trials where the
    hyperparameter was active). ``frame.attrs`` holds ``n_trials``, ``budget``, ``method`` and
    ``oob_r2``: the surrogate's out-of-bag R², which says how far to trust the ranking (near 0 or below:
    the configurations explain little of the variation, e.g. noise dominates).
    """
    from sklearn.ensemble import RandomForestRegressor

    if method not in ("impurity", "permutation"):
        raise ValueError(f"method must be 'impurity' or 'permutation', got {method!r}")
    run = load_run(source, study)
    trials = run.comparable(MIN_TRIALS)
    if len(trials) < MIN_TRIALS:
        raise NoDataError(f"hyperparameter importance needs at least {MIN_TRIALS} successful trials at one budget; "
                          f"this run has {len(run.successes())} in all")
    configs = [dict(r.spec.config) for r in trials]
    X = encode_configs(configs)
    X = X.loc[:, X.nunique() > 1]
    if X.shape[1] == 0:
        raise NoDataError("every trial used the same configuration values: nothing to rank")
    losses = np.array([r.result.loss for r in trials])  # type: ignore[union-attr]
    y = pd.Series(losses).rank(pct=True).to_numpy()
    forest = RandomForestRegressor(n_estimators=n_trees, min_samples_leaf=2, max_features=0.5, bootstrap=True,
                                   oob_score=len(trials) >= 10, random_state=seed, n_jobs=1).fit(X.to_numpy(), y)
    if method == "impurity":
        per_tree = np.array([t.feature_importances_ for t in forest.estimators_])
        mean, std = per_tree.mean(axis=0), per_tree.std(axis=0)
    else:
        from sklearn.inspection import permutation_importance

        result = permutation_importance(forest, X.to_numpy(), y, n_repeats=n_repeats, random_state=seed)
        mean, std = np.clip(result.importances_mean, 0, None), result.importances_std
    total = mean.sum()
    scale = 1.0 / total if total > 0 else 0.0
    active = [np.mean([c.get(name) is not None for c in configs]) for name in X.columns]
    frame = pd.DataFrame({"hyperparameter": list(X.columns), "importance": mean * scale, "std": std * scale,
                          "active": active})
    frame = frame.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs.update(n_trials=len(trials), budget=trials[0].spec.budget, method=method,
                       oob_r2=float(forest.oob_score_) if len(trials) >= 10 else math.nan)
    return frame


__all__ = ["encode_configs", "hyperparameter_importance"]
