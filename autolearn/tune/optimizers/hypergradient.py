"""Hyperparameter gradient descent: Adam steps on the numeric hyperparameters, from the best point.

When the objective can differentiate its validation loss with respect to its hyperparameters
(ridge and L2-logistic regression can, exactly, by implicit differentiation; see
:func:`ridge_objective` and :func:`logistic_objective`), one trial gives both a loss and a
direction, and a handful of trials reach an optimum that grid or random search would need
hundreds for. The objective reports it as ``Outcome.info["gradient"]``: a dict

    {name: d loss / d natural coordinate}

where the *natural coordinate* of a hyperparameter is its value, or the natural log of its value
when it is log-scaled (``log=True``). So a float ``"alpha"`` on a log scale reports
``d loss / d ln(alpha)``, and a linear float ``"log_alpha"`` reports ``d loss / d log_alpha``.
Hyperparameters missing from the dict get a zero gradient (they stay where they are). The optimizer
itself works in ConfigSpace's unit-cube encoding and converts.

Without gradients it falls back to finite differences by simultaneous perturbation (SPSA, Spall 1992):
two trials at ``x + c*delta`` and ``x - c*delta`` with random signs ``delta`` estimate the whole gradient,
whatever the dimension, so it works on any space with numeric hyperparameters. Spare workers get
extra perturbation pairs at the same point (averaged), so parallel asks are not wasted.

Each step starts from the best point of the current descent: a step that makes the loss worse is
taken back and retried with half the learning rate (a backtracking line search along the Adam
direction). When the step becomes negligible the descent restarts at a random configuration, which
is also how categorical and conditional hyperparameters change: a descent holds them fixed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from ConfigSpace.hyperparameters import IntegerHyperparameter

from autolearn.records import Outcome, Status, Suggestion, TrialResult, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._mutation import (
    ConfigOperators,
    SeenKeys,
    first_new,
    from_unit,
    is_numeric,
    natural_span,
    to_unit,
)

__all__ = ["HypergradientDescent", "LogisticObjective", "RidgeObjective", "logistic_objective", "ridge_objective"]


@dataclass
class _Descent:
    """One local descent: the fixed part of the configuration and Adam's state on the numeric part."""

    base: dict[str, Any]
    names: list[str]
    lr: float
    best_x: np.ndarray | None = None
    best_loss: float = math.inf
    best_grad: np.ndarray | None = None
    m: np.ndarray | None = None
    v: np.ndarray | None = None
    t: int = 0


@dataclass
class _Probe:
    """The trials that give a loss and a gradient at ``x``: the point itself, or SPSA pairs."""

    x: np.ndarray
    kind: str  # "point" or "pairs"
    known_loss: float | None = None
    points: list[dict[str, Any]] = field(default_factory=list)  # config, key, x, asked, result

    def add(self, config: dict[str, Any], x: np.ndarray, result: TrialResult | None = None) -> None:
        self.points.append({"config": config, "key": spaces.config_key(config), "x": x,
                            "asked": result is not None, "result": result})

    @property
    def complete(self) -> bool:
        return all(p["result"] is not None for p in self.points)


class HypergradientDescent(Optimizer):
    """Gradient descent on hyperparameters, with exact gradients when the objective reports them.

    Parameters
    ----------
    learning_rate : float, default 0.1
        Adam step size in the unit cube (Adam's first steps move each coordinate by about this much).
    beta1, beta2 : float, default 0.9, 0.999
        Adam's moment decays.
    fd_step : float, default 0.03
        SPSA perturbation in the unit cube (at least one integer step for integers).
    min_learning_rate : float, default 1e-4
        A descent whose (halved) learning rate falls below this has converged: restart.
    max_pairs : int, default 4
        SPSA pairs per step at most; more than one only when workers ask while a step is pending.
    gradient_key : str, default "gradient"
        Where in ``TrialResult.info`` the objective's gradient is.
    """

    name = "hypergradient"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        learning_rate: float = 0.1,
        beta1: float = 0.9,
        beta2: float = 0.999,
        fd_step: float = 0.03,
        min_learning_rate: float = 1e-4,
        max_pairs: int = 4,
        gradient_key: str = "gradient",
    ) -> None:
        if not 0 < fd_step < 0.5:
            raise ValueError(f"fd_step must be in (0, 0.5), got {fd_step}")
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        self.learning_rate, self.beta1, self.beta2 = learning_rate, beta1, beta2
        self.fd_step, self.min_learning_rate = fd_step, min_learning_rate
        self.max_pairs, self.gradient_key = max(1, max_pairs), gradient_key
        self.n_restarts = 0
        self._ops = ConfigOperators(space)
        self._seen = SeenKeys()
        self._told: dict[str, TrialResult] = {}
        self._has_gradients: bool | None = None  # unknown until a result of our own says
        self._descent: _Descent | None = None
        self._probe: _Probe | None = None

    # -- encoding of the current descent ----------------------------------------------------------
    def _decode(self, x: np.ndarray) -> dict[str, Any]:
        d = self._descent
        assert d is not None
        config = dict(d.base)
        config.update({n: from_unit(self._ops.hps[n], float(u)) for n, u in zip(d.names, x)})
        return self._ops.repair(config, self.rng)  # numeric parents may switch children on or off

    def _gradient(self, result: TrialResult) -> np.ndarray | None:
        grad = result.info.get(self.gradient_key) if result.info else None
        if not isinstance(grad, Mapping) or not grad:
            return None
        d = self._descent
        assert d is not None
        return np.array([float(grad.get(n, 0.0)) * natural_span(self._ops.hps[n]) for n in d.names])

    # -- ask -------------------------------------------------------------------------------------
    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        if self._descent is None:
            self._begin(first=True)
        pending_keys = {spaces.config_key(s.config) for s in pending}
        for _ in range(100):
            self._advance()  # a probe may be complete already (its points evaluated before)
            probe = self._probe
            assert probe is not None
            for point in probe.points:
                lost = point["asked"] and point["result"] is None and point["key"] not in pending_keys
                if not point["asked"] or lost:  # lost: asked, never told, no longer pending
                    point["asked"] = True
                    return Suggestion(point["config"], origin=self.name)
            # everything asked: a spare worker gets another SPSA pair at the same point, if one is left
            if probe.kind != "pairs" or len(probe.points) >= 2 * self.max_pairs or not self._add_pair(probe):
                break
        return None  # the next step needs the results of the pending ones

    # -- tell ------------------------------------------------------------------------------------
    def _observe(self, spec: TrialSpec, result: TrialResult) -> None:
        key = spaces.config_key(spec.config)
        if result.status is not Status.CANCELLED:
            self._told[key] = result
        probe = self._probe
        if probe is None:
            return
        for point in probe.points:
            if point["key"] == key and point["result"] is None:
                if result.status is Status.CANCELLED:
                    point["asked"] = False  # ask it again
                else:
                    point["result"] = result
                    if result.ok:  # whether *this* objective differentiates decides how to probe
                        self._has_gradients = self._gradient_present(result)
                break
        self._advance()

    def _gradient_present(self, result: TrialResult) -> bool:
        grad = result.info.get(self.gradient_key) if result.info else None
        return isinstance(grad, Mapping) and bool(grad)

    def _advance(self) -> None:
        """Complete probes (several in a row when their points were already evaluated)."""
        for _ in range(1000):
            probe = self._probe
            if probe is None or not probe.complete:
                return
            self._probe = None
            self._complete(probe)

    def _complete(self, probe: _Probe) -> None:
        results = [p["result"] for p in probe.points]
        if not self._descent or not self._descent.names:  # nothing numeric to descend on
            self._begin()
            return
        if probe.kind == "point":
            result = results[0]
            grad = self._gradient(result)
            if grad is None and math.isfinite(result.loss):
                self._new_probe(probe.x, kind="pairs", known_loss=result.loss)  # same point, estimate the gradient
                return
            self._step(probe.x, result.loss, grad)
            return
        losses = np.array([r.loss for r in results])
        if not np.isfinite(losses).all():
            self._step(probe.x, math.inf, None)
            return
        loss = probe.known_loss if probe.known_loss is not None else float(losses.mean())
        grads = [self._gradient(r) for r in results]
        if all(g is not None for g in grads):  # the objective differentiates; average its gradients
            self._step(probe.x, loss, np.mean(grads, axis=0))
            return
        estimates = []
        for plus, minus in zip(probe.points[::2], probe.points[1::2]):
            diff = plus["x"] - minus["x"]
            estimates.append((plus["result"].loss - minus["result"].loss) / np.where(diff == 0, np.inf, diff))
        self._step(probe.x, loss, np.mean(estimates, axis=0))

    # -- the descent -----------------------------------------------------------------------------
    def _step(self, x: np.ndarray, loss: float, grad: np.ndarray | None) -> None:
        d = self._descent
        assert d is not None
        if loss < d.best_loss and grad is not None and np.isfinite(grad).all():
            d.best_x, d.best_loss, d.best_grad = x, loss, grad
            d.t += 1
            d.m = self.beta1 * d.m + (1 - self.beta1) * grad
            d.v = self.beta2 * d.v + (1 - self.beta2) * grad**2
        elif d.best_grad is not None:
            # back to the best point with half the step; drop the momentum, which pointed the wrong
            # way, so the retry follows the (Adam-scaled) gradient at the best point: a descent direction
            d.lr *= 0.5
            d.m = d.best_grad * (1 - self.beta1**d.t)
        if d.best_x is None or not d.names:
            self._begin()
            return
        m_hat = d.m / (1 - self.beta1**d.t)
        v_hat = d.v / (1 - self.beta2**d.t)
        direction = m_hat / (np.sqrt(v_hat) + 1e-12)
        seen = self._seen(self.history, [])
        while d.lr >= self.min_learning_rate:
            new_x = np.clip(d.best_x - d.lr * direction, 0.0, 1.0)
            config = self._decode(new_x)
            moved = np.abs(new_x - d.best_x).max() > 1e-9
            if moved and spaces.config_key(config) not in seen and self._ops.valid(config):
                self._new_probe(new_x)
                return
            d.lr *= 0.5  # rounded back onto a known point, or against a bound: shorter step
        self._begin()  # converged

    def _begin(self, first: bool = False) -> None:
        """Start a descent: at the best result so far on the first call, at a random point later."""
        config = None
        if first:
            configs, losses = self.observations()
            config = dict(configs[int(np.argmin(losses[:, 0]))]) if len(configs) else spaces.default_config(self.space)
            config = self._ops.repair(config, self.rng)
        else:
            self.n_restarts += 1
            seen = self._seen(self.history, [])
            random = lambda: self.sample_random(1)[0]  # noqa: E731
            config = first_new(random, seen, random, valid=self._ops.valid)
        names = [n for n in self._ops.order if n in config and is_numeric(self._ops.hps[n])]
        self._descent = _Descent(config, names, self.learning_rate, m=np.zeros(len(names)), v=np.zeros(len(names)))
        x = np.array([to_unit(self._ops.hps[n], config[n]) for n in names])
        known = self._told.get(spaces.config_key(config))
        if known is not None and not names and first:  # the best so far has nothing to descend on
            self._begin()
            return
        if known is None or not names:
            self._new_probe(x, kind="point", config=config)
        elif self._gradient(known) is not None:
            probe = _Probe(x, "point")
            probe.add(config, x, known)
            self._probe = probe
        else:
            self._new_probe(x, kind="pairs", known_loss=known.loss)

    def _new_probe(self, x: np.ndarray, kind: str | None = None, known_loss: float | None = None,
                   config: dict[str, Any] | None = None) -> None:
        kind = kind or ("pairs" if self._has_gradients is False else "point")
        probe = _Probe(x, kind, known_loss)
        if kind == "point":
            probe.add(config if config is not None else self._decode(x), x)
        else:
            self._add_pair(probe)
        self._probe = probe

    def _add_pair(self, probe: _Probe) -> bool:
        """Add an SPSA pair not already in the probe (False when none is left: tiny dimension)."""
        d = self._descent
        assert d is not None
        hps = [self._ops.hps[n] for n in d.names]
        steps = np.array([max(self.fd_step, 1.0 / (hp.upper - hp.lower)) if isinstance(hp, IntegerHyperparameter)
                          else self.fd_step for hp in hps])
        # probes reach no farther than a step, so near convergence the evaluated points close in too
        steps = np.minimum(steps, max(d.lr, 1e-4))
        taken = {p["key"] for p in probe.points}
        for _ in range(10):
            delta = self.rng.choice([-1.0, 1.0], size=len(d.names)) * steps
            xs = (np.clip(probe.x + delta, 0.0, 1.0), np.clip(probe.x - delta, 0.0, 1.0))
            configs = [self._decode(x) for x in xs]
            keys = {spaces.config_key(c) for c in configs}
            if not probe.points or not keys & taken:
                for x, config in zip(xs, configs):
                    probe.add(config, x, self._told.get(spaces.config_key(config)))  # reuse a known result
                return True
        return False


# -- objectives with exact hypergradients ----------------------------------------------------------
_blas_controller: Any = None


def _single_threaded_blas() -> Any:
    """A context with BLAS on one thread: tiny fits (L-BFGS on a few features) run many times slower
    when OpenBLAS spreads them over cores that other work keeps busy."""
    global _blas_controller
    if _blas_controller is None:
        import scipy.optimize  # noqa: F401 - load scipy's BLAS before the controller looks for libraries
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


def _config_of(trial: Any) -> Mapping[str, Any]:
    """Runners call objectives with a TrialSpec; the test helpers and users with a plain dict."""
    return trial.config if hasattr(trial, "config") else trial


class RidgeObjective:
    """Validation mean squared error of ridge regression against ``log_alpha`` (alpha = e**log_alpha).

    The weights solve (X'X + alpha I) w = X'y on centered training data (an unpenalized intercept), so
    dw/dalpha = -(X'X + alpha I)^-1 w and, with validation residuals r,
    dL/dalpha = -(2/n_val) (X_val' r)' (X'X + alpha I)^-1 w; the reported gradient is
    dL/dlog_alpha = alpha dL/dalpha. One eigendecomposition of X'X serves every alpha.
    """

    def __init__(self, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                 bounds: tuple[float, float] = (-10.0, 10.0)) -> None:
        X, y = np.asarray(X_train, dtype=float), np.asarray(y_train, dtype=float).ravel()
        self.x_mean, self.y_mean = X.mean(axis=0), y.mean()
        Xc = X - self.x_mean
        self.eigenvalues, self.Q = np.linalg.eigh(Xc.T @ Xc)
        self.Qt_Xty = self.Q.T @ (Xc.T @ (y - self.y_mean))
        self.X_val = np.asarray(X_val, dtype=float) - self.x_mean
        self.y_val = np.asarray(y_val, dtype=float).ravel()
        self.space = {"log_alpha": ("float", float(bounds[0]), float(bounds[1]))}

    def loss_and_gradient(self, log_alpha: float) -> tuple[float, float]:
        alpha = math.exp(log_alpha)
        inv = 1.0 / (self.eigenvalues + alpha)
        w = self.Q @ (inv * self.Qt_Xty)
        r = self.X_val @ w + self.y_mean - self.y_val
        loss = float(np.mean(r**2))
        a_inv_w = self.Q @ (inv * (self.Q.T @ w))
        grad_alpha = -2.0 / len(r) * float((self.X_val.T @ r) @ a_inv_w)
        return loss, alpha * grad_alpha

    def __call__(self, trial: Any) -> Outcome:
        loss, grad = self.loss_and_gradient(float(_config_of(trial)["log_alpha"]))
        return Outcome(values=(loss,), info={"gradient": {"log_alpha": grad}})


class LogisticObjective:
    """Validation log loss of L2 logistic regression against ``log_C`` (C = e**log_C, sklearn's C).

    Training minimizes F = mean log loss + ||w||^2 / (2 C n) (the intercept unpenalized), by L-BFGS
    then Newton steps, so the optimum is exact to machine precision, which the implicit function
    theorem needs: at the optimum grad F = 0, hence dtheta/dlog_C = H^-1 [w; 0] / (C n) with H the
    Hessian of F, and dL/dlog_C = grad L_val' dtheta/dlog_C.
    """

    def __init__(self, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                 bounds: tuple[float, float] = (-10.0, 10.0)) -> None:
        classes = np.unique(np.asarray(y_train))
        if len(classes) != 2:
            raise ValueError(f"logistic_objective needs binary targets, got {len(classes)} classes")
        self.X = np.column_stack([np.asarray(X_train, dtype=float), np.ones(len(X_train))])
        self.y = (np.asarray(y_train) == classes[1]).astype(float)
        self.X_val = np.column_stack([np.asarray(X_val, dtype=float), np.ones(len(X_val))])
        self.y_val = (np.asarray(y_val) == classes[1]).astype(float)
        self.penalized = np.r_[np.ones(self.X.shape[1] - 1), 0.0]
        self.space = {"log_C": ("float", float(bounds[0]), float(bounds[1]))}

    def _fit(self, C: float) -> tuple[np.ndarray, np.ndarray]:
        from scipy.optimize import minimize
        from scipy.special import expit

        n, lam = len(self.y), 1.0 / (C * len(self.y))

        def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
            z = self.X @ theta
            loss = np.mean(np.logaddexp(0.0, z) - self.y * z) + 0.5 * lam * np.sum(self.penalized * theta**2)
            return float(loss), self.X.T @ (expit(z) - self.y) / n + lam * self.penalized * theta

        theta = minimize(f, np.zeros(self.X.shape[1]), jac=True, method="L-BFGS-B",
                         options={"maxiter": 10_000, "gtol": 1e-10, "ftol": 1e-15}).x
        for _ in range(3):  # Newton polish: L-BFGS stops near the optimum, implicit gradients need it exact
            p = expit(self.X @ theta)
            hessian = (self.X.T * (p * (1 - p))) @ self.X / n + lam * np.diag(self.penalized)
            theta = theta - np.linalg.solve(hessian, f(theta)[1])
        p = expit(self.X @ theta)
        hessian = (self.X.T * (p * (1 - p))) @ self.X / n + lam * np.diag(self.penalized)
        return theta, hessian

    def loss_and_gradient(self, log_C: float) -> tuple[float, float]:
        from scipy.special import expit

        C = math.exp(log_C)
        with _single_threaded_blas():
            theta, hessian = self._fit(C)
        z = self.X_val @ theta
        loss = float(np.mean(np.logaddexp(0.0, z) - self.y_val * z))
        grad_theta = self.X_val.T @ (expit(z) - self.y_val) / len(z)
        dtheta = np.linalg.solve(hessian, self.penalized * theta / (C * len(self.y)))
        return loss, float(grad_theta @ dtheta)

    def __call__(self, trial: Any) -> Outcome:
        loss, grad = self.loss_and_gradient(float(_config_of(trial)["log_C"]))
        return Outcome(values=(loss,), info={"gradient": {"log_C": grad}})


def ridge_objective(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                    bounds: tuple[float, float] = (-10.0, 10.0)) -> RidgeObjective:
    """An objective for the space ``objective.space`` = ``{"log_alpha": ("float", *bounds)}`` returning
    the validation MSE of ridge regression and its exact gradient in ``info["gradient"]``."""
    return RidgeObjective(X_train, y_train, X_val, y_val, bounds)


def logistic_objective(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                       bounds: tuple[float, float] = (-10.0, 10.0)) -> LogisticObjective:
    """An objective for the space ``objective.space`` = ``{"log_C": ("float", *bounds)}`` returning the
    validation log loss of L2 logistic regression and its exact gradient in ``info["gradient"]``."""
    return LogisticObjective(X_train, y_train, X_val, y_val, bounds)
