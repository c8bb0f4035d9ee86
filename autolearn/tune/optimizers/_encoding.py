"""Configurations <-> numeric arrays, shared by the model-based optimizers.

Every model here starts from ConfigSpace's own vector form (``Configuration.get_array()``): one
column per hyperparameter in the space's (topological) order, floats and integers in [0, 1] with
log scales already applied, categoricals and ordinals as their index, NaN where a hyperparameter is
inactive. On top of it this module gives each model what it needs:

* a *unit cube* in which uniform sampling means uniform over values (integer and categorical bins
  of equal width), used by the Sobol/LHS designs and TPE's kernels;
* tree features (inactive -> -1, a value no active hyperparameter takes, so a split separates them)
  and GP features (one-hot categoricals, inactive -> a constant plus an activity indicator per
  condition, so "inactive" is never confused with a real value);
* vectorized activity (conditions) and forbidden checks, and one-exchange neighbours, so that
  acquisition maximizers score thousands of candidates without building a Configuration each.

Everything works on whole arrays: a Python loop over Configurations would cost more than the
surrogate models themselves at a few hundred trials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.hyperparameters import (
    CategoricalHyperparameter,
    FloatHyperparameter,
    IntegerHyperparameter,
    OrdinalHyperparameter,
)

from autolearn.tune import space as spaces

FLOAT, INT, CAT, ORD, CONST = range(5)
INACTIVE_TREE = -1.0  # below every real vector value, so one split isolates inactive rows
INACTIVE_GP = 0.5  # centre of the unit interval: the indicator column carries the difference


class SpaceEncoder:
    """Array view of one ConfigurationSpace (build once per optimizer, reuse on every ask)."""

    def __init__(self, space: ConfigurationSpace) -> None:
        self.space = space
        self.names: list[str] = list(space.keys())
        self.hps = list(space.values())
        d = len(self.hps)
        self.n_dims = d
        self.kind = np.empty(d, dtype=int)
        self.size = np.ones(d)  # number of values (inf for floats)
        self.log = np.zeros(d, dtype=bool)
        for j, hp in enumerate(self.hps):
            self.size[j] = float(hp.size)
            if hp.size == 1:
                self.kind[j] = CONST
            elif isinstance(hp, CategoricalHyperparameter):
                self.kind[j] = CAT
            elif isinstance(hp, OrdinalHyperparameter):
                self.kind[j] = ORD
            elif isinstance(hp, IntegerHyperparameter):
                self.kind[j] = INT
                self.log[j] = bool(getattr(hp, "log", False))
            elif isinstance(hp, FloatHyperparameter):
                self.kind[j] = FLOAT
            else:  # pragma: no cover - every ConfigSpace 1.x type is covered above
                raise TypeError(f"unsupported hyperparameter type {type(hp).__name__} for {hp.name!r}")
        self.tunable = self.kind != CONST
        # per-column masks and constants, so the unit-cube maps are whole-array operations
        self._is_float = self.kind == FLOAT
        self._is_lin_int = (self.kind == INT) & ~self.log
        self._is_log_int = (self.kind == INT) & self.log
        self._is_index = (self.kind == CAT) | (self.kind == ORD)
        self._is_const = self.kind == CONST
        self._n_values = np.where(np.isfinite(self.size), self.size, 2.0)
        self._lower = np.array([float(getattr(hp, "lower", 1.0)) if self.log[j] else 1.0
                                for j, hp in enumerate(self.hps)])
        self._upper = np.array([float(getattr(hp, "upper", 2.0)) if self.log[j] else 2.0
                                for j, hp in enumerate(self.hps)])
        self._log_lo, self._log_hi = np.log(self._lower), np.log(self._upper)
        self.default = space.get_default_configuration().get_array().copy()
        # every hyperparameter's default, active or not (what a newly activated child starts from)
        self.default_full = np.array([hp.to_vector(hp.default_value) for hp in self.hps], dtype=float)
        # Conditions grouped by ConfigSpace itself: children that share an equivalent parent
        # condition, shallow conditions first, so evaluating them in order handles nesting.
        self.conditions: list[tuple[Any, np.ndarray]] = [
            (node.condition, np.asarray(node.children_indices, dtype=np.intp))
            for node in space._dag.minimum_conditions
        ]
        self.forbiddens = list(space.forbidden_clauses)
        self.groups: list[np.ndarray] = self._activity_groups()
        self._build_gp_layout()
        self._cache: dict[int, tuple[Mapping[str, Any], np.ndarray]] = {}

    def _activity_groups(self) -> list[np.ndarray]:
        """Hyperparameters that are always active together; the first group is always active.

        TPE models each group jointly and the GP gives each conditional group one activity
        indicator. ConfigSpace groups children by *equivalent* conditions only, so
        ``InCondition(k, model, ["knn"])`` and ``EqualsCondition(w, model, "knn")`` land apart;
        merging groups whose activity agrees on a fixed random sample puts them back together.
        """
        conditional = {int(i) for _, children in self.conditions for i in children}
        root = [j for j in range(self.n_dims) if j not in conditional]
        if not self.conditions:
            return [np.asarray(root, dtype=np.intp)]
        X = self.deactivate(self.from_unit(np.random.default_rng(0).random((512, self.n_dims))))
        merged: dict[bytes, list[int]] = {}
        for _, children in self.conditions:
            for j in children:
                merged.setdefault(np.isnan(X[:, j]).tobytes(), []).append(int(j))
        groups = [sorted(root)] + sorted(sorted(g) for g in merged.values())
        return [np.asarray(g, dtype=np.intp) for g in groups]

    # -- configurations <-> raw ConfigSpace vectors ------------------------------------------------
    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Raw vectors (n, d), NaN for inactive.

        Cached by object identity (the cache keeps the object, so an id is never reused): told
        configurations never change, and hashing 500 dicts per ask would cost more than the model.
        """
        out = np.empty((len(configs), self.n_dims))
        for i, config in enumerate(configs):
            entry = self._cache.get(id(config))
            if entry is None or entry[0] is not config:
                entry = (config, Configuration(self.space, values=dict(config)).get_array().copy())
                self._cache[id(config)] = entry
            out[i] = entry[1]
        return out

    def decode(self, X: np.ndarray) -> list[dict[str, Any]]:
        """Valid configurations (plain dicts of active values) for canonical raw vectors."""
        X = self.canonical(np.atleast_2d(X))
        return [spaces.to_dict(Configuration(self.space, vector=row)) for row in X]

    # -- the unit cube ------------------------------------------------------------------------------
    def from_unit(self, U: np.ndarray) -> np.ndarray:
        """Map points of [0, 1]^d to canonical raw vectors with every hyperparameter set.

        Integer and categorical bins get equal width, so a uniform (or Sobol) point gives every
        value the same chance; call :meth:`deactivate` afterwards to apply conditions.
        """
        U = np.clip(np.asarray(U, dtype=float), 0.0, 1.0)
        n = self._n_values
        with np.errstate(invalid="ignore", divide="ignore"):
            index = np.minimum(np.floor(U * n), n - 1)
            X = np.where(self._is_float, U, np.nan)
            X = np.where(self._is_lin_int, index / (n - 1), X)
            X = np.where(self._is_log_int, self._snap_log_int(U), X)
            X = np.where(self._is_index, index, X)
        return np.where(self._is_const, self.default_full, X)

    def to_unit(self, X: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`from_unit` (bin centres for discrete values); NaN stays NaN."""
        X = np.asarray(X, dtype=float)
        n = self._n_values
        with np.errstate(invalid="ignore", divide="ignore"):
            U = np.where(self._is_lin_int, (np.round(X * (n - 1)) + 0.5) / n, X)
            U = np.where(self._is_index, (X + 0.5) / n, U)
            return np.where(self._is_const, np.where(np.isnan(X), np.nan, 0.5), U)

    def canonical(self, X: np.ndarray) -> np.ndarray:
        """Snap discrete columns to legal vector values (NaN kept)."""
        X = np.asarray(X, dtype=float)
        n = self._n_values
        C = np.clip(X, 0.0, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(self._is_lin_int, np.round(C * (n - 1)) / (n - 1), C)
            out = np.where(self._is_log_int, self._snap_log_int(C), out)
            out = np.where(self._is_index, np.clip(np.round(X), 0, n - 1), out)
            return np.where(self._is_const, np.where(np.isnan(X), np.nan, self.default_full), out)

    def canonical_column(self, j: int, col: np.ndarray) -> np.ndarray:
        """:meth:`canonical` for the values of one hyperparameter."""
        X = np.full((len(col), self.n_dims), np.nan)
        X[:, j] = col
        return self.canonical(X)[:, j]

    def _snap_log_int(self, V: np.ndarray) -> np.ndarray:
        """Vector values of log-scaled integers rounded as ConfigSpace rounds them (in value space)."""
        lo, hi = self._log_lo, self._log_hi
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.clip(np.round(np.exp(lo + V * (hi - lo))), self._lower, self._upper)
            return (np.log(value) - lo) / (hi - lo)

    # -- conditions and forbiddens ------------------------------------------------------------------
    def deactivate(self, X: np.ndarray) -> np.ndarray:
        """A copy of ``X`` with hyperparameters whose conditions fail set to NaN."""
        XT = np.array(X, dtype=float, copy=True).T  # conditions read and write rows of the (d, n) view
        for condition, children in self.conditions:
            off = np.flatnonzero(~_satisfied(condition, XT))
            if len(off):
                XT[children[:, None], off[None, :]] = np.nan
        return XT.T

    def forbidden(self, X: np.ndarray) -> np.ndarray:
        """Boolean mask of rows that hit a forbidden clause."""
        mask = np.zeros(len(X), dtype=bool)
        for clause in self.forbiddens:
            mask |= np.asarray(clause.is_forbidden_vector_array(X.T), dtype=bool)
        return mask

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` uniform random valid raw vectors (forbidden ones redrawn)."""
        parts, have = [], 0
        for _ in range(100):
            X = self.deactivate(self.from_unit(rng.random((max(n - have, 1) * 2, self.n_dims))))
            X = X[~self.forbidden(X)] if self.forbiddens else X
            parts.append(X)
            have += len(X)
            if have >= n:
                break
        return np.vstack(parts)[:n]

    # -- model features -----------------------------------------------------------------------------
    def tree_features(self, X: np.ndarray) -> np.ndarray:
        """Float32 features for trees: raw vectors of the tunable columns, inactive -> -1.

        Categoricals stay one index column: tried one-hot columns (so a randomized split isolates
        any single category) were worse on mixed and conditional test problems, as they dilute
        the split choice over many near-empty columns.
        """
        F = np.where(np.isnan(X), INACTIVE_TREE, X)
        return np.ascontiguousarray(F[:, self.tunable], dtype=np.float32)

    def gp_layout(self) -> tuple[int, np.ndarray]:
        """Number of GP feature columns and, per column, the index of its lengthscale."""
        return len(self._gp_scale), self._gp_scale

    def _build_gp_layout(self) -> None:
        source, category, scale = [], [], []  # per feature column: source column, category (-1: numeric), scale id
        for j in np.flatnonzero(self.tunable):
            values = range(int(self.size[j])) if self.kind[j] == CAT else [-1]
            for c in values:
                source.append(j)
                category.append(c)
                scale.append(len(set(scale)) if c <= 0 else scale[-1])
        for children in self.groups[1:]:
            source.append(int(children[0]))
            category.append(-2)  # activity indicator of the group
            scale.append(len(set(scale)))
        self._gp_source = np.asarray(source, dtype=np.intp)
        self._gp_category = np.asarray(category, dtype=float)
        self._gp_scale = np.asarray(scale, dtype=np.intp)
        ordinal = self.kind[self._gp_source] == ORD
        self._gp_factor = np.where(ordinal, 1.0 / np.maximum(self.size[self._gp_source] - 1, 1), 1.0)

    def gp_features(self, X: np.ndarray) -> np.ndarray:
        """One-hot categoricals, ordinals scaled to [0, 1], inactive -> 0.5 plus an active indicator.

        The indicator (one per condition group) makes "inactive" a distance of its own instead of
        pretending the hyperparameter sat at some value; one-hot columns of an inactive categorical
        are all zero.
        """
        V = X[:, self._gp_source]
        missing = np.isnan(V)
        numeric = np.where(missing, INACTIVE_GP, V * self._gp_factor)
        onehot = (V == self._gp_category).astype(float)  # NaN compares unequal: inactive -> 0
        F = np.where(self._gp_category == -1, numeric, onehot)
        return np.where(self._gp_category == -2, (~missing).astype(float), F)

    # -- local search -------------------------------------------------------------------------------
    def neighbours(
        self, X: np.ndarray, n_per: int, rng: np.random.Generator, stdev: tuple[float, float] = (0.02, 0.3)
    ) -> tuple[np.ndarray, np.ndarray]:
        """One-exchange neighbours: ``n_per`` per row, each changing one active hyperparameter.

        Floats and integers move by a Gaussian step whose scale is drawn log-uniformly from
        ``stdev`` (coarse and fine moves in one batch), categoricals jump to another value, ordinals
        to an adjacent one; children a change activates start at their defaults, as in SMAC
        (ConfigSpace's ``change_hp_value``): switching a branch then tries its sane setting first
        instead of a random one that makes the whole branch look bad.
        Returns the neighbours and, per neighbour, the row it came from; forbidden and duplicate
        neighbours are dropped.
        """
        parent = np.repeat(np.arange(len(X)), n_per)
        N = np.where(np.isnan(X), self.default_full[None, :], X)[parent]
        active = ~np.isnan(X[parent]) & self.tunable[None, :]
        pick = np.where(active, rng.random(active.shape), -1.0)
        col = np.argmax(pick, axis=1)
        keep = pick[np.arange(len(N)), col] >= 0
        N, parent, col = N[keep], parent[keep], col[keep]
        rows = np.arange(len(N))
        U = self.to_unit(N)
        u, kind, size = U[rows, col], self.kind[col], self.size[col]
        scale = np.exp(rng.uniform(np.log(stdev[0]), np.log(stdev[1]), len(N)))
        step = u + rng.normal(0.0, 1.0, len(N)) * scale
        step = np.abs(step)
        step = 1.0 - np.abs(1.0 - step)  # reflect into [0, 1]
        discrete = np.isin(kind, (INT, ORD))
        # integers must actually move: at least one bin, in the direction of the step
        width = np.where(np.isfinite(size), 1.0 / size, 0.0)
        small = discrete & (np.abs(step - u) < width)
        direction = np.where(step >= u, 1.0, -1.0)
        direction = np.where((u + direction * width > 1) | (u + direction * width < 0), -direction, direction)
        step = np.where(small, u + direction * width, step)
        cat = kind == CAT
        if cat.any():
            shift = np.floor(rng.random(cat.sum()) * (size[cat] - 1)) + 1
            idx = (np.floor(u[cat] * size[cat]) + shift) % size[cat]
            step[cat] = (idx + 0.5) / size[cat]
        U[rows, col] = step
        N = self.deactivate(self.from_unit(np.nan_to_num(U, nan=0.5)))
        ok = ~self.forbidden(N) if self.forbiddens else np.ones(len(N), dtype=bool)
        first: dict[bytes, int] = {}
        for i, k in enumerate(keys(N)):  # categorical moves often coincide: score each point once
            if ok[i]:
                first.setdefault(k, i)
        keep = np.fromiter(first.values(), dtype=int, count=len(first))
        return N[keep], parent[keep]


def keys(X: np.ndarray) -> list[bytes]:
    """Hashable keys of canonical raw vectors (to find duplicates of observed or pending points)."""
    Z = np.where(np.isnan(X), -9.0, np.round(X, 9)) + 0.0  # + 0.0 turns -0.0 into 0.0
    return [row.tobytes() for row in Z]


def _satisfied(condition: Any, XT: np.ndarray) -> np.ndarray:
    """Vectorized condition check on a (d, n) array, with ConfigSpace's own semantics.

    ConfigSpace decides validity, so we must agree with it even where it surprises: a parent that
    is inactive (NaN) *satisfies* a NotEquals condition, so the child is active.
    """
    with np.errstate(invalid="ignore"):
        return np.asarray(condition.satisfied_by_vector_array(XT), dtype=bool)
