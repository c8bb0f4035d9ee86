"""Grid search over a (conditional) space: every combination once, then ``None``.

The grid is expanded hyperparameter by hyperparameter in the space's topological order, so a child
is only expanded where its condition holds: an inactive hyperparameter contributes exactly one
"value" (absent) and no two grid points differ only in inactive values. Points are visited in a
seeded random order by default, so stopping a grid early still leaves an unbiased sample of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from autolearn.records import Suggestion, TrialResult, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._encoding import CAT, CONST, FLOAT, INT, ORD, SpaceEncoder, _satisfied


class GridSearch(Optimizer):
    """Exhaustive search over a finite grid of the space.

    Parameters
    ----------
    resolution : points per float hyperparameter (evenly spaced on its own scale, so a log-scaled
        one gets log-spaced points, endpoints included); also used for integers wider than
        ``int_limit``.
    values : explicit values for some hyperparameters, e.g. ``{"C": [0.1, 1, 10]}``; each must be
        legal for its hyperparameter. Overrides ``resolution`` for those.
    int_limit : integers with at most this many values are enumerated completely.
    shuffle : visit the grid in a seeded random order (else in lexicographic order).
    max_size : refuse grids with more points than this (they would not be exhausted anyway).
    """

    name = "grid"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        resolution: int = 5,
        values: Mapping[str, Sequence[Any]] | None = None,
        int_limit: int = 16,
        shuffle: bool = True,
        max_size: int = 1_000_000,
    ) -> None:
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        if resolution < 1:
            raise ValueError(f"resolution must be >= 1, got {resolution}")
        self.resolution = resolution
        self.values = dict(values or {})
        self.int_limit = int_limit
        self.shuffle = shuffle
        self.max_size = max_size
        unknown = set(self.values) - set(space.keys())
        if unknown:
            raise ValueError(f"values given for unknown hyperparameters: {', '.join(sorted(unknown))}")
        self._encoder = SpaceEncoder(space)
        grid = self._expand()
        if shuffle:
            grid = grid[self.rng.permutation(len(grid))]
        self._grid = grid
        self._next = 0
        self._seen: set[str] = set()

    @property
    def size(self) -> int:
        """Number of grid points (after conditions and forbidden clauses)."""
        return len(self._grid)

    def _axis(self, j: int) -> np.ndarray:
        """Vector values of hyperparameter ``j`` on the grid."""
        enc, hp = self._encoder, self._encoder.hps[j]
        if hp.name in self.values:
            chosen = list(self.values[hp.name])
            if not chosen:
                raise ValueError(f"values[{hp.name!r}] is empty")
            for v in chosen:
                if not hp.legal_value(v):
                    raise ValueError(f"value {v!r} is not legal for hyperparameter {hp.name!r}")
            return np.unique(np.asarray([hp.to_vector(v) for v in chosen], dtype=float))
        kind, size = enc.kind[j], enc.size[j]
        if kind in (CAT, ORD):
            return np.arange(size, dtype=float)
        if kind == CONST:
            return enc.default_full[j : j + 1]
        if kind == INT and size <= self.int_limit:
            return np.unique(enc.canonical_column(j, np.linspace(0.0, 1.0, int(size))))
        assert kind in (FLOAT, INT)
        points = np.linspace(0.0, 1.0, self.resolution) if self.resolution > 1 else np.array([0.5])
        return np.unique(enc.canonical_column(j, points))

    def _expand(self) -> np.ndarray:
        enc = self._encoder
        condition_of = {int(c): cond for cond, children in enc.conditions for c in children}
        grid = np.full((1, enc.n_dims), np.nan)
        for j in range(enc.n_dims):  # ConfigSpace orders hyperparameters parents-first
            axis = self._axis(j)
            cond = condition_of.get(j)
            active = np.ones(len(grid), dtype=bool) if cond is None else _satisfied(cond, grid.T)
            n_new = int((~active).sum() + active.sum() * len(axis))
            if n_new > self.max_size:
                raise ValueError(
                    f"the grid has more than {self.max_size} points; lower resolution, pass values=... "
                    "for the wide hyperparameters, or raise max_size"
                )
            on = np.repeat(grid[active], len(axis), axis=0)
            on[:, j] = np.tile(axis, int(active.sum()))
            grid = np.vstack([grid[~active], on])
        grid = grid[np.lexsort(np.where(np.isnan(grid), -1.0, grid).T[::-1])]  # lexicographic, parents first
        if enc.forbiddens:
            grid = grid[~enc.forbidden(grid)]
        return grid

    def _observe(self, spec: TrialSpec, result: TrialResult) -> None:
        self._seen.add(spaces.config_key(spec.config))

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        busy = self._seen | {spaces.config_key(p.config) for p in pending}
        while self._next < len(self._grid):
            config = self._encoder.decode(self._grid[self._next])[0]
            self._next += 1
            if spaces.config_key(config) not in busy:  # already told (a foreign trial) or running
                return Suggestion(config, origin=self.name)
        return None
