"""Bayesian optimization with a Gaussian-process surrogate (Matérn-5/2, ARD, fitted hyperparameters).

Why our own small GP instead of sklearn's GaussianProcessRegressor: we need (a) one lengthscale per
*hyperparameter* while a categorical spans several one-hot columns, (b) priors on the kernel
hyperparameters, which keep the marginal-likelihood fit sane with 10-30 points, (c) warm-started,
occasional refits and "fantasy" updates for pending trials without refitting, so that an ask stays
cheap at a few hundred trials. All of that is ~150 lines of NumPy/SciPy.

Inputs are the encoder's GP features: unit-interval numbers, one-hot categoricals, and for
conditional spaces an activity indicator per condition group with inactive values parked at 0.5.
Lengthscales get a log-normal prior with median 0.5 (half the unit range, one e-fold either way).
The dimension-scaled prior of Hvarfner et al. (2024, median ~ sqrt(D)) was tried and rejected:
with 5-10 hyperparameters and 50 trials it declared weak-but-real effects irrelevant (lengthscale
~60) and then spent trials on the boundaries of the "irrelevant" dimension, losing to random search
on a mixed space where this prior finds the optimum in every seed. Losses are standardized.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.linalg import LinAlgError, cho_factor, cho_solve, solve_triangular
from scipy.optimize import minimize

from autolearn.tune.optimizers._acquisition import ModelBasedOptimizer, Predictor

_SQRT5 = math.sqrt(5.0)


def _matern52(r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k(r)/sf2 and the factor M with dk/dlog(l_g) = sf2 * M * S_g / l_g^2."""
    r = np.sqrt(np.maximum(r2, 0.0))
    e = np.exp(-_SQRT5 * r)
    return (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * e, (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e


class GaussianProcess:
    """Exact GP regression on standardized targets with grouped ARD lengthscales.

    ``scale_index[c]`` names the lengthscale of feature column ``c``; hyperparameters are
    ``theta = [log l_1..l_G, log signal variance, log noise variance]``.
    """

    def __init__(self, scale_index: np.ndarray, n_scales: int) -> None:
        self.scale_index = scale_index
        self.n_scales = n_scales
        self.ls_mu = math.log(0.5)  # log-normal lengthscale prior: median half the unit range
        self.ls_sd = 1.0
        self.bounds = [(-4.6, 6.0)] * n_scales + [(-3.0, 3.0), (math.log(1e-6), 0.0)]
        self.theta = np.concatenate([np.full(n_scales, self.ls_mu), [0.0, -4.0]])

    # -- hyperparameters ---------------------------------------------------------------------------
    def _prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        mu = np.concatenate([np.full(self.n_scales, self.ls_mu), [0.0, -4.0]])
        sd = np.concatenate([np.full(self.n_scales, self.ls_sd), [1.0, 1.0]])
        z = (theta - mu) / sd
        return 0.5 * float(z @ z), z / sd

    def _nll(self, theta: np.ndarray, S: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        G, n = self.n_scales, len(y)
        inv_l2 = np.exp(-2.0 * theta[:G])
        sf2, sn2 = math.exp(theta[G]), math.exp(theta[G + 1])
        base, M = _matern52(np.tensordot(inv_l2, S, axes=1))
        K = sf2 * base
        K[np.diag_indices(n)] += sn2 + 1e-8
        try:
            L = cho_factor(K, lower=True, check_finite=False)
        except LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = cho_solve(L, y, check_finite=False)
        nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(L[0])).sum()) + 0.5 * n * math.log(2 * math.pi)
        W = np.outer(alpha, alpha) - cho_solve(L, np.eye(n), check_finite=False)
        grad = np.empty_like(theta)
        grad[:G] = -0.5 * sf2 * np.tensordot(S, W * M, axes=([1, 2], [0, 1])) * inv_l2
        grad[G] = -0.5 * sf2 * float((W * base).sum())
        grad[G + 1] = -0.5 * sn2 * float(np.trace(W))
        p, dp = self._prior(theta)
        return nll + p, grad + dp

    def fit_hyperparameters(self, F: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_starts: int = 8,
                            maxiter: int = 50) -> None:
        """MAP kernel hyperparameters: score the previous fit, the prior mean and ``n_starts`` prior
        draws, then run L-BFGS-B from the best (one optimization, many cheap evaluations)."""
        cols = [F[:, self.scale_index == g] for g in range(self.n_scales)]
        S = np.stack([((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2) for c in cols])
        prior_mean = np.concatenate([np.full(self.n_scales, self.ls_mu), [0.0, -4.0]])
        draws = prior_mean + rng.normal(size=(n_starts, len(prior_mean))) * np.concatenate(
            [np.full(self.n_scales, self.ls_sd), [1.0, 1.0]]
        )
        lo, hi = np.array(self.bounds).T
        starts = np.clip(np.vstack([self.theta, prior_mean, draws]), lo, hi)
        start = min(starts, key=lambda t: self._nll(t, S, y)[0])
        res = minimize(self._nll, start, args=(S, y), jac=True, method="L-BFGS-B", bounds=self.bounds,
                       options={"maxiter": maxiter})
        if np.all(np.isfinite(res.x)) and res.fun < 1e10:
            self.theta = res.x

    # -- posterior ---------------------------------------------------------------------------------
    def condition(self, F: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """Factorize K for the current hyperparameters (cheap: no optimization)."""
        G = self.n_scales
        self._scale = np.exp(-self.theta[:G])[self.scale_index]
        self._sf2, sn2 = math.exp(self.theta[G]), math.exp(self.theta[G + 1])
        self._Xs = F * self._scale
        K = self._sf2 * _matern52(_sqdist(self._Xs, self._Xs))[0]
        jitter = 1e-8
        while True:
            K[np.diag_indices(len(y))] += sn2 + jitter
            try:
                self._L = cho_factor(K, lower=True, check_finite=False)[0]
                break
            except LinAlgError:
                K[np.diag_indices(len(y))] -= sn2 + jitter
                jitter *= 10
        self._alpha = cho_solve((self._L, True), y, check_finite=False)
        return self

    def predict(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function."""
        Ks = self._sf2 * _matern52(_sqdist(F * self._scale, self._Xs))[0]
        mu = Ks @ self._alpha
        v = solve_triangular(self._L, Ks.T, lower=True, check_finite=False)
        var = np.maximum(self._sf2 - (v * v).sum(axis=0), 1e-12)
        return mu, np.sqrt(var)


def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0)


class GaussianProcessBO(ModelBasedOptimizer):
    """GP-based BO: Matérn-5/2 ARD GP, log-EI (or UCB), random + local-search acquisition maximization.

    Parameters
    ----------
    n_initial, design, random_fraction, n_candidates, n_local : as :class:`RandomForestBO`
        (``random_fraction`` defaults to 0.05 here: the GP's own uncertainty already explores).
    acquisition : "log_ei" (default), "ei" or "ucb" with width ``beta``.
    y_transform : "none" (default), "log" or "copula", see :func:`transform_targets`; standardization
        follows in every case.
    max_data : the GP sees at most this many trials: the best half and the most recent ones,
        which keeps an ask cheap (the cost is cubic in the data) and the model focused.
    max_fit_data : at most this many of those are used to fit the kernel hyperparameters.
    refit_every : refit the hyperparameters when the data grew by this fraction since the last fit
        (every new trial while n < 1 / refit_every); in between only the factorization is updated.
    """

    name = "gp"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, object]] = (),
        n_initial: int | None = None,
        design: str = "sobol",
        acquisition: str = "log_ei",
        beta: float = 2.0,
        random_fraction: float = 0.05,
        n_candidates: int = 500,
        n_local: int = 10,
        y_transform: str = "none",
        max_data: int = 300,
        max_fit_data: int = 150,
        refit_every: float = 0.05,
    ) -> None:
        super().__init__(
            space, n_objectives=n_objectives, seed=seed, initial_design=initial_design, n_initial=n_initial,
            design=design, acquisition=acquisition, beta=beta, random_fraction=random_fraction,
            n_candidates=n_candidates, n_local=n_local, y_transform=y_transform,
        )
        self.max_data = max_data
        self.max_fit_data = max_fit_data
        self.refit_every = refit_every
        n_cols, scale_index = self._encoder.gp_layout()
        self._gp = GaussianProcess(scale_index, int(scale_index.max()) + 1 if n_cols else 0)
        self._fitted_at = 0

    def _select(self, y: np.ndarray, limit: int) -> np.ndarray:
        """Indices of at most ``limit`` trials: the best half, then the most recent."""
        if len(y) <= limit:
            return np.arange(len(y))
        best = np.argsort(y, kind="stable")[: limit // 2]
        rest = np.setdiff1d(np.arange(len(y)), best)[-(limit - len(best)):]
        return np.sort(np.concatenate([best, rest]))

    def _surrogate(self, X: np.ndarray, y: np.ndarray, P: np.ndarray) -> tuple[Predictor, float]:
        enc, gp = self._encoder, self._gp
        keep = self._select(y, self.max_data)
        X, y = X[keep], y[keep]
        mean, std = float(y.mean()), float(y.std()) or 1.0
        yn = (y - mean) / std
        F = enc.gp_features(X)
        n = len(self.history)
        if self._fitted_at == 0 or n - self._fitted_at >= max(1.0, self.refit_every * n):
            fit = self._select(yn, self.max_fit_data)
            gp.fit_hyperparameters(F[fit], yn[fit], self.rng)
            self._fitted_at = n
        gp.condition(F, yn)
        if len(P):  # kriging believer: pending points "return" the posterior mean, shrinking variance there
            Fp = enc.gp_features(P)
            F, yn = np.vstack([F, Fp]), np.concatenate([yn, gp.predict(Fp)[0]])
            gp.condition(F, yn)

        def predict(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return gp.predict(enc.gp_features(Z))

        return predict, float(yn[: len(keep)].min())
