"""Bayesian optimization with a random-forest surrogate, as in SMAC (Hutter et al. 2011).

Why a forest: it needs no kernel for categoricals or conditions (inactive hyperparameters become
-1, a value one split isolates), it is insensitive to the scale of losses and of hyperparameters,
and it fits in milliseconds. Its uncertainty is the spread of the individual trees' predictions
("tree variance"): wide where bootstrap samples disagree, i.e. away from the data.

The forest is small (10 trees, as SMAC's default) and refit only when new results arrive; pending
trials are imputed with the forest's own mean (the "kriging believer"), which makes their
neighbourhood look already explored, and they are never proposed twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from ConfigSpace import ConfigurationSpace
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

from autolearn.tune.optimizers._acquisition import ModelBasedOptimizer, Predictor, transform_targets


class TreeEnsemble:
    """A fitted sklearn forest that predicts the mean and spread of its trees' outputs.

    Predictions go straight to each tree's Cython structure (``tree_.apply``) on float32 input,
    skipping sklearn's per-call validation, which dominates the cost for small batches.
    """

    def __init__(self, forest: RandomForestRegressor | ExtraTreesRegressor) -> None:
        self.trees = [(est.tree_, est.tree_.value[:, 0, 0]) for est in forest.estimators_]

    def predict(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        F = np.ascontiguousarray(F, dtype=np.float32)
        P = np.stack([value[tree.apply(F)] for tree, value in self.trees])
        return P.mean(axis=0), P.std(axis=0)


def fit_forest(
    F: np.ndarray,
    y: np.ndarray,
    *,
    n_trees: int,
    min_samples_leaf: int,
    max_features: float,
    extra_trees: bool,
    seed: int,
) -> TreeEnsemble:
    """Bootstrapped trees, one thread: the data is small and process pools cost more than the fit."""
    cls = ExtraTreesRegressor if extra_trees else RandomForestRegressor
    forest = cls(
        n_estimators=n_trees,
        bootstrap=True,
        min_samples_split=2 * min_samples_leaf,
        min_samples_leaf=min_samples_leaf,
        max_features=max_features,
        random_state=seed,
        n_jobs=None,
    )
    forest.fit(F, y)
    return TreeEnsemble(forest)


class RandomForestBO(ModelBasedOptimizer):
    """SMAC-style BO: random-forest surrogate, log-EI, local search plus random candidates.

    Parameters
    ----------
    n_initial : Sobol design size (default configuration included); ``None`` means
        ``clip(n_hyperparameters + 1, 5, 10)``. Foreign and queued trials count towards it.
    design : "sobol", "lhs", "halton" or "random" initial design.
    n_trees, min_samples_leaf, max_features : forest shape (SMAC: 10 trees, 5/6 of the features);
        ``extra_trees=True`` uses randomized split points (smoother surface, faster fit).
    log_y : model log(loss - min + eps): sharpens the model near the optimum when losses span
        orders of magnitude (runtimes), as SMAC's algorithm-configuration facade does.
    acquisition : "log_ei" (default; EI that does not underflow), "ei" or "ucb" (``beta`` sets the
        width of the bound).
    random_fraction : probability that an ask returns a uniformly random configuration (SMAC: 0.2).
    n_candidates, n_local : random candidates scored per ask and local-search restarts.
    """

    name = "rf"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, object]] = (),
        n_initial: int | None = None,
        design: str = "sobol",
        n_trees: int = 10,
        min_samples_leaf: int = 3,
        max_features: float = 5 / 6,
        extra_trees: bool = False,
        y_transform: str = "none",
        acquisition: str = "log_ei",
        beta: float = 2.0,
        random_fraction: float = 0.2,
        n_candidates: int = 500,
        n_local: int = 10,
    ) -> None:
        super().__init__(
            space, n_objectives=n_objectives, seed=seed, initial_design=initial_design, n_initial=n_initial,
            design=design, acquisition=acquisition, beta=beta, random_fraction=random_fraction,
            n_candidates=n_candidates, n_local=n_local,
        )
        self.n_trees = n_trees
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.extra_trees = extra_trees
        self.y_transform = y_transform
        self._cacheable = True  # False when targets change between asks (ParEGO)
        self._cached: tuple[int, TreeEnsemble] | None = None

    def _fit(self, F: np.ndarray, y: np.ndarray) -> TreeEnsemble:
        return fit_forest(
            F, y, n_trees=self.n_trees, min_samples_leaf=self.min_samples_leaf, max_features=self.max_features,
            extra_trees=self.extra_trees, seed=int(self.rng.integers(2**31 - 1)),
        )

    def _surrogate(self, X: np.ndarray, y: np.ndarray, P: np.ndarray) -> tuple[Predictor, float]:
        enc = self._encoder
        y = transform_targets(y, self.y_transform)
        F = enc.tree_features(X)
        if self._cacheable and self._cached is not None and self._cached[0] == len(self.history):
            forest = self._cached[1]
        else:
            forest = self._fit(F, y)
            self._cached = (len(self.history), forest)
        if len(P):  # kriging believer: pending trials "return" what the forest expects of them
            Fp = enc.tree_features(P)
            forest = self._fit(np.vstack([F, Fp]), np.concatenate([y, forest.predict(Fp)[0]]))
        floor = 1e-9 * max(float(np.ptp(y)), 1e-12)

        def predict(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mu, sd = forest.predict(enc.tree_features(Z))
            return mu, np.maximum(sd, floor)

        return predict, float(y.min())
