"""Multivariate Tree-structured Parzen Estimator (Bergstra et al. 2011; Falkner et al. 2018).

Why multivariate and grouped (as Optuna's ``multivariate=True, group=True``): independent
per-hyperparameter densities cannot express "a small learning rate *with* many trees"; one joint
kernel per observation can. Conditional spaces are split into groups of hyperparameters that are
always active together (the root group, then one group per branch); each group gets its own
good/bad split over the trials where it was active and its own joint density, so inactive values
are never imputed and never act as noise.

Densities live in the encoder's unit cube: floats and integers get truncated-normal kernels (log
scales are already applied by ConfigSpace, integer bins have equal width), ordinals too (they have
an order), categoricals get Optuna's smoothed categorical kernel. Each kernel mixture includes a
wide prior component so the density never collapses on a few points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.special import ndtr, ndtri

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._encoding import CAT, SpaceEncoder, keys
from autolearn.tune.optimizers.quasi_random import design_vectors

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def default_gamma(n: int) -> int:
    """Number of "good" trials: 10% of them, at most 25 (Optuna's default)."""
    return min(math.ceil(0.1 * n), 25)


def sqrt_gamma(n: int) -> int:
    """Hyperopt's rule, 0.25 sqrt(n) capped at 25: greedier on long runs."""
    return min(math.ceil(0.25 * math.sqrt(n)), 25)


def default_weights(n: int) -> np.ndarray:
    """Observation weights oldest-first: the 25 most recent count fully, older ones ramp down."""
    if n < 25:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, n - 25), np.ones(25)])


class _Parzen:
    """A weighted mixture of product kernels over one group's unit-cube values (plus a prior)."""

    def __init__(
        self,
        obs: np.ndarray,
        weights: np.ndarray,
        is_cat: np.ndarray,
        n_choices: np.ndarray,
        prior_weight: float,
        bandwidth: str,
        magic_clip: bool,
    ) -> None:
        n, k = obs.shape
        self.is_cat, self.n_choices = is_cat, n_choices
        w = np.append(weights, prior_weight) if n else np.ones(1)
        self.log_w = np.log(w / w.sum())
        num = ~is_cat
        mus = obs[:, num]
        if bandwidth == "scott":  # one bandwidth per dimension, shrinking with n (Optuna's multivariate rule)
            sig = np.full_like(mus, 0.2 * max(n, 1) ** (-1.0 / (k + 4)))
        else:  # "neighbor": distance to the nearer neighbour (Optuna's univariate rule)
            sig = _neighbor_sigmas(mus)
        min_sig = 1.0 / min(100.0, 1.0 + n + 1) if magic_clip else 1e-12
        sig = np.clip(sig, min_sig, 1.0)
        self.mu = np.vstack([mus, np.full((1, mus.shape[1]), 0.5)]) if n else np.full((1, mus.shape[1]), 0.5)
        self.sigma = np.vstack([sig, np.ones((1, mus.shape[1]))]) if n else np.ones((1, mus.shape[1]))
        a, b = -self.mu / self.sigma, (1.0 - self.mu) / self.sigma
        self.cdf_a, self.cdf_b = ndtr(a), ndtr(b)
        self.log_norm = np.log(np.maximum(self.cdf_b - self.cdf_a, 1e-300)) + np.log(self.sigma) + _LOG_SQRT_2PI
        # categorical kernels: mass 1 on the observed value, prior_weight / (n + 1) smoothing everywhere
        self.cat_logp: list[np.ndarray] = []
        for c in np.flatnonzero(is_cat):
            m = int(n_choices[c])
            p = np.full((n + 1, m), prior_weight / (n + 1))
            if n:
                p[np.arange(n), np.minimum((obs[:, c] * m).astype(int), m - 1)] += 1.0
            p[-1] = 1.0  # the prior component is uniform
            self.cat_logp.append(np.log(p / p.sum(axis=1, keepdims=True)))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        comp = rng.choice(len(self.log_w), size=size, p=np.exp(self.log_w))
        out = np.empty((size, len(self.is_cat)))
        num = np.flatnonzero(~self.is_cat)
        if len(num):
            lo, hi = self.cdf_a[comp], self.cdf_b[comp]
            u = lo + rng.random((size, len(num))) * (hi - lo)
            x = self.mu[comp] + self.sigma[comp] * ndtri(np.clip(u, 1e-300, 1 - 1e-16))
            out[:, num] = np.clip(x, 0.0, 1.0)
        for i, c in enumerate(np.flatnonzero(self.is_cat)):
            p = np.exp(self.cat_logp[i][comp])
            idx = (p.cumsum(axis=1) < rng.random((size, 1))).sum(axis=1)
            m = self.n_choices[c]
            out[:, c] = (np.minimum(idx, m - 1) + 0.5) / m
        return out

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        num = ~self.is_cat
        z = (X[:, None, num] - self.mu[None]) / self.sigma[None]
        ll = (-0.5 * z * z - self.log_norm[None]).sum(axis=2)  # (samples, components)
        for i, c in enumerate(np.flatnonzero(self.is_cat)):
            m = self.n_choices[c]
            idx = np.minimum((X[:, c] * m).astype(int), int(m) - 1)
            ll = ll + self.cat_logp[i][:, idx].T
        ll += self.log_w[None]
        top = ll.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(ll - top).sum(axis=1, keepdims=True)))[:, 0]


def _neighbor_sigmas(mus: np.ndarray) -> np.ndarray:
    out = np.empty_like(mus)
    for j in range(mus.shape[1]):
        order = np.argsort(mus[:, j])
        s = np.concatenate([[0.0], mus[order, j], [1.0]])
        out[order, j] = np.maximum(s[1:-1] - s[:-2], s[2:] - s[1:-1])
    return out


class TPE(Optimizer):
    """Multivariate, group-decomposed TPE with a Sobol start and constant-liar parallelism.

    Parameters
    ----------
    n_startup_trials : trials (own design points, queued or foreign ones all count) before the
        model is used; 10 as in Optuna, lower it (e.g. 5) for budgets under ~40 trials.
    startup : design for those trials: "sobol", "lhs", "halton" or "random"; the default
        configuration comes first.
    n_ei_candidates : samples drawn from the good density per group, the best l/g ratio wins.
    gamma : ``n -> number of good trials``; :func:`default_gamma` (10%, at most 25) or :func:`sqrt_gamma`.
    weights : ``n -> observation weights`` oldest first (:func:`default_weights`).
    prior_weight : weight of the uniform-ish prior kernel relative to one observation.
    bandwidth : "scott" (0.2 n^(-1/(k+4)) per dimension, Optuna's multivariate rule) or "neighbor".
    magic_clip : floor the bandwidths at 1/min(100, n + 2) of the range (Bergstra's "magic clip").
    constant_liar : count pending trials as bad, so parallel workers get pushed apart.
    """

    name = "tpe"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        n_startup_trials: int = 10,
        startup: str = "sobol",
        n_ei_candidates: int = 24,
        gamma: Callable[[int], int] = default_gamma,
        weights: Callable[[int], np.ndarray] = default_weights,
        prior_weight: float = 1.0,
        bandwidth: str = "scott",
        magic_clip: bool = True,
        constant_liar: bool = True,
    ) -> None:
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        if bandwidth not in ("scott", "neighbor"):
            raise ValueError(f"bandwidth must be 'scott' or 'neighbor', got {bandwidth!r}")
        if prior_weight <= 0:
            raise ValueError(f"prior_weight must be positive, got {prior_weight}")
        self.n_startup_trials = n_startup_trials
        self.startup = startup
        self.n_ei_candidates = n_ei_candidates
        self.gamma = gamma
        self.weights = weights
        self.prior_weight = prior_weight
        self.bandwidth = bandwidth
        self.magic_clip = magic_clip
        self.constant_liar = constant_liar
        self._encoder = SpaceEncoder(space)
        self._design = design_vectors(self._encoder, n_startup_trials, startup, self.rng, include_default=True)
        self._design_next = 0

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        enc = self._encoder
        configs, losses = self.observations()
        if len(configs) + len(pending) < self.n_startup_trials and self._design_next < len(self._design):
            self._design_next += 1
            return Suggestion(enc.decode(self._design[self._design_next - 1])[0], origin="initial")
        if len(configs) < 2:
            return Suggestion(enc.decode(enc.sample(1, self.rng))[0], origin="random")
        raw = enc.encode(configs)
        raw_pending = enc.encode([p.config for p in pending])
        busy = set(keys(np.vstack([raw, raw_pending])))
        X = enc.to_unit(raw)
        P = enc.to_unit(raw_pending) if pending and self.constant_liar else None
        y = losses[:, 0]
        for _ in range(4):  # redraw on a forbidden or duplicate point, then give up to random
            U = np.full((1, enc.n_dims), 0.5)
            for group in enc.groups:
                cols = group[enc.tunable[group]]
                if len(cols):
                    U[0, cols] = self._sample_group(X, y, P, cols)
            x = enc.deactivate(enc.from_unit(U))
            if not (enc.forbiddens and enc.forbidden(x)[0]) and keys(x)[0] not in busy:
                return Suggestion(enc.decode(x)[0], origin=self.name)
        return Suggestion(enc.decode(enc.sample(1, self.rng))[0], origin="random")

    def _sample_group(self, X: np.ndarray, y: np.ndarray, P: np.ndarray | None, cols: np.ndarray) -> np.ndarray:
        """Unit-cube values for one group: best of ``n_ei_candidates`` draws from l by log l - log g."""
        enc = self._encoder
        on = ~np.isnan(X[:, cols[0]])
        Xg, yg = X[on][:, cols], y[on]
        if len(yg) < 2:  # the branch was (almost) never tried: explore it uniformly
            return self.rng.random(len(cols))
        n_good = max(1, min(self.gamma(len(yg)), len(yg) - 1))
        rank = np.argsort(yg, kind="stable")
        good = np.sort(rank[:n_good])  # keep time order for the age weights
        bad = np.sort(rank[n_good:])
        Xbad = Xg[bad]
        w_bad = self.weights(len(bad))
        if P is not None:
            Pg = P[~np.isnan(P[:, cols[0]])][:, cols]
            Xbad = np.vstack([Xbad, Pg])  # pending trials are liars with a bad loss, and the newest
            w_bad = self.weights(len(Xbad))
        is_cat = enc.kind[cols] == CAT
        n_choices = enc.size[cols]
        args = (is_cat, n_choices, self.prior_weight, self.bandwidth, self.magic_clip)
        below = _Parzen(Xg[good], self.weights(len(good)), *args)
        above = _Parzen(Xbad, w_bad, *args)
        cand = below.sample(self.rng, self.n_ei_candidates)
        cand = self._snap(cand, cols)
        score = below.log_pdf(cand) - above.log_pdf(cand)
        return cand[int(np.argmax(score))]

    def _snap(self, U: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Move samples to the unit-cube point of the value they decode to (bin centres)."""
        enc = self._encoder
        full = np.full((len(U), enc.n_dims), 0.5)
        full[:, cols] = U
        return enc.to_unit(enc.from_unit(full))[:, cols]
