"""ParEGO: multi-objective BO by random scalarizations (Knowles 2006).

Each ask draws a fresh weight vector, turns every trial's objectives into one number with the
augmented Chebyshev function, and takes one ordinary single-objective BO step on it. Over many asks
the weights sweep the simplex, so the proposals spread along the whole Pareto front; the Chebyshev
(max) term reaches non-convex parts of the front that a weighted sum cannot, and the small linear
term breaks ties between weakly dominated points.

Objectives are rescaled to [0, 1] by the observed ranges first, so that objectives in different
units (error rate vs. seconds) weigh as the weight vector says. Failed trials arrive with the worst
value of every objective (``Optimizer.observations``), hence at the far corner of the scaled box.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.stats import rankdata

from autolearn.tune.optimizers.gaussian_process import GaussianProcessBO
from autolearn.tune.optimizers.smac_rf import RandomForestBO


def augmented_chebyshev(Y: np.ndarray, weights: np.ndarray, rho: float = 0.05) -> np.ndarray:
    """max_i(w_i y_i) + rho * sum_i(w_i y_i) for every row of the (n, m) objectives ``Y``."""
    wy = Y * weights[None, :]
    return wy.max(axis=1) + rho * wy.sum(axis=1)


def normalize_objectives(Y: np.ndarray, kind: str = "range") -> np.ndarray:
    """Each objective scaled to [0, 1] over the observed trials.

    ``"range"`` is Knowles' min-max scaling; ``"rank"`` uses each trial's rank. A single
    extreme loss (a diverged model, a crash imputed as the worst value) squeezes every sensible
    trial into a sliver of the min-max range, after which the max in the Chebyshev function only
    ever sees the other objective; ranks are immune to that and keep dominance intact (a point that
    dominates another ranks no worse in every objective). Ranks did not win on our test problems,
    hence not the default.
    """
    if kind == "rank":
        n = len(Y)
        return (rankdata(Y, axis=0) - 1.0) / max(n - 1, 1)
    if kind != "range":
        raise ValueError(f"normalization must be 'rank' or 'range', got {kind!r}")
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (Y - lo) / span


class _ScalarizedTargets:
    """Mixin: replace the first-objective target of a model-based optimizer by a ParEGO scalarization.

    ``rho`` weighs the linear term of the augmented Chebyshev function, ``normalization`` is
    ``"range"`` (Knowles) or ``"rank"``; the other parameters go to the model-based optimizer.
    """

    rng: np.random.Generator

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 2,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, object]] = (),
        rho: float = 0.05,
        normalization: str = "range",
        **kwargs: Any,
    ) -> None:
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design, **kwargs)
        normalize_objectives(np.zeros((1, 1)), normalization)  # validates the name early
        self.rho = rho
        self.normalization = normalization
        self.last_weights: np.ndarray | None = None

    def _targets(self, losses: np.ndarray) -> np.ndarray:
        m = losses.shape[1]
        # a uniform draw from the simplex (Knowles used a fixed lattice; this is its continuous limit)
        self.last_weights = self.rng.dirichlet(np.ones(m)) if m > 1 else np.ones(1)
        return augmented_chebyshev(normalize_objectives(losses, self.normalization), self.last_weights, self.rho)


class ParEGO(_ScalarizedTargets, GaussianProcessBO):
    """ParEGO with the Gaussian-process surrogate, Knowles' original choice.

    Parameters are those of :class:`GaussianProcessBO` plus ``rho``, the weight of the linear term
    of the augmented Chebyshev function, and ``normalization`` ("range" as Knowles, or "rank").
    ``n_objectives`` must match the number of values told (extra values are ignored).
    The GP won over the forest here (hypervolume on ZDT1 and on a two-objective version of the
    conditional test problem, 8 seeds x 40 trials), see :class:`ParEGORF` for the forest variant.
    """

    name = "parego"
    multi_objective = True


class ParEGORF(_ScalarizedTargets, RandomForestBO):
    """ParEGO with the random-forest surrogate (cheaper fits; for large categorical spaces)."""

    name = "parego"
    multi_objective = True

    def __init__(self, space: ConfigurationSpace, **kwargs: Any) -> None:
        super().__init__(space, **kwargs)
        self._cacheable = False  # the targets change with every ask's weights
