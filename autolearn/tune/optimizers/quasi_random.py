"""Quasi-random search (Sobol / Halton) and the space-filling initial designs of the model-based optimizers.

A scrambled Sobol sequence covers the space more evenly than independent draws, which matters most
in the first few trials: the surrogate models (TPE, RF, GP) start from such a design instead of
pure random points. Points are drawn in ConfigSpace's unit cube over *all* hyperparameters and the
conditions are applied afterwards (children of an unchosen branch become inactive), as SMAC's
designs do, so every branch of a conditional space receives its share of points.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from scipy.stats import qmc

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._encoding import SpaceEncoder, keys
from autolearn.tune.optimizers.random_search import default_first_design

DESIGNS = ("sobol", "halton", "lhs", "random")


def _engine(kind: str, d: int, rng: np.random.Generator) -> qmc.QMCEngine | None:
    seed = int(rng.integers(2**31 - 1))
    if kind == "sobol":
        return qmc.Sobol(d, scramble=True, rng=seed)
    if kind == "halton":
        return qmc.Halton(d, scramble=True, rng=seed)
    if kind == "lhs":
        return qmc.LatinHypercube(d, rng=seed)
    if kind == "random":
        return None
    raise ValueError(f"design kind must be one of {', '.join(DESIGNS)}, got {kind!r}")


def _unit_points(encoder: SpaceEncoder, n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of the unit cube over the tunable hyperparameters, as full-width arrays."""
    tunable = np.flatnonzero(encoder.tunable)
    U = np.full((n, encoder.n_dims), 0.5)
    if len(tunable) and n:
        engine = _engine(kind, len(tunable), rng)
        if engine is None:
            U[:, tunable] = rng.random((n, len(tunable)))
        else:
            with warnings.catch_warnings():  # Sobol warns when n is not a power of two
                warnings.simplefilter("ignore", UserWarning)
                U[:, tunable] = engine.random(n)
    return U


def design_vectors(
    encoder: SpaceEncoder, n: int, kind: str, rng: np.random.Generator, include_default: bool = False
) -> np.ndarray:
    """Raw vectors of a design of ``n`` distinct valid configurations (see :func:`initial_design`)."""
    if n <= 0:
        return np.empty((0, encoder.n_dims))
    rows = [encoder.default[None, :]] if include_default else []
    X = encoder.deactivate(encoder.from_unit(_unit_points(encoder, n, kind, rng)))
    if encoder.forbiddens:
        X = X[~encoder.forbidden(X)]
    rows.append(X)
    # duplicates happen in small discrete spaces; top up with random points, a bounded number of times
    out, seen = [], set()
    for attempt in range(20):
        for x, k in zip(np.vstack(rows), keys(np.vstack(rows))):
            if k not in seen:
                seen.add(k)
                out.append(x)
        if len(out) >= n:
            break
        rows = [encoder.sample(2 * (n - len(out)) + attempt, rng)]
    return np.asarray(out[:n]).reshape(-1, encoder.n_dims)


def initial_design(
    space: ConfigurationSpace,
    n: int,
    kind: str = "sobol",
    rng: np.random.Generator | int | None = None,
    *,
    include_default: bool = False,
) -> list[dict[str, Any]]:
    """``n`` space-filling valid configurations (fewer only if the space has fewer).

    Parameters
    ----------
    kind : "sobol" | "halton" | "lhs" | "random"
        Scrambled Sobol (the default: best uniformity for small ``n``), scrambled Halton, Latin
        hypercube (exact one-dimensional stratification) or independent uniform draws.
    rng : a Generator or seed; the design is a pure function of it.
    include_default : put the space's default configuration first, as a known-sane anchor.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    encoder = SpaceEncoder(space)
    return encoder.decode(design_vectors(encoder, n, kind, rng, include_default)) if n > 0 else []


class QuasiRandomSearch(Optimizer):
    """Streams an endless scrambled Sobol (or Halton) sequence; the default configuration first.

    Parameters
    ----------
    kind : "sobol" | "halton"
        Both are extensible sequences, so no budget needs to be known in advance.
    default_first : evaluate the space's default configuration before the sequence.
    """

    name = "sobol"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        kind: str = "sobol",
        default_first: bool = True,
    ) -> None:
        if kind not in ("sobol", "halton"):
            raise ValueError(f"kind must be 'sobol' or 'halton' (an extensible sequence), got {kind!r}")
        initial = default_first_design(space, initial_design) if default_first else list(initial_design)
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial)
        self.kind = kind
        self.default_first = default_first
        self._encoder = SpaceEncoder(space)
        self._tunable = np.flatnonzero(self._encoder.tunable)
        self._engine = _engine(kind, max(len(self._tunable), 1), self.rng)
        self._buffer: list[np.ndarray] = []

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        # Pending trials need no special care: the sequence never repeats a point.
        while not self._buffer:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                block = self._engine.random(16)
            U = np.full((len(block), self._encoder.n_dims), 0.5)
            U[:, self._tunable] = block[:, : len(self._tunable)]
            X = self._encoder.deactivate(self._encoder.from_unit(U))
            if self._encoder.forbiddens:
                X = X[~self._encoder.forbidden(X)]
            self._buffer = list(X[::-1])
        x = self._buffer.pop()
        return Suggestion(self._encoder.decode(x)[0], origin=self.name)
