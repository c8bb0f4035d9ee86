"""BOHB (Falkner et al., ICML 2018): Hyperband whose new configurations come from a density model.

Hyperband samples every new configuration at random, so it never gets better at *choosing* what to
screen. BOHB keeps Hyperband's brackets and promotions but draws new configurations from a TPE-like
model: on the largest budget with at least ``n_min + 2`` observations (``n_min = dims + 1``), it fits
a kernel density ``l(x)`` on the best ``max(n_min, 15%)`` configurations and ``g(x)`` on the rest,
samples candidates from ``l`` with bandwidths widened by ``bandwidth_factor`` and proposes the one
maximizing ``l(x) / g(x)``. Low budgets are used until high ones have enough data, which is what
lets cheap, noisy evaluations steer the search early. A fraction ``random_fraction`` (1/3) of new
configurations still comes from the sampler (random search by default), keeping the convergence
guarantee of Hyperband.

The KDE is written here (numpy/scipy) rather than borrowed from the TPE optimizer so that the two
can evolve independently. It is a product kernel over the space's vector encoding: numeric
hyperparameters (log ones on their log scale, integers too) in [0, 1] with a truncated Gaussian,
categorical and ordinal ones by index with an Aitchison-Aitken kernel; constants are left out.

Conditional spaces: an inactive hyperparameter is NaN in the encoding, and

* a *query* point inactive in a dimension is marginalized there (kernel factor 1): an absent
  hyperparameter neither helps nor hurts it;
* a *data* point inactive in a dimension contributes the uniform prior there (1, or ``1/c`` for a
  categorical): it says nothing about that dimension.

Sampling is consistent with that: a dimension the chosen data point lacks is drawn uniformly, then
the space's conditions deactivate whatever the sampled parents switch off. Candidates that violate
forbidden clauses are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import (
    CategoricalHyperparameter,
    Configuration,
    ConfigurationSpace,
    Constant,
    OrdinalHyperparameter,
)
from scipy import special, stats

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.schedulers.hyperband import Hyperband

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class VectorEncoding:
    """Configurations <-> rows of the model's dimensions (numeric in [0, 1], categorical index, NaN inactive)."""

    def __init__(self, space: ConfigurationSpace) -> None:
        self.space = space
        hps = list(space.values())
        self.dims = np.array([space.index_of[hp.name] for hp in hps if not isinstance(hp, Constant)], dtype=int)
        self.n_choices = np.array([
            len(hp.choices) if isinstance(hp, CategoricalHyperparameter)
            else len(hp.sequence) if isinstance(hp, OrdinalHyperparameter) else 0
            for hp in hps if not isinstance(hp, Constant)
        ], dtype=int)
        self._template = np.full(len(hps), np.nan)
        for hp in hps:
            if isinstance(hp, Constant):
                self._template[space.index_of[hp.name]] = hp.to_vector(hp.value)
        # conditions in the order of their child: a parent is settled before its children
        self._conditions = sorted(space.conditions, key=lambda c: space.index_of[c.child.name])
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        rows = []
        for config in configs:
            key = spaces.config_key(config)
            if key not in self._cache:
                self._cache[key] = Configuration(self.space, values=dict(config)).get_array()[self.dims]
            rows.append(self._cache[key])
        return np.array(rows, dtype=float).reshape(len(rows), len(self.dims))

    def deactivate(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` with NaN wherever the space's conditions switch a hyperparameter off."""
        full = np.tile(self._template, (len(rows), 1))
        full[:, self.dims] = rows
        matrix = full.T.copy()  # ConfigSpace evaluates conditions on (n_hyperparameters, n) arrays
        for condition in self._conditions:
            off = ~np.asarray(condition.satisfied_by_vector_array(matrix), dtype=bool)
            matrix[self.space.index_of[condition.child.name], off] = np.nan
        return matrix.T[:, self.dims]

    def decode(self, row: np.ndarray) -> dict[str, Any] | None:
        """The valid configuration of a (deactivated) row; None where a forbidden clause rules it out."""
        vector = self._template.copy()
        vector[self.dims] = row
        try:
            config = spaces.to_dict(Configuration(self.space, vector=vector))
            return spaces.to_dict(spaces.to_configuration(self.space, config))
        except ValueError:
            return None


@dataclass
class KDE:
    """A product-kernel density over encoded rows; see the module docstring for inactive dimensions."""

    data: np.ndarray  # (n, d), NaN where inactive
    bandwidth: np.ndarray  # (d,): Gaussian sd in unit space, or the Aitchison-Aitken lambda
    n_choices: np.ndarray  # (d,): 0 for numeric dimensions

    @classmethod
    def fit(cls, data: np.ndarray, n_choices: np.ndarray, min_bandwidth: float = 1e-3) -> KDE:
        """Normal-reference bandwidths per dimension (``1.06 * spread * n**(-1/(d+4))``, as statsmodels).

        The spread of a categorical is the square root of its Gini impurity, which, unlike the
        standard deviation of codes, does not depend on the order of the choices.
        """
        n, d = data.shape
        bw = np.empty(d)
        for j in range(d):
            values = data[~np.isnan(data[:, j]), j]
            c = n_choices[j]
            if c:
                p = np.bincount(values.astype(int), minlength=c) / max(len(values), 1)
                spread = math.sqrt(max(1.0 - float(np.sum(p**2)), 0.0))
            else:
                spread = float(np.std(values)) if len(values) > 1 else 0.0
            h = 1.06 * spread * max(len(values), 1) ** (-1.0 / (d + 4))
            upper = (c - 1) / c if c else 1.0
            bw[j] = min(max(h, min_bandwidth), upper) if c else max(h, min_bandwidth)
        return cls(data, bw, n_choices)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density of each row of ``x`` (m, d)."""
        xq, y = x[:, None, :], self.data[None, :, :]
        h, c = self.bandwidth, self.n_choices
        cat = c > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (xq - y) / h
            mass = special.ndtr((1 - y) / h) - special.ndtr(-y / h)  # truncation to [0, 1]
            numeric = -0.5 * z**2 - _LOG_SQRT_2PI - np.log(h) - np.log(np.maximum(mass, 1e-300))
            same = np.log(1 - h) * np.ones_like(z)
            other = np.log(h / np.maximum(c - 1, 1)) * np.ones_like(z)
            categorical = np.where(xq == y, same, other)
        log_k = np.where(cat, categorical, numeric)
        log_k = np.where(np.isnan(y), np.where(cat, -np.log(np.maximum(c, 1)), 0.0), log_k)
        log_k = np.where(np.isnan(xq), 0.0, log_k)
        return special.logsumexp(log_k.sum(axis=2), axis=1) - math.log(len(self.data))

    def sample(self, rng: np.random.Generator, m: int, bandwidth_factor: float = 3.0) -> np.ndarray:
        """``m`` rows drawn around random data points with bandwidths times ``bandwidth_factor``."""
        base = self.data[rng.integers(len(self.data), size=m)]
        out = np.empty_like(base)
        for j, c in enumerate(self.n_choices):
            col, missing = base[:, j], np.isnan(base[:, j])
            if c:
                switch = missing | (rng.random(m) < min(1.0, self.bandwidth[j] * bandwidth_factor))
                out[:, j] = np.where(switch, rng.integers(c, size=m), col)
            else:
                sd = self.bandwidth[j] * bandwidth_factor
                mean = np.where(missing, 0.5, col)
                draws = stats.truncnorm.rvs((0 - mean) / sd, (1 - mean) / sd, loc=mean, scale=sd,
                                            size=m, random_state=rng)
                out[:, j] = np.where(missing, rng.random(m), np.clip(draws, 0.0, 1.0))
        return out


class BOHB(Hyperband):
    """Hyperband brackets with new configurations from a KDE model (random ones with ``random_fraction``).

    Parameters (besides those of :class:`~autolearn.tune.schedulers.hyperband.Hyperband`)
    ----------
    random_fraction : share of new configurations taken from the sampler instead of the model (1/3).
    top_fraction : share of observations in the "good" density ``l`` (0.15), at least ``n_min``.
    bandwidth_factor : widens bandwidths when sampling candidates, to explore around good points (3).
    min_bandwidth : floor on every bandwidth, so a converged dimension keeps some spread (1e-3).
    n_candidates : candidates drawn from ``l`` per proposal; the best ``l/g`` wins (64).
    min_points_in_model : ``n_min``; default dimensions + 1. A budget needs ``n_min + 2`` observations.
    """

    name = "bohb"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        random_fraction: float = 1 / 3,
        top_fraction: float = 0.15,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
        n_candidates: int = 64,
        min_points_in_model: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(space, **kwargs)
        self.random_fraction = random_fraction
        self.top_fraction = top_fraction
        self.bandwidth_factor = bandwidth_factor
        self.min_bandwidth = min_bandwidth
        self.n_candidates = n_candidates
        self.encoding = VectorEncoding(space)
        self.min_points_in_model = (len(self.encoding.dims) + 1 if min_points_in_model is None
                                    else int(min_points_in_model))
        self._model: tuple[int, tuple[KDE, KDE, float] | None] = (-1, None)

    def model(self) -> tuple[KDE, KDE, float] | None:
        """``(l, g, budget)`` fitted on the largest budget with enough observations; None before that.

        Refitted only when a result arrived since the last fit.
        """
        if self._model[0] == len(self.history):
            return self._model[1]
        fitted = None
        if len(self.encoding.dims):
            for budget in sorted({s.budget for s, _ in self.history}, reverse=True):
                configs, losses = self.observations(budget)
                n = len(configs)
                if n < self.min_points_in_model + 2:
                    continue
                order = np.argsort(losses[:, 0], kind="stable")
                n_good = min(max(self.min_points_in_model, math.floor(self.top_fraction * n)), n - 1)
                rows = self.encoding.encode([configs[i] for i in order])
                nc = self.encoding.n_choices
                fitted = (KDE.fit(rows[:n_good], nc, self.min_bandwidth),
                          KDE.fit(rows[n_good:], nc, self.min_bandwidth), budget)
                break
        self._model = (len(self.history), fitted)
        return fitted

    def _new_config(self, pending: Sequence[TrialSpec]) -> Suggestion | None:
        if self._exhausted:
            return None
        if self.rng.random() < self.random_fraction:
            return super()._new_config(pending)
        model = self.model()
        config = None if model is None else self._from_model(model[0], model[1])
        if config is None:
            return super()._new_config(pending)
        return Suggestion(config, origin="bohb")

    def _from_model(self, good: KDE, bad: KDE) -> dict[str, Any] | None:
        """The candidate (sampled from ``good``) with the highest ``good/bad`` density ratio.

        Candidates are scored as vectors and only the winner is turned into a configuration (the
        next best where a forbidden clause rules it out): ConfigSpace round trips dominate the cost.
        """
        rows = self.encoding.deactivate(good.sample(self.rng, self.n_candidates, self.bandwidth_factor))
        score = good.logpdf(rows) - bad.logpdf(rows)
        for i in np.argsort(-score, kind="stable"):
            config = self.encoding.decode(rows[i])
            if config is not None:
                return config
        return None
