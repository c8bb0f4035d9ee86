"""How models with a fidelity train on from a lower budget: the ``Fidelity.warm_start`` hooks.

A promoted multi-fidelity trial runs the configuration of a lower-rung trial at a larger budget. Where
the library can continue a fitted model, the evaluator hands the parent's fitted model to one of these
hooks instead of training from scratch, so the promotion costs only the added trees, rounds or epochs.
Each hook aims at the model a fit from scratch to the larger budget (same seed) gives; where the
library makes that impossible the class says how the result differs. The tests in
``tests/evaluation/test_continuation.py`` check the equality for every model that claims it.
"""

from __future__ import annotations

import copy
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone


@dataclass(frozen=True)
class SklearnWarmStart:
    """scikit-learn's own ``warm_start=True`` with a larger ``param``, then ``fit`` again.

    Forests and extra trees draw the new trees' seeds after skipping those of the trees they have, and
    histogram gradient boosting keeps its bin mapper, raw predictions and feature-subsampling generator,
    so both end exactly where a longer fit from scratch ends. Histogram gradient boosting with early
    stopping is not continued: its validation split and stopping rule would make the comparison of
    rungs depend on where the parent happened to stop.
    """

    param: str

    def can_continue(self, model: Any) -> bool:
        return not getattr(model, "do_early_stopping_", False)

    def continue_fit(self, model: Any, value: int, X: Any, y: np.ndarray) -> Any:
        model.set_params(warm_start=True, **{self.param: value})
        try:
            model.fit(X, y)
        finally:
            model.set_params(warm_start=False)  # the stored parameters describe a plain model again
        return model


@dataclass(frozen=True)
class LightGBMContinuation:
    """More boosting rounds on top of the fitted booster (``init_model=``).

    LightGBM starts the added rounds from the booster's raw scores on the training rows, which is the
    same state a longer fit reaches, so with row and feature subsampling off (``subsample=1``,
    ``colsample_bytree=1``) the result equals a fit from scratch. With subsampling on it does not: the
    bagging and feature-fraction generators restart from their seeds for the added rounds, so those
    rounds see other row bags and feature subsets than a fit from scratch would (an equally valid
    model of the same size, not the same one). A booster that stopped by itself (no split left) is
    already what a longer fit gives.
    """

    def can_continue(self, model: Any) -> bool:
        return True

    def continue_fit(self, model: Any, value: int, X: Any, y: np.ndarray) -> Any:
        done = model.booster_.current_iteration()
        if done < model.n_estimators or done >= value:  # stopped by itself, or nothing to add
            return model.set_params(n_estimators=value)
        more = clone(model).set_params(n_estimators=value - done)
        more.fit(X, y, init_model=model.booster_)
        return more.set_params(n_estimators=value)


@dataclass(frozen=True)
class MLPContinuation:
    """More epochs of scikit-learn's MLP with the Adam optimizer, one ``partial_fit`` each.

    ``warm_start=True`` would not do: a new ``fit`` restarts Adam's moment estimates and the shuffling
    generator. ``partial_fit`` keeps the optimizer; the generator is continued by handing the fitted
    ``_random_state`` back as ``random_state``. One difference is left: ``fit`` shuffles the previous
    epoch's row order again, ``partial_fit`` shuffles ``0..n-1``. So the row order reached after the
    parent's epochs is replayed from the seed (the weight initialization's draws, then one shuffle per
    epoch; checked against the fitted generator's state, and not continued if it differs) and every
    added epoch gets the rows in that order. The loop stops on ``fit``'s rule (training loss not
    improved by ``tol`` for ``n_iter_no_change`` epochs). Together this gives the weights of a fit from
    scratch to the same number of epochs. It relies on private details of scikit-learn's MLP
    (``_random_state``, ``_no_improvement_count``, how ``fit`` draws); the equality test catches a
    change of them.
    """

    def can_continue(self, model: Any) -> bool:
        return (model.solver == "adam" and not model.early_stopping and hasattr(model, "_random_state")
                and isinstance(model.random_state, numbers.Integral))

    def continue_fit(self, model: Any, value: int, X: Any, y: np.ndarray) -> Any:
        epochs = model.n_iter_
        if epochs < model.max_iter:  # converged: a longer fit stops at the same epoch
            return model.set_params(max_iter=value)
        order = _mlp_row_order(model, len(y))
        if order is None:
            return None
        seed = model.random_state
        model.set_params(random_state=model._random_state)
        try:
            while epochs < value:
                shuffle = np.arange(len(y))
                if model.shuffle:  # the permutation partial_fit is about to draw, drawn on a copy
                    copy.deepcopy(model._random_state).shuffle(shuffle)
                model.partial_fit(X.iloc[order] if hasattr(X, "iloc") else X[order], y[order])
                order = order[shuffle]
                epochs += 1
                if model._no_improvement_count > model.n_iter_no_change:
                    break
        finally:
            model.set_params(random_state=seed)
        model.n_iter_ = epochs
        return model.set_params(max_iter=value)


def _mlp_row_order(model: Any, n_rows: int) -> np.ndarray | None:
    """The row order ``fit`` reached after ``model.n_iter_`` epochs, replayed from the seed; None when
    the replay does not end in the fitted generator's state (scikit-learn drew differently)."""
    rng = np.random.RandomState(model.random_state)
    rng.random_sample(sum(c.size for c in model.coefs_) + sum(b.size for b in model.intercepts_))
    order = np.arange(n_rows)
    if model.shuffle:
        for _ in range(model.n_iter_):
            shuffle = np.arange(n_rows)
            rng.shuffle(shuffle)
            order = order[shuffle]
    replayed, fitted = rng.get_state(), model._random_state.get_state()
    same = np.array_equal(replayed[1], fitted[1]) and replayed[2:] == fitted[2:]
    return order if same else None


@dataclass(frozen=True)
class NetworkContinuation:
    """More epochs of autolearn's torch network through its own ``warm_start`` (weights and optimizer
    moments kept).

    Not equal to a fit from scratch: the network reseeds its batch order from ``seed + epochs done``
    when it continues, so later epochs see other batches. A network stopped early by its validation
    loss is kept as it is (a longer fit would most likely have stopped there too); one stopped by a
    time limit or divergence is not continued.
    """

    def can_continue(self, model: Any) -> bool:
        return getattr(model, "stopped_", "") in ("", "early_stopping", "already_trained")

    def continue_fit(self, model: Any, value: int, X: Any, y: np.ndarray) -> Any:
        if model.stopped_ != "early_stopping":
            model.set_params(warm_start=True, epochs=value)
            try:
                model.fit(X, y)
            finally:
                model.set_params(warm_start=False)
        return model.set_params(epochs=value)
