"""A policy-gradient controller (REINFORCE with a moving-average baseline), after Zoph & Le's
RL-based architecture search, for any ConfigSpace space.

The policy is factorized, one independent softmax per hyperparameter: over the choices of a
categorical or ordinal, over ``n_bins`` equal bins of the unit interval for a float or integer
(a value is then drawn uniformly inside the chosen bin, on a log scale where ``log=True``).
Sampling walks the hyperparameters parents-first and skips inactive ones, so a sampled
configuration is always valid, and only the factors that took part in a configuration get credit
for it. Zoph & Le's controller is an RNN so that decisions can depend on earlier ones; conditions
already provide the dependencies that matter for HPO spaces, and a factorized policy learns from far
fewer trials.

Rewards are ranks, not losses: a trial's reward is the fraction of all results so far that it beats.
Ranks do not care about the scale of the loss, a diverging trial with a huge loss (or a crash,
imputed as the worst loss) does not swamp the gradient, and the baseline (an exponential moving
average of rewards) then only has to center a quantity that lives in [0, 1]. An entropy bonus keeps
the policy from collapsing on its first lucky bin.

Learning happens lazily on ``ask`` from ``observations()``, in the order results were told, so
foreign results (warm starts) train the policy too, and the same seed and tells give the same policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from ConfigSpace.hyperparameters import CategoricalHyperparameter, IntegerHyperparameter, OrdinalHyperparameter

from autolearn.records import Suggestion, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer
from autolearn.tune.optimizers._mutation import ConfigOperators, SeenKeys, first_new, from_unit, is_numeric, to_unit


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()


class PolicyGradient(Optimizer):
    """REINFORCE controller over a factorized categorical/binned policy.

    Parameters
    ----------
    learning_rate : float, default 1.0
        Step on the logits per result. Rewards live in [0, 1], so the scale is the same for every
        problem; larger learns faster and commits earlier.
    n_bins : int, default 10
        Bins of the unit interval per numeric hyperparameter (an integer with at most n_bins values
        gets one action per value).
        Resolution within a bin is uniform sampling, so the policy locates a good region to 1/n_bins
        of the range and random sampling does the rest.
    entropy_weight : float, default 0.05
        Weight of the entropy bonus that keeps exploring.
    baseline_decay : float, default 0.9
        Decay of the moving-average reward baseline.
    """

    name = "rl"

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        n_objectives: int = 1,
        seed: int | None = None,
        initial_design: Iterable[Mapping[str, Any]] = (),
        learning_rate: float = 1.0,
        n_bins: int = 10,
        entropy_weight: float = 0.05,
        baseline_decay: float = 0.9,
    ) -> None:
        if n_bins < 2:
            raise ValueError(f"n_bins must be at least 2, got {n_bins}")
        if not 0 <= baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay}")
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        self.learning_rate = learning_rate
        self.n_bins = n_bins
        self.entropy_weight = entropy_weight
        self.baseline_decay = baseline_decay
        self._ops = ConfigOperators(space)
        self._seen = SeenKeys()
        self.logits: dict[str, np.ndarray] = {}
        for name, hp in self._ops.hps.items():
            size = self._n_actions(hp)
            if size > 1:
                # start from the space's own weights where it has them, so priors are respected
                probs = getattr(hp, "probabilities", None) if isinstance(hp, CategoricalHyperparameter) else None
                self.logits[name] = (np.log(np.maximum(np.asarray(probs, dtype=float), 1e-12))
                                     if probs is not None else np.zeros(size))
        self.baseline = 0.5
        self._n_learned = 0

    def _n_actions(self, hp: Any) -> int:
        if isinstance(hp, CategoricalHyperparameter):
            return len(hp.choices)
        if isinstance(hp, OrdinalHyperparameter):
            return len(hp.sequence)
        if is_numeric(hp):
            size = hp.upper - hp.lower + 1 if isinstance(hp, IntegerHyperparameter) else self.n_bins
            return int(min(self.n_bins, size))
        return 1  # constants and one-valued hyperparameters: nothing to learn

    # -- the policy ------------------------------------------------------------------------------
    def action(self, name: str, value: Any) -> int:
        """Index of the choice or bin that ``value`` falls in (own samples and foreign configs alike)."""
        hp = self._ops.hps[name]
        if isinstance(hp, CategoricalHyperparameter):
            return list(hp.choices).index(value)
        if isinstance(hp, OrdinalHyperparameter):
            return list(hp.sequence).index(value)
        if self._one_per_value(hp):
            return int(value) - int(hp.lower)
        k = len(self.logits[name])
        return min(int(to_unit(hp, value) * k), k - 1)

    def _one_per_value(self, hp: Any) -> bool:
        """Integers with at most ``n_bins`` values get one action per value, not bins that rounding blurs."""
        return isinstance(hp, IntegerHyperparameter) and hp.upper - hp.lower + 1 <= self.n_bins

    def sample(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for name in self._ops.order:
            if not self._ops.active(name, config):
                continue
            hp = self._ops.hps[name]
            if name not in self.logits:
                config[name] = spaces.plain(hp.default_value)
                continue
            probs = _softmax(self.logits[name])
            a = int(self.rng.choice(len(probs), p=probs))
            if isinstance(hp, CategoricalHyperparameter):
                config[name] = spaces.plain(hp.choices[a])
            elif isinstance(hp, OrdinalHyperparameter):
                config[name] = spaces.plain(hp.sequence[a])
            elif self._one_per_value(hp):
                config[name] = int(hp.lower) + a
            else:
                config[name] = from_unit(hp, (a + self.rng.random()) / len(probs))
        return config

    def _learn(self, config: Mapping[str, Any], reward: float) -> None:
        advantage = reward - self.baseline
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * reward
        for name, value in config.items():
            if name not in self.logits:
                continue
            try:
                a = self.action(name, value)
            except ValueError:  # a foreign value outside the space: nothing to credit
                continue
            logits = self.logits[name]
            probs = _softmax(logits)
            grad_logp = -probs
            grad_logp[a] += 1.0
            entropy = -float(np.sum(probs * np.log(probs + 1e-300)))
            grad_entropy = -probs * (np.log(probs + 1e-300) + entropy)
            logits += self.learning_rate * (advantage * grad_logp + self.entropy_weight * grad_entropy)
            logits -= logits.max()  # softmax is shift-invariant; keep the numbers small

    def _catch_up(self) -> None:
        """Learn from every result told since the last ask, each ranked against all results so far."""
        configs, losses = self.observations()
        loss = losses[:, 0] if len(configs) else np.empty(0)
        for i in range(self._n_learned, len(configs)):
            earlier = loss[: i + 1]
            n = len(earlier)
            beaten = np.sum(earlier > loss[i]) + 0.5 * (np.sum(earlier == loss[i]) - 1)
            reward = float(beaten / (n - 1)) if n > 1 else 0.5
            self._learn(configs[i], reward)
        self._n_learned = len(configs)

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        self._catch_up()
        seen = self._seen(self.history, pending)
        random = lambda: self.sample_random(1)[0]  # noqa: E731
        return Suggestion(first_new(self.sample, seen, random, valid=self._ops.valid), origin=self.name)
