"""CMA-ES (Hansen's (mu/mu_w, lambda) evolution strategy) with IPOP restarts, for numeric spaces.

It searches ConfigSpace's normalized vector: every float or integer hyperparameter mapped to [0, 1]
(log-scaled where ``log=True``), so one covariance adapts to a learning rate and a depth alike.
Integers are rounded when decoded; the search keeps the continuous point. Samples outside the
cube are redrawn (up to 20 times, then clipped), which keeps the sampling distribution intact
far better than clipping everything.

Asynchronous tells: each proposal belongs to the generation current when it was asked (pending
trials count toward it). As soon as ``popsize`` results of the current generation are in, the
distribution is updated; results that arrive later for an older generation are kept in the
history but do not move the distribution. So ``ask`` never waits, and with more workers than
``popsize`` a generation is simply oversampled. Failed trials rank last.

Restarts (a run ends when the step size collapses, the loss stagnates or the covariance becomes
ill-conditioned) start from a random point with a doubled population ("IPOP", Auger & Hansen
2005), which turns a local method into a global one on multimodal losses.

Categorical or conditional hyperparameters have no place in a covariance matrix: construction
raises a ValueError naming them and pointing to 'tpe' or 'evolution'.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from autolearn.records import Status, Suggestion, TrialResult, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._mutation import ConfigOperators, SeenKeys, continuous_names, from_unit, to_unit


class _Strategy:
    """One CMA-ES run: mean, step size, covariance and evolution paths (Hansen's 2016 tutorial)."""

    def __init__(self, mean: np.ndarray, sigma: float, popsize: int) -> None:
        n = len(mean)
        self.n, self.mean, self.sigma, self.popsize = n, mean.copy(), sigma, popsize
        self.mu = popsize // 2
        w = math.log((popsize + 1) / 2) - np.log(np.arange(1, self.mu + 1))
        self.weights = w / w.sum()
        self.mu_eff = 1.0 / float(np.sum(self.weights**2))
        self.c_sigma = (self.mu_eff + 2) / (n + self.mu_eff + 5)
        self.d_sigma = 1 + 2 * max(0.0, math.sqrt((self.mu_eff - 1) / (n + 1)) - 1) + self.c_sigma
        self.c_c = (4 + self.mu_eff / n) / (n + 4 + 2 * self.mu_eff / n)
        self.c_1 = 2 / ((n + 1.3) ** 2 + self.mu_eff)
        self.c_mu = min(1 - self.c_1, 2 * (self.mu_eff - 2 + 1 / self.mu_eff) / ((n + 2) ** 2 + self.mu_eff))
        self.chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
        self.p_sigma = np.zeros(n)
        self.p_c = np.zeros(n)
        self.C = np.eye(n)
        self.B = np.eye(n)
        self.D = np.ones(n)
        self.generations = 0
        self.best_history: list[float] = []

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(20):
            x = self.mean + self.sigma * (self.B @ (self.D * rng.standard_normal(self.n)))
            if np.all((x >= 0.0) & (x <= 1.0)):
                return x
        return np.clip(x, 0.0, 1.0)

    def update(self, xs: np.ndarray, losses: np.ndarray) -> None:
        """One generation: ``xs`` (popsize, n) with their losses (inf for failures)."""
        order = np.argsort(losses, kind="stable")[: self.mu]
        y = (xs[order] - self.mean) / self.sigma
        y_w = self.weights @ y
        self.mean = self.mean + self.sigma * y_w
        c_inv_sqrt = self.B @ np.diag(1 / self.D) @ self.B.T
        self.p_sigma = (1 - self.c_sigma) * self.p_sigma + math.sqrt(
            self.c_sigma * (2 - self.c_sigma) * self.mu_eff) * (c_inv_sqrt @ y_w)
        self.generations += 1
        norm_ps = float(np.linalg.norm(self.p_sigma))
        h_sigma = norm_ps / math.sqrt(1 - (1 - self.c_sigma) ** (2 * self.generations)) < (
            1.4 + 2 / (self.n + 1)) * self.chi_n
        self.p_c = (1 - self.c_c) * self.p_c + h_sigma * math.sqrt(self.c_c * (2 - self.c_c) * self.mu_eff) * y_w
        rank_mu = (y.T * self.weights) @ y
        self.C = ((1 - self.c_1 - self.c_mu + (1 - h_sigma) * self.c_1 * self.c_c * (2 - self.c_c)) * self.C
                  + self.c_1 * np.outer(self.p_c, self.p_c) + self.c_mu * rank_mu)
        self.sigma *= math.exp(min(1.0, (self.c_sigma / self.d_sigma) * (norm_ps / self.chi_n - 1)))
        self.C = (self.C + self.C.T) / 2
        eigenvalues, self.B = np.linalg.eigh(self.C)
        self.D = np.sqrt(np.maximum(eigenvalues, 1e-20))
        finite = losses[np.isfinite(losses)]
        self.best_history.append(float(finite.min()) if finite.size else math.inf)

    def should_restart(self, losses: np.ndarray, tol_x: float, tol_fun: float) -> bool:
        """Hansen's termination criteria that matter in a bounded, low-budget search."""
        if self.sigma * float(self.D.max()) < tol_x:  # TolX: steps below any meaningful resolution
            return True
        if self.D.max() / self.D.min() > 1e7:  # ConditionCov (1e14 on C)
            return True
        finite = losses[np.isfinite(losses)]
        if finite.size == len(losses) and np.ptp(finite) <= tol_fun:  # flat fitness (also rounding plateaus)
            recent = self.best_history[-10:]
            if len(recent) >= 2 and np.ptp(recent) <= tol_fun:
                return True
        stall = 10 + math.ceil(30 * self.n / self.popsize)  # TolStagnation
        hist = self.best_history
        return len(hist) > stall and min(hist[-stall:]) >= min(hist[:-stall])


class CMAES(Optimizer):
    """CMA-ES with optional IPOP restarts on the unit-cube encoding of a numeric space.

    Parameters
    ----------
    sigma0 : float, default 0.3
        Initial step size in the unit cube (a third of each range: wide enough to see the space).
    popsize : int or None, default None
        Offspring per generation (lambda); None means Hansen's 4 + floor(3 ln n).
    restart : {"ipop", "restart", None}, default "ipop"
        After a run ends: restart with the population multiplied by ``inc_popsize`` ("ipop"), with the
        same population ("restart"), or keep sampling the converged distribution (None).
    inc_popsize : float, default 2.0
        Population growth per IPOP restart.
    tol_x, tol_fun : float
        Termination thresholds on the step size (unit-cube units) and on loss differences.

    The first run starts at the best configuration told before the first proposal (a warm start), or
    else at the space's default configuration.
    """

    name = "cmaes"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        sigma0: float = 0.3,
        popsize: int | None = None,
        restart: str | None = "ipop",
        inc_popsize: float = 2.0,
        tol_x: float = 1e-8,
        tol_fun: float = 1e-12,
    ) -> None:
        self.names = continuous_names(space, "cmaes")  # raises before anything else is set up
        if restart not in ("ipop", "restart", None):
            raise ValueError(f"restart must be 'ipop', 'restart' or None, got {restart!r}")
        if not sigma0 > 0:
            raise ValueError(f"sigma0 must be positive, got {sigma0}")
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        self.sigma0, self.restart, self.inc_popsize = sigma0, restart, inc_popsize
        self.tol_x, self.tol_fun = tol_x, tol_fun
        n = len(self.names)
        self.popsize = popsize if popsize is not None else 4 + int(3 * math.log(n))
        if self.popsize < 2:
            raise ValueError(f"popsize must be at least 2, got {self.popsize}")
        self.n_restarts = 0
        self._hps = [space[name] for name in self.names]
        self._constants = {name: spaces.plain(hp.default_value) for name, hp in space.items() if name not in self.names}
        self._ops = ConfigOperators(space)
        self._seen = SeenKeys()
        self._strategy: _Strategy | None = None
        self._generation = 0  # global counter across restarts, tags every proposal
        self._issued: dict[str, tuple[int, np.ndarray]] = {}
        self._results: list[tuple[np.ndarray, float]] = []

    @property
    def generation(self) -> int:
        """Distribution updates so far (across restarts)."""
        return self._generation

    # -- encoding --------------------------------------------------------------------------------
    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        return np.array([to_unit(hp, config[hp.name]) for hp in self._hps])

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        config = dict(self._constants)
        config.update({hp.name: from_unit(hp, float(u)) for hp, u in zip(self._hps, x)})
        return config

    # -- ask / tell ------------------------------------------------------------------------------
    def _start(self) -> _Strategy:
        configs, losses = self.observations()
        if self._strategy is None and len(configs):
            mean = self.encode(configs[int(np.argmin(losses[:, 0]))])
        elif self._strategy is None:
            mean = self.encode(spaces.default_config(self.space))
        else:
            mean = self.rng.random(len(self.names))
        return _Strategy(mean, self.sigma0, self.popsize)

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        if self._strategy is None:
            self._strategy = self._start()
        seen = self._seen(self.history, pending)
        for _ in range(20):  # integer rounding can repeat a point; redraw, then accept a repeat
            x = self._strategy.sample(self.rng)
            config = self.decode(x)
            key = spaces.config_key(config)
            if key not in seen and self._ops.valid(config):
                break
        if not self._ops.valid(config):  # forbidden clauses everywhere we looked: a valid random point
            config = self.sample_random(1)[0]
            x, key = self.encode(config), spaces.config_key(config)
        self._issued[key] = (self._generation, x)
        return Suggestion(config, origin=self.name)

    def _observe(self, spec: TrialSpec, result: TrialResult) -> None:
        issued = self._issued.pop(spaces.config_key(spec.config), None)
        if issued is None or result.status is Status.CANCELLED:
            return  # foreign or cancelled: in the history (warm start), not in a generation
        generation, x = issued
        if generation != self._generation or self._strategy is None:
            return  # a straggler from a generation already updated
        self._results.append((x, result.loss))
        if len(self._results) >= self._strategy.popsize:
            self._update()

    def _update(self) -> None:
        strategy = self._strategy
        assert strategy is not None
        batch = self._results[: strategy.popsize]
        xs = np.array([x for x, _ in batch])
        losses = np.array([loss for _, loss in batch])
        self._results = []
        self._generation += 1
        if not np.isfinite(losses).any():  # the whole generation failed: nothing to rank, look elsewhere
            self._restart()
            return
        strategy.update(xs, losses)
        if self.restart is not None and strategy.should_restart(losses, self.tol_x, self.tol_fun):
            self._restart()

    def _restart(self) -> None:
        self.n_restarts += 1
        if self.restart == "ipop":
            self.popsize = int(math.ceil(self.popsize * self.inc_popsize))
        self._strategy = self._start()
