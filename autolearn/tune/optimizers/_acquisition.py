"""Acquisition functions, their maximizer and the BO loop shared by the RF, GP and ParEGO optimizers.

All scores are "higher is better" and all models predict *losses* (lower is better).

The maximizer follows SMAC's "local and sorted random search": score a batch of random
configurations, then hill-climb with one-exchange neighbourhoods from the best observed
configurations and the best random ones. It works on whole arrays (one model call per step for
every restart at once), because the model call, not the Python around it, must dominate the cost.

:class:`ModelBasedOptimizer` is the loop around it (initial design, interleaved random points,
pending trials, target transforms), so a surrogate-based optimizer only supplies its model.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.special import erfcx, ndtr, ndtri
from scipy.stats import rankdata
from threadpoolctl import ThreadpoolController

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._encoding import SpaceEncoder, keys
from autolearn.tune.optimizers.quasi_random import design_vectors

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """EI for minimization: E[max(best - xi - f, 0)] under f ~ N(mu, sigma^2)."""
    sigma = np.maximum(sigma, 1e-12)
    z = (best - xi - mu) / sigma
    return sigma * (z * ndtr(z) + np.exp(-0.5 * z * z - _LOG_SQRT_2PI))


def log_expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """log EI, finite far from the incumbent where EI itself underflows to 0.

    Plain EI is exactly 0 for most candidates once the model is confident, which turns the
    acquisition surface flat and the local search blind (Ament et al. 2023, "Unexpected
    improvements to expected improvement"). With h(z) = phi(z) + z Phi(z), EI = sigma h(z) and
    for z < 0: h(z) = phi(z) (1 - |z| sqrt(pi/2) erfcx(|z|/sqrt 2)), evaluated without cancellation.
    """
    sigma = np.maximum(sigma, 1e-12)
    z = (best - xi - mu) / sigma
    out = np.empty_like(z)
    hi = z > -1.0
    zh = z[hi]
    out[hi] = np.log(zh * ndtr(zh) + np.exp(-0.5 * zh * zh - _LOG_SQRT_2PI))
    lo = ~hi
    zl = z[lo]
    mid = zl > -1e6
    tail = np.empty_like(zl)
    az = -zl[mid]
    tail[mid] = -0.5 * az * az - _LOG_SQRT_2PI + np.log1p(-az * math.sqrt(math.pi / 2) * erfcx(az * _INV_SQRT_2))
    az = -zl[~mid]  # asymptotic h(z) ~ phi(z) / z^2
    tail[~mid] = -0.5 * az * az - _LOG_SQRT_2PI - 2.0 * np.log(az)
    out[lo] = tail
    return out + np.log(sigma)


def lower_confidence_bound(mu: np.ndarray, sigma: np.ndarray, beta: float) -> np.ndarray:
    """UCB for minimization, as a score: -(mu - beta * sigma)."""
    return -(mu - beta * sigma)


Y_TRANSFORMS = ("none", "log", "copula")


def transform_targets(y: np.ndarray, kind: str) -> np.ndarray:
    """Losses as the surrogate should see them (order preserved, so the incumbent stays the minimum).

    * ``"log"``: log(y - min + delta), delta a small fraction of the spread: resolves the region
      near the incumbent when losses span orders of magnitude (SMAC's log-scaled costs).
    * ``"copula"``: normal scores of the ranks, Phi^-1((rank - 1/2) / n): immune to outliers such
      as the worst-value imputed for crashed trials, while keeping the order of all trials.
    """
    if kind == "none" or len(y) < 2:
        return y
    if kind == "log":
        return np.log(y - y.min() + max(1e-3 * float(np.ptp(y)), 1e-12))
    if kind == "copula":
        return ndtri((rankdata(y) - 0.5) / len(y))
    raise ValueError(f"y_transform must be one of {', '.join(Y_TRANSFORMS)}, got {kind!r}")


def make_score(
    predict: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], kind: str, best: float, beta: float = 2.0
) -> Callable[[np.ndarray], np.ndarray]:
    """Turn a model's ``predict(X) -> (mean, std)`` into an acquisition score on the same input."""
    if kind not in ("log_ei", "ei", "ucb"):
        raise ValueError(f"acquisition must be 'log_ei', 'ei' or 'ucb', got {kind!r}")

    def score(X: np.ndarray) -> np.ndarray:
        mu, sd = predict(X)
        if kind == "log_ei":
            return log_expected_improvement(mu, sd, best)
        if kind == "ei":
            return expected_improvement(mu, sd, best)
        return lower_confidence_bound(mu, sd, beta)

    return score


def maximize(
    score: Callable[[np.ndarray], np.ndarray],
    encoder: SpaceEncoder,
    rng: np.random.Generator,
    *,
    starts: np.ndarray | None = None,
    exclude: Iterable[bytes] = (),
    n_random: int = 500,
    n_local: int = 10,
    n_neighbours: int = 20,
    max_steps: int = 12,
) -> np.ndarray:
    """The raw vector with the highest ``score`` found, never one in ``exclude``.

    ``score`` maps raw ConfigSpace vectors (n, d) to (n,) scores. ``starts`` are extra local-search
    seeds (the best observed configurations); the other half of the ``n_local`` seeds are the best
    random candidates. Every step evaluates ``n_neighbours`` one-exchange neighbours of every
    unconverged seed in a single ``score`` call and moves each seed to its best neighbour if that
    improves; a seed stops when none does. ``exclude`` holds :func:`keys` of observed and pending
    points, so parallel workers and re-asks never get a configuration already in flight.
    """
    pool_x = [encoder.sample(n_random, rng)]
    pool_s = [score(pool_x[0])]
    seeds = [pool_x[0][np.argsort(-pool_s[0], kind="stable")[: max(n_local - n_local // 2, 1)]]]
    if starts is not None and len(starts):
        seeds.insert(0, starts[: n_local // 2])
    current = np.vstack(seeds)
    current_s = score(current)
    pool_x.append(current)
    pool_s.append(current_s)
    running = np.ones(len(current), dtype=bool)
    for _ in range(max_steps):
        idx = np.flatnonzero(running)
        if not len(idx):
            break
        N, parent = encoder.neighbours(current[idx], n_neighbours, rng)
        if not len(N):
            break
        s = score(N)
        pool_x.append(N)
        pool_s.append(s)
        best_s = np.full(len(idx), -np.inf)
        best_i = np.zeros(len(idx), dtype=int)
        order = np.lexsort((-s, parent))  # by parent, best score first within each parent
        first = order[np.r_[True, parent[order][1:] != parent[order][:-1]]]
        best_s[parent[first]], best_i[parent[first]] = s[first], first
        better = best_s > current_s[idx] + 1e-12 * np.maximum(1.0, np.abs(current_s[idx]))
        moved = idx[better]
        current[moved] = N[best_i[better]]
        current_s[moved] = best_s[better]
        running[idx[~better]] = False
    X = np.vstack(pool_x)
    S = np.concatenate(pool_s)
    excluded = set(exclude)
    for i in np.argsort(-S, kind="stable"):
        if not np.isfinite(S[i]) and np.isfinite(S).any():
            continue
        if keys(X[i : i + 1])[0] not in excluded:
            return X[i]
    return encoder.sample(1, rng)[0]  # everything scored is taken: a tiny, exhausted space


Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
_controller: ThreadpoolController | None = None


def single_threaded_blas() -> Any:
    """Context limiting BLAS to one thread while a surrogate is fitted and queried.

    The matrices are small (at most a few hundred rows), where BLAS threads cost more in
    synchronisation than they save, and on a machine busy with trial workers they are ruinous:
    a 300x300 Cholesky measured 0.5 ms on one thread and over 200 ms with contended threads.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


class ModelBasedOptimizer(Optimizer):
    """The Bayesian-optimization loop shared by the RF, GP and ParEGO optimizers.

    Subclasses supply the surrogate (:meth:`_surrogate`); this class owns what they must all get
    right the same way: a Sobol initial design (default configuration first) whose points count
    foreign and pending trials too, interleaved random configurations (which keep the model honest
    where it is confidently wrong), pending trials handed to the surrogate for imputation, and the
    acquisition maximization that never returns an observed or pending point.
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        n_initial: int | None = None,
        design: str = "sobol",
        acquisition: str = "log_ei",
        beta: float = 2.0,
        random_fraction: float = 0.2,
        n_candidates: int = 500,
        n_local: int = 10,
        y_transform: str = "none",
    ) -> None:
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        make_score(lambda X: (X, X), acquisition, 0.0)  # validates the name early
        if y_transform not in Y_TRANSFORMS:
            raise ValueError(f"y_transform must be one of {', '.join(Y_TRANSFORMS)}, got {y_transform!r}")
        self.y_transform = y_transform
        if not 0.0 <= random_fraction <= 1.0:
            raise ValueError(f"random_fraction must be in [0, 1], got {random_fraction}")
        self._encoder = SpaceEncoder(space)
        n_tunable = int(self._encoder.tunable.sum())
        self.n_initial = max(5, min(10, n_tunable + 1)) if n_initial is None else n_initial
        self.design = design
        self.acquisition = acquisition
        self.beta = beta
        self.random_fraction = random_fraction
        self.n_candidates = n_candidates
        self.n_local = n_local
        self._design = design_vectors(self._encoder, self.n_initial, design, self.rng, include_default=True)
        self._design_next = 0

    def _targets(self, losses: np.ndarray) -> np.ndarray:
        """What the surrogate models, from the (n, n_objectives) losses: the first objective."""
        return losses[:, 0]

    @abstractmethod
    def _surrogate(self, X: np.ndarray, y: np.ndarray, P: np.ndarray) -> tuple[Predictor, float]:
        """Fit on raw vectors ``X`` with (transformed) targets ``y``, imputing pending raw vectors ``P``.

        Returns ``predict(raw) -> (mean, std)`` and the incumbent value in the same units.
        """

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        with single_threaded_blas():
            return self._propose_model_based(pending)

    def _propose_model_based(self, pending: Sequence[TrialSpec]) -> Suggestion:
        enc = self._encoder
        configs, losses = self.observations()
        if len(configs) + len(pending) < self.n_initial and self._design_next < len(self._design):
            self._design_next += 1
            return Suggestion(enc.decode(self._design[self._design_next - 1])[0], origin="initial")
        explore = self.rng.random() < self.random_fraction
        if len(configs) < 2 or explore or not enc.tunable.any():  # nothing to model in a space of constants
            return Suggestion(enc.decode(enc.sample(1, self.rng))[0], origin="random")
        X = enc.encode(configs)
        P = enc.encode([p.config for p in pending]) if pending else np.empty((0, enc.n_dims))
        y = transform_targets(self._targets(losses), self.y_transform)
        predict, best = self._surrogate(X, y, P)
        score = make_score(predict, self.acquisition, best, self.beta)
        starts = X[np.argsort(y, kind="stable")[: self.n_local]]
        x = maximize(
            score, enc, self.rng, starts=starts, exclude=keys(np.vstack([X, P])),
            n_random=self.n_candidates, n_local=self.n_local,
        )
        return Suggestion(enc.decode(x)[0], origin=self.name)
