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
from ConfigSpace.conditions import AndConjunction, OrConjunction
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
        X = np.empty_like(U)
        for j in range(self.n_dims):
            u, k = U[:, j], self.kind[j]
            if k == FLOAT:
                X[:, j] = u
            elif k == INT and not self.log[j]:
                n = self.size[j]
                X[:, j] = np.minimum(np.floor(u * n), n - 1) / (n - 1)
            elif k == INT:
                X[:, j] = self._snap_log_int(j, u)
            elif k in (CAT, ORD):
                X[:, j] = np.minimum(np.floor(u * self.size[j]), self.size[j] - 1)
            else:
                X[:, j] = self.default_full[j]
        return X

    def to_unit(self, X: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`from_unit` (bin centres for discrete values); NaN stays NaN."""
        U = np.array(X, dtype=float, copy=True)
        for j in range(self.n_dims):
            k, n = self.kind[j], self.size[j]
            if k == INT and not self.log[j]:
                U[:, j] = (np.round(X[:, j] * (n - 1)) + 0.5) / n
            elif k in (CAT, ORD):
                U[:, j] = (X[:, j] + 0.5) / n
            elif k == CONST:
                U[:, j] = np.where(np.isnan(X[:, j]), np.nan, 0.5)
        return U

    def canonical(self, X: np.ndarray) -> np.ndarray:
        """Snap discrete columns to legal vector values (NaN kept)."""
        X = np.array(X, dtype=float, copy=True)
        for j in range(self.n_dims):
            k, col = self.kind[j], X[:, j]
            if k == FLOAT:
                X[:, j] = np.clip(col, 0.0, 1.0)
            elif k == INT and not self.log[j]:
                n = self.size[j]
                X[:, j] = np.round(np.clip(col, 0.0, 1.0) * (n - 1)) / (n - 1)
            elif k == INT:
                X[:, j] = self._snap_log_int(j, col)
            elif k in (CAT, ORD):
                X[:, j] = np.clip(np.round(col), 0, self.size[j] - 1)
            else:
                X[:, j] = np.where(np.isnan(col), np.nan, self.default_full[j])
        return X

    def canonical_column(self, j: int, col: np.ndarray) -> np.ndarray:
        """:meth:`canonical` for the values of one hyperparameter."""
        X = np.full((len(col), self.n_dims), np.nan)
        X[:, j] = col
        return self.canonical(X)[:, j]

    def _snap_log_int(self, j: int, col: np.ndarray) -> np.ndarray:
        hp, out = self.hps[j], np.array(col, dtype=float, copy=True)
        ok = ~np.isnan(out)
        if ok.any():
            out[ok] = hp.to_vector(hp.to_value(np.clip(out[ok], 0.0, 1.0)))
        return out

    # -- conditions and forbiddens ------------------------------------------------------------------
    def deactivate(self, X: np.ndarray) -> np.ndarray:
        """Set hyperparameters whose conditions fail to NaN (in place on a copy)."""
        X = np.array(X, dtype=float, copy=True)
        for condition, children in self.conditions:
            off = ~_satisfied(condition, X.T)
            if off.any():
                X[np.ix_(off, children)] = np.nan
        return X

    def forbidden(self, X: np.ndarray) -> np.ndarray:
        """Boolean mask of rows that hit a forbidden clause."""
        mask = np.zeros(len(X), dtype=bool)
        for clause in self.forbiddens:
            mask |= np.asarray(clause.is_forbidden_vector_array(X.T), dtype=bool)
        return mask

    def complete(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Fill NaN entries with random values, so a later change of a parent finds its children set."""
        X = np.array(X, dtype=float, copy=True)
        missing = np.isnan(X)
        if missing.any():
            X[missing] = self.from_unit(rng.random(X.shape))[missing]
        return X

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

    def repair(self, X: np.ndarray) -> np.ndarray:
        """Canonical, condition-respecting vectors from full (model-proposed) ones."""
        return self.deactivate(self.canonical(X))

    # -- model features -----------------------------------------------------------------------------
    def tree_features(self, X: np.ndarray) -> np.ndarray:
        """Raw vectors with inactive -> -1; categorical indices kept (trees split them fine)."""
        F = np.where(np.isnan(X), INACTIVE_TREE, X)
        return np.ascontiguousarray(F[:, self.tunable], dtype=np.float32)

    def gp_layout(self) -> tuple[int, np.ndarray]:
        """Number of GP feature columns and, per column, the index of its lengthscale."""
        scale: list[int] = []
        n_scales = 0
        for j in range(self.n_dims):
            if not self.tunable[j]:
                continue
            width = int(self.size[j]) if self.kind[j] == CAT else 1
            scale.extend([n_scales] * width)
            n_scales += 1
        for _ in self.groups[1:]:
            scale.append(n_scales)
            n_scales += 1
        return len(scale), np.asarray(scale, dtype=np.intp)

    def gp_features(self, X: np.ndarray) -> np.ndarray:
        """One-hot categoricals, ordinals scaled to [0, 1], inactive -> 0.5 plus an active indicator.

        The indicator (one per condition group) makes "inactive" a distance of its own instead of
        pretending the hyperparameter sat at some value; one-hot columns of an inactive categorical
        are all zero.
        """
        cols: list[np.ndarray] = []
        for j in range(self.n_dims):
            if not self.tunable[j]:
                continue
            col = X[:, j]
            if self.kind[j] == CAT:
                onehot = np.zeros((len(X), int(self.size[j])))
                ok = ~np.isnan(col)
                onehot[np.flatnonzero(ok), col[ok].astype(int)] = 1.0
                cols.append(onehot)
            else:
                value = col / (self.size[j] - 1) if self.kind[j] == ORD else col
                cols.append(np.where(np.isnan(col), INACTIVE_GP, value)[:, None])
        for children in self.groups[1:]:
            cols.append((~np.isnan(X[:, children[0]])).astype(float)[:, None])
        return np.hstack(cols) if cols else np.zeros((len(X), 0))

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
        Returns the neighbours and, per neighbour, the row it came from; forbidden ones are dropped.
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
        if self.forbiddens:
            ok = ~self.forbidden(N)
            N, parent = N[ok], parent[ok]
        return N, parent


def keys(X: np.ndarray) -> list[bytes]:
    """Hashable keys of canonical raw vectors (to find duplicates of observed or pending points)."""
    Z = np.where(np.isnan(X), -9.0, np.round(X, 9)) + 0.0  # + 0.0 turns -0.0 into 0.0
    return [row.tobytes() for row in Z]


def _satisfied(condition: Any, XT: np.ndarray) -> np.ndarray:
    """Vectorized condition check that is False wherever a parent is inactive.

    ConfigSpace's own vector check compares NaN parents directly, which makes a NotEquals
    condition true for an inactive parent; a child of an inactive parent is never active.
    """
    if isinstance(condition, AndConjunction):
        out = np.ones(XT.shape[1], dtype=bool)
        for c in condition.components:
            out &= _satisfied(c, XT)
        return out
    if isinstance(condition, OrConjunction):
        out = np.zeros(XT.shape[1], dtype=bool)
        for c in condition.components:
            out |= _satisfied(c, XT)
        return out
    parent = XT[condition.parent_vector_id]
    with np.errstate(invalid="ignore"):
        return np.asarray(condition.satisfied_by_vector_array(XT), dtype=bool) & ~np.isnan(parent)
