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

import numpy as np
from ConfigSpace import ConfigurationSpace

from autolearn.tune.optimizers.gaussian_process import GaussianProcessBO
from autolearn.tune.optimizers.smac_rf import RandomForestBO


def augmented_chebyshev(Y: np.ndarray, weights: np.ndarray, rho: float = 0.05) -> np.ndarray:
    """max_i(w_i y_i) + rho * sum_i(w_i y_i) for every row of the (n, m) objectives ``Y``."""
    wy = Y * weights[None, :]
    return wy.max(axis=1) + rho * wy.sum(axis=1)


def normalize_objectives(Y: np.ndarray) -> np.ndarray:
    """Each objective min-max scaled to [0, 1] over the observed trials (constant ones -> 0)."""
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (Y - lo) / span


class _ScalarizedTargets:
    """Mixin: replace the first-objective target of a model-based optimizer by a ParEGO scalarization."""

    rng: np.random.Generator
    rho: float
    _cacheable: bool
    last_weights: np.ndarray | None

    def _targets(self, losses: np.ndarray) -> np.ndarray:
        m = losses.shape[1]
        # a uniform draw from the simplex (Knowles used a fixed lattice; this is its continuous limit)
        self.last_weights = self.rng.dirichlet(np.ones(m)) if m > 1 else np.ones(1)
        return augmented_chebyshev(normalize_objectives(losses), self.last_weights, self.rho)


class ParEGO(_ScalarizedTargets, RandomForestBO):
    """ParEGO with the random-forest surrogate (robust to mixed and conditional spaces).

    Parameters are those of :class:`RandomForestBO` plus ``rho``, the weight of the linear term of
    the augmented Chebyshev scalarization. ``n_objectives`` must match the length of the values told.
    :class:`ParEGOGP` is the same with the Gaussian-process surrogate (Knowles' original choice).
    """

    name = "parego"
    multi_objective = True

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 2,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, object]] = (),
        rho: float = 0.05,
        **kwargs: object,
    ) -> None:
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design, **kwargs)
        self.rho = rho
        self._cacheable = False  # the targets change with every ask's weights
        self.last_weights = None


class ParEGOGP(_ScalarizedTargets, GaussianProcessBO):
    """ParEGO with the Gaussian-process surrogate (for small, mostly continuous spaces)."""

    name = "parego"
    multi_objective = True

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 2,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, object]] = (),
        rho: float = 0.05,
        **kwargs: object,
    ) -> None:
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design, **kwargs)
        self.rho = rho
        self._cacheable = False
        self.last_weights = None
