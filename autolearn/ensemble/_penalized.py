"""Penalized linear meta-models for stacking, fitted along a regularization path (private to stacking.py).

Both problems minimize the glmnet objective (Friedman, Hastie & Tibshirani 2010)

    mean loss(intercept, u) + lam * (l1_ratio * ||u||_1 + (1 - l1_ratio) / 2 * ||u||_2^2)

over the penalized coefficients ``u`` (intercepts are free), so ``lam`` and ``l1_ratio`` mean the same for
regression and classification and one selection routine (CV or AIC/BIC) serves both. Each problem offers
the same small interface: ``lambda_max``, ``path``, ``subset``, ``mean_loss``, ``deviance`` and ``dof``.

* :class:`SquaredLoss` uses scikit-learn's coordinate descent (``ElasticNet``/``Ridge``), which gives exact
  zeros. A non-negativity constraint on *some* columns only (members yes, passed-through features no) is
  expressed with scikit-learn's all-or-nothing ``positive=True`` by also giving each free column negated:
  ``c = c⁺ - c⁻`` with both non-negative is exactly the unconstrained elastic net on that column.
* :class:`SoftmaxPooling` is a multinomial logistic model with one weight per member shared by all classes
  (see stacking.py for why), solved with L-BFGS-B. The L1 term is made smooth by the same split
  ``u = u⁺ - u⁻`` with bounds ``u± >= 0``; bounds also give non-negative member weights, a constraint
  scikit-learn's ``LogisticRegression`` cannot express. L-BFGS-B's projection puts inactive coefficients
  on the bound, so the lasso's zeros are zeros here too (up to the solver's tolerance: what is left below
  1e-6 on the standardized scale is set to 0). Checked against LogisticRegression in the tests.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Ridge

_RIDGE_PROXY = 1e-3  # l1_ratio used to place lambda_max for a pure ridge path (as glmnet does)
_ZERO = 1e-6  # |coefficient| below this after an L1 fit is solver noise, not a selected member


@dataclass(frozen=True)
class PathPoint:
    """One fitted point of a path: ``intercept`` (1,) or (C,), ``coef`` on the standardized columns."""

    lam: float
    l1_ratio: float
    intercept: np.ndarray
    coef: np.ndarray


def _shrinkage_dof(eigenvalues: np.ndarray, ridge: float) -> float:
    """Effective degrees of freedom tr(H (H + ridge I)^-1) from the eigenvalues of H; equals the number of
    (identifiable) active coefficients for the lasso (Zou, Hastie & Tibshirani 2007)."""
    ev = np.clip(eigenvalues, 0.0, None)
    keep = ev > 1e-10 * max(float(ev.max(initial=0.0)), 1e-300)
    return float(np.sum(ev[keep] / (ev[keep] + ridge)))


class SquaredLoss:
    """Least squares on columns ``X`` (already standardized) with per-column non-negativity ``nonneg``."""

    def __init__(self, X: np.ndarray, y: np.ndarray, nonneg: np.ndarray, n_members: int) -> None:
        self.X, self.y, self.nonneg = X, np.asarray(y, dtype=np.float64), np.asarray(nonneg, dtype=bool)
        self.n, self.p = X.shape
        self.K = n_members  # the first K columns are members, the rest passed-through features

    def subset(self, rows: np.ndarray) -> SquaredLoss:
        return SquaredLoss(self.X[rows], self.y[rows], self.nonneg, self.K)

    def select(self, members: np.ndarray) -> SquaredLoss:
        """The same problem over some members only (passed-through columns kept)."""
        columns = np.r_[members, np.arange(self.K, self.p)].astype(np.intp)
        return SquaredLoss(self.X[:, columns], self.y, self.nonneg[columns], len(members))

    def lambda_max(self, l1_ratio: float) -> float:
        """The smallest penalty with all coefficients zero (for ridge: with the l1_ratio proxy)."""
        gradient = (self.X - self.X.mean(0)).T @ (self.y - self.y.mean()) / self.n
        return max(float(np.abs(gradient).max(initial=0.0)), 1e-12) / max(l1_ratio, _RIDGE_PROXY)

    def path(self, lambdas: np.ndarray, l1_ratio: float) -> list[PathPoint]:
        constrained = bool(self.nonneg.any())
        free = np.flatnonzero(~self.nonneg)
        design = np.hstack([self.X, -self.X[:, free]]) if constrained and len(free) else self.X
        points = []
        if l1_ratio > 0:
            model = ElasticNet(l1_ratio=l1_ratio, positive=constrained, warm_start=True, max_iter=10_000, tol=1e-7)
        for lam in lambdas:
            if l1_ratio > 0:
                model.set_params(alpha=float(lam))
            else:  # Ridge minimizes ||r||^2 + alpha ||c||^2, i.e. our objective with alpha = n * lam
                model = Ridge(alpha=float(lam) * self.n, positive=constrained)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # tiny penalties on collinear members
                model.fit(design, self.y)
            coef = np.array(model.coef_[: self.p], dtype=np.float64)
            if design is not self.X:
                coef[free] -= model.coef_[self.p:]
            points.append(PathPoint(float(lam), l1_ratio, np.array([float(model.intercept_)]), coef))
        return points

    def predict(self, point: PathPoint) -> np.ndarray:
        return self.X @ point.coef + point.intercept[0]

    def mean_loss(self, point: PathPoint) -> float:
        return float(np.mean((self.y - self.predict(point)) ** 2))

    def deviance(self, point: PathPoint) -> float:
        """-2 log-likelihood up to a constant, with the noise variance profiled out: n log(RSS / n)."""
        return self.n * float(np.log(max(self.mean_loss(point), 1e-300)))

    def dof(self, point: PathPoint) -> float:
        """Effective degrees of freedom of the penalized coefficients (the intercept not counted)."""
        active = np.flatnonzero(point.coef)
        if len(active) == 0:
            return 0.0
        centered = self.X[:, active] - self.X[:, active].mean(0)
        singular = np.linalg.svd(centered, compute_uv=False)
        return _shrinkage_dof(singular**2, self.n * point.lam * (1 - point.l1_ratio))


class SoftmaxPooling:
    """``logits_c = b_c + sum_k w_k F[k, :, c] + sum_j V[c, j] x_j``, cross-entropy loss.

    ``F`` (K, n, C) are per-member features (standardized log-probabilities), ``Xp`` (n, d) standardized
    passed-through columns. ``b_0 = 0`` fixes the intercepts' free level; a binary problem has one row of
    ``V`` (for class 1), a multiclass one has C rows, as scikit-learn's LogisticRegression.
    ``coef`` of a :class:`PathPoint` is ``[w (K), V.ravel()]``.
    """

    def __init__(self, F: np.ndarray, Xp: np.ndarray, y: np.ndarray, nonneg: bool) -> None:
        self.F, self.Xp, self.y, self.nonneg = F, Xp, np.asarray(y, dtype=np.intp), nonneg
        self.K, self.n, self.C = F.shape
        self.d = Xp.shape[1]
        self.rows = [1] if self.C == 2 else list(range(self.C))  # classes with passthrough coefficients
        self.P = self.K + len(self.rows) * self.d
        self._F2 = F.reshape(self.K, self.n * self.C)

    def subset(self, rows: np.ndarray) -> SoftmaxPooling:
        return SoftmaxPooling(self.F[:, rows], self.Xp[rows], self.y[rows], self.nonneg)

    def select(self, members: np.ndarray) -> SoftmaxPooling:
        """The same problem over some members only (passed-through columns kept)."""
        return SoftmaxPooling(self.F[members], self.Xp, self.y, self.nonneg)

    # -- model -----------------------------------------------------------------------------------
    def logits(self, intercept: np.ndarray, coef: np.ndarray) -> np.ndarray:
        z = (coef[: self.K] @ self._F2).reshape(self.n, self.C) + intercept
        if self.d:
            z[:, self.rows] += self.Xp @ coef[self.K:].reshape(len(self.rows), self.d).T
        return z

    def _loss_grad(self, intercept: np.ndarray, coef: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        z = self.logits(intercept, coef)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        total = e.sum(axis=1)
        rows = np.arange(self.n)
        loss = float(np.mean(np.log(total) - z[rows, self.y]))
        residual = e / total[:, None]
        residual[rows, self.y] -= 1.0
        residual /= self.n
        grad_w = self._F2 @ residual.ravel()
        grad_v = (residual[:, self.rows].T @ self.Xp).ravel()
        return loss, residual.sum(axis=0), np.concatenate([grad_w, grad_v])

    def _start(self) -> np.ndarray:
        counts = np.bincount(self.y, minlength=self.C) + 0.5
        intercept = np.log(counts) - np.log(counts[0])
        return np.concatenate([intercept, np.zeros(self.P)])

    # -- path ------------------------------------------------------------------------------------
    def lambda_max(self, l1_ratio: float) -> float:
        start = self._start()
        _, _, grad = self._loss_grad(start[: self.C], start[self.C:])
        return max(float(np.abs(grad).max(initial=0.0)), 1e-12) / max(l1_ratio, _RIDGE_PROXY)

    def path(self, lambdas: np.ndarray, l1_ratio: float) -> list[PathPoint]:
        split = l1_ratio > 0
        C, P, K = self.C, self.P, self.K
        free: list[tuple[float | None, float | None]] = [(None, None)]
        member = (0.0, None) if self.nonneg else (None, None)
        if split:  # u = u+ - u-; u- of a non-negative member is pinned at 0
            minus = (0.0, 0.0) if self.nonneg else (0.0, None)
            bounds = [(0.0, 0.0)] + free * (C - 1) + [(0.0, None)] * P + [minus] * K + [(0.0, None)] * (P - K)
        else:
            bounds = [(0.0, 0.0)] + free * (C - 1) + [member] * K + free * (P - K)
        start = self._start()
        theta = np.concatenate([start, np.zeros(P)]) if split else start
        points = []
        for lam in lambdas:
            result = minimize(self._objective, theta, args=(float(lam), l1_ratio, split), jac=True,
                              method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-8})
            theta = result.x
            coef = theta[C: C + P] - theta[C + P:] if split else theta[C:].copy()
            if split:  # what L-BFGS-B leaves of a zero at its tolerance (units: standardized features)
                coef[np.abs(coef) < _ZERO] = 0.0
            points.append(PathPoint(float(lam), l1_ratio, theta[:C].copy(), coef))
        return points

    def _objective(self, theta: np.ndarray, lam: float, l1_ratio: float, split: bool) -> tuple[float, np.ndarray]:
        C, P = self.C, self.P
        coef = theta[C: C + P] - theta[C + P:] if split else theta[C:]
        loss, grad_b, grad_u = self._loss_grad(theta[:C], coef)
        ridge = lam * (1 - l1_ratio)
        value = loss + 0.5 * ridge * float(coef @ coef)
        grad_u = grad_u + ridge * coef
        if not split:
            return value, np.concatenate([grad_b, grad_u])
        lasso = lam * l1_ratio
        value += lasso * float(theta[C:].sum())
        return value, np.concatenate([grad_b, grad_u + lasso, -grad_u + lasso])

    # -- assessment ------------------------------------------------------------------------------
    def proba(self, point: PathPoint) -> np.ndarray:
        z = self.logits(point.intercept, point.coef)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def mean_loss(self, point: PathPoint) -> float:
        p = self.proba(point)[np.arange(self.n), self.y]
        return float(-np.mean(np.log(np.clip(p, 1e-300, None))))

    def deviance(self, point: PathPoint) -> float:
        return 2.0 * self.n * self.mean_loss(point)

    def dof(self, point: PathPoint) -> float:
        """tr(H (H + ridge I)^-1) over the active coefficients, H the Hessian of the mean cross-entropy
        (intercepts not profiled out: a slight over-count, the same for every point of a path)."""
        active = np.flatnonzero(point.coef)
        if len(active) == 0:
            return 0.0
        proba = self.proba(point)
        hessian = np.zeros((len(active), len(active)))
        chunk = max(1, 2_000_000 // (self.C * len(active)))
        for start in range(0, self.n, chunk):
            rows = slice(start, min(start + chunk, self.n))
            jac = self._jacobian(active, rows)  # (m, C, A): d logits / d coef
            p = proba[rows]
            flat = jac.reshape(-1, len(active))
            mixed = np.einsum("mca,mc->ma", jac, p)
            hessian += flat.T @ (flat * p.reshape(-1, 1)) - mixed.T @ mixed
        hessian /= self.n
        return _shrinkage_dof(np.linalg.eigvalsh(hessian), point.lam * (1 - point.l1_ratio))

    def _jacobian(self, active: np.ndarray, rows: slice) -> np.ndarray:
        m = len(range(self.n)[rows])
        jac = np.zeros((m, self.C, len(active)))
        for col, index in enumerate(active):
            if index < self.K:
                jac[:, :, col] = self.F[index, rows]
            else:
                r, j = divmod(int(index) - self.K, self.d)
                jac[:, self.rows[r], col] = self.Xp[rows, j]
        return jac
