"""Ensemble selection: greedy forward selection of models, with replacement, on validation predictions.

Caruana, Niculescu-Mizil, Crew & Ksikes (2004), *Ensemble selection from libraries of models*, ICML.
Starting from the best single model, each step adds (again, if it helps) the library model whose
addition most improves the task metric of the *averaged* prediction. Why this is our default combiner:

* it optimizes the task metric itself (ROC AUC, accuracy, RMSE, ...), not a surrogate loss;
* weights are integer counts normalized to sum to 1, so a classification ensemble is an average of
  probability vectors and stays a valid, no-worse-calibrated probability;
* selecting *with replacement* lets strong models earn larger weights, and stops the overfitting that
  selection without replacement shows once the good models run out (Caruana et al. 2004, §2.1);
* it is cheap: a running sum of the chosen predictions makes each step one metric evaluation per
  candidate, O(K · n · C) for K candidates, n rows and C columns.

Bagged selection (Caruana et al. 2004, §2.3) repeats the selection on random subsets of the library and
averages the weights; it guards against one lucky model dominating when the library is large.

The greedy path is scored on the rows it was chosen on, so its best prefix flatters the ensemble: on
a few hundred noisy validation rows, a long path fits their noise (a member joins because its errors
happen to cancel the leader's on *these* rows). ``size_cv=k`` picks the ensemble size honestly: the
path is chosen again on k-1 of k folds of the validation rows and each prefix scored on the held-out
fold; the size with the best mean held-out loss cuts the path chosen on all rows. Size 1 is the best
single model, so an ensemble that does not generalize better than it is not returned.

Every step can be constrained by a per-model cost (prediction latency) and a cap on the number of
distinct members; :func:`autolearn.ensemble.ensemble.choose_under_latency` builds on this.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from autolearn.evaluation.metrics import Metric


def ensemble_selection(
    predictions: Sequence[np.ndarray],
    y: np.ndarray,
    metric: Metric,
    *,
    size: int = 50,
    init_best: int = 1,
    bagging: bool = False,
    n_bags: int = 20,
    bag_fraction: float = 0.5,
    patience: int | None = None,
    size_cv: int | None = None,
    costs: Sequence[float] | np.ndarray | None = None,
    max_cost: float | Sequence[float | None] | None = None,
    max_members: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Weights (non-negative, summing to 1) for ``predictions`` chosen by greedy ensemble selection.

    Parameters
    ----------
    predictions : sequence of arrays
        One validation prediction per candidate model, all of the same shape: (n,) values for
        regression or (n, C) class probabilities for classification.
    y : array of shape (n,)
        The matching target (encoded class ids or values).
    metric : Metric
        ``metric.loss(y, prediction)`` is minimized.
    size : int, default=50
        Number of greedy steps (selections, with replacement).
    init_best : int, default=1
        Sorted initialization (Caruana et al. 2004, §2.2): start from the ``init_best`` best single
        models, each counted once. ``1`` is the plain greedy start; larger values help when the
        hill-climbing set is small and the greedy start overfits.
    bagging, n_bags, bag_fraction :
        Bagged selection: ``n_bags`` runs, each on a random ``bag_fraction`` of the candidates
        (without replacement); the weights are averaged over the bags.
    patience : int or None, default=None
        Stop after this many steps without improvement (``None`` runs all ``size`` steps). Either way
        the weights returned are those of the best prefix of the greedy path, the ensemble size Caruana
        et al. pick on the hill-climbing set; a tie keeps the smaller ensemble.
    size_cv : int or None, default=None
        Choose the ensemble size (the prefix of the greedy path) by ``size_cv``-fold cross-validation
        over the rows instead of on the rows the path was chosen on (see the module docstring). Not
        with ``bagging``.
    costs, max_cost, max_members :
        Optional constraint: a model may join only while the summed cost of the *distinct* members stays
        within ``max_cost`` and their number within ``max_members``; re-adding a member is free. Several
        costs at once (prediction latency and refit time, say): ``costs`` of shape (k, m) and one limit
        per column in ``max_cost`` (``None`` for no limit on that column). When
        no model fits alone, the cheapest one is used (with a warning) so there is always an ensemble.
        With bagging the union of the bags is pruned afterwards, smallest weights first.
    seed : int
        Breaks ties between equally good candidates and draws the bags.

    Candidates whose predictions contain NaN or infinity get weight 0.
    """
    if len(predictions) == 0:
        raise ValueError("ensemble_selection needs at least one candidate prediction")
    preds = [np.asarray(p) for p in predictions]
    shape = preds[0].shape
    if any(p.shape != shape for p in preds):
        raise ValueError(f"all predictions must have the same shape; got {sorted({p.shape for p in preds})}")
    y = np.asarray(y)
    if len(y) != shape[0]:
        raise ValueError(f"y has {len(y)} rows but the predictions have {shape[0]}")
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    if size_cv is not None and (size_cv < 2 or bagging):
        raise ValueError(f"size_cv must be at least 2 and needs bagging=False, got size_cv={size_cv!r}, "
                         f"bagging={bagging!r}")
    k = len(preds)
    cost = np.zeros(k) if costs is None else np.asarray(costs, dtype=float)
    if cost.ndim == 1:
        cost = cost[:, None]
    if cost.ndim != 2 or cost.shape[0] != k:
        raise ValueError(f"costs must have one entry (or row) per prediction ({k}), got shape {cost.shape}")
    limits = np.broadcast_to(np.asarray(max_cost if isinstance(max_cost, Sequence | np.ndarray) else [max_cost],
                                        dtype=object), (cost.shape[1],))
    budget = _Budget(cost, np.array([math.inf if m is None else float(m) for m in limits]),
                     k if max_members is None else int(max_members))
    if budget.max_members < 1:
        raise ValueError(f"max_members must be at least 1, got {max_members}")

    usable = np.array([bool(np.isfinite(p).all()) for p in preds])
    if not usable.any():
        raise ValueError("every candidate prediction contains NaN or infinite values")
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(usable)
    if not bagging:
        picks, path_losses = _greedy(preds, pool, y, metric, size, init_best, patience, budget, rng)
        n_best = _cv_size(preds, pool, y, metric, size, init_best, budget, size_cv, seed) if size_cv else \
            int(np.argmin(path_losses)) + 1  # first minimum: the smallest of equally good ensembles
        counts = np.bincount(picks[:n_best], minlength=k).astype(np.float64)
        return counts / counts.sum()

    n_bag = min(len(pool), max(1, int(round(bag_fraction * len(pool)))))
    weights = np.zeros(k)
    for _ in range(n_bags):
        bag = np.sort(rng.choice(pool, size=n_bag, replace=False))
        picks, path_losses = _greedy(preds, bag, y, metric, size, init_best, patience, budget, rng)
        counts = np.bincount(picks[: int(np.argmin(path_losses)) + 1], minlength=k)
        weights += counts / counts.sum()
    return budget.prune(weights / n_bags)


class _Budget:
    """The latency / size constraint on the set of distinct members."""

    def __init__(self, cost: np.ndarray, max_cost: np.ndarray, max_members: int) -> None:
        self.cost, self.max_cost, self.max_members = cost, max_cost, max_members  # (k, m), (m,)

    def fits(self, spent: np.ndarray, candidate: int) -> bool:
        return bool(np.all(spent + self.cost[candidate] <= self.max_cost * (1 + 1e-12)))

    def allows(self, members: set[int], spent: np.ndarray, candidate: int) -> bool:
        if candidate in members:
            return True
        return len(members) < self.max_members and self.fits(spent, candidate)

    def cheapest(self, pool: np.ndarray) -> int:
        """The candidate furthest within (or least over) its worst-bound limit."""
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(np.isinf(self.max_cost), 0.0, self.cost[pool] / self.max_cost)
        return int(pool[np.argmin(np.nan_to_num(share, nan=np.inf).max(axis=1))])

    def prune(self, weights: np.ndarray) -> np.ndarray:
        """Drop the lightest members until the union fits, then renormalize (bagged selection)."""
        weights = weights.copy()
        order = np.argsort(-weights, kind="stable")
        spent, kept = np.zeros(self.cost.shape[1]), 0
        for i in order:
            if weights[i] <= 0:
                continue
            fits = kept < self.max_members and self.fits(spent, i)
            if fits or kept == 0:  # the heaviest member stays even if it alone is over the limit
                spent, kept = spent + self.cost[i], kept + 1
            else:
                weights[i] = 0.0
        return weights / weights.sum()


def _greedy(
    preds: list[np.ndarray],
    pool: np.ndarray,
    y: np.ndarray,
    metric: Metric,
    size: int,
    init_best: int,
    patience: int | None,
    budget: _Budget,
    rng: np.random.Generator,
) -> tuple[list[int], list[float]]:
    """One greedy run: the models picked in order, and the loss of each prefix of that path."""
    running = np.zeros(preds[0].shape, dtype=np.float64)
    buffer = np.empty_like(running)
    # Averages of float32 probabilities (the prediction store's) are off 1 by ~1e-7, which scikit-learn's
    # float64 log_loss check rejects: renormalizing the rows is exact and costs one more pass.
    probabilities = running.ndim == 2 and running.shape[1] > 1
    members: set[int] = set()
    spent = np.zeros(budget.cost.shape[1])
    picks: list[int] = []
    path_losses: list[float] = []

    def add(i: int) -> None:
        nonlocal spent
        if i not in members:
            members.add(i)
            spent += budget.cost[i]
        np.add(running, preds[i], out=running)
        picks.append(i)

    def loss_with(i: int) -> float:
        np.add(running, preds[i], out=buffer)
        if probabilities:
            np.divide(buffer, buffer.sum(axis=1, keepdims=True), out=buffer)
        else:
            np.multiply(buffer, 1.0 / (len(picks) + 1), out=buffer)
        value = metric.loss(y, buffer)
        return value if math.isfinite(value) else math.inf

    # Sorted initialization: the best single models, as far as the budget allows.
    singles = np.array([_finite(metric.loss(y, preds[i])) for i in pool])
    for j in np.argsort(singles, kind="stable")[: max(init_best, 0)]:
        if budget.allows(members, spent, int(pool[j])):
            path_losses.append(loss_with(int(pool[j])))
            add(int(pool[j]))

    best, stale = min(path_losses, default=math.inf), 0
    while len(picks) < size:
        eligible = [int(i) for i in pool if budget.allows(members, spent, int(i))]
        if not eligible:
            break
        losses = np.array([loss_with(i) for i in eligible])
        ties = np.flatnonzero(losses == losses.min())
        choice = eligible[int(ties[0] if len(ties) == 1 else rng.choice(ties))]
        path_losses.append(float(losses.min()))
        add(choice)
        if path_losses[-1] < best:
            best, stale = path_losses[-1], 0
        else:
            stale += 1
            if patience is not None and stale >= patience:
                break

    if not picks:  # nothing fits the budget: the cheapest model alone, never an empty ensemble
        cheapest = budget.cheapest(pool)
        warnings.warn("no candidate fits the ensemble's cost limit on its own; using the cheapest one",
                      RuntimeWarning, stacklevel=3)
        picks, path_losses = [cheapest], [0.0]
    return picks, path_losses


def _cv_size(preds: list[np.ndarray], pool: np.ndarray, y: np.ndarray, metric: Metric, size: int, init_best: int,
             budget: _Budget, n_folds: int, seed: int) -> int:
    """The prefix length of the greedy path with the lowest mean loss on held-out folds of the rows.

    Folds are stratified for class labels when every class has ``n_folds`` rows; a fold on which the
    metric is undefined (ROC AUC with one class) does not vote. Paths the budget ends early keep their
    last ensemble for the longer sizes.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    n_folds = min(n_folds, len(y))
    counts = np.unique(y, return_counts=True)[1] if preds[0].ndim == 2 else np.zeros(0)
    splitter = (StratifiedKFold if len(counts) and counts.min() >= n_folds else KFold)(
        n_folds, shuffle=True, random_state=seed)
    held_out = np.zeros(size)
    folds = 0
    for train, test in splitter.split(np.zeros(len(y)), y):
        picks, _ = _greedy([p[train] for p in preds], pool, y[train], metric, size, init_best, None, budget,
                           np.random.default_rng(seed))
        running = np.zeros(preds[0][test].shape, dtype=np.float64)
        losses = np.empty(size)
        for step, pick in enumerate(picks[:size]):
            np.add(running, preds[pick][test], out=running)
            average = running / (running.sum(axis=1, keepdims=True) if running.ndim == 2 and running.shape[1] > 1
                                 else step + 1)
            losses[step] = metric.loss(y[test], average)
        losses[len(picks):] = losses[len(picks) - 1]
        if np.isfinite(losses).all():
            held_out += losses
            folds += 1
    return int(np.argmin(held_out)) + 1 if folds else 1


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.inf
