"""scikit-learn estimators for ONE given architecture: what a search trial trains and what it returns.

``NeuralNetClassifier(architecture=..., space="residual")`` takes a dict of the space's
hyperparameters (missing ones take the space's defaults, see :func:`autolearn.nas.spaces.architecture`),
tables with categorical columns or arrays, and trains with early stopping on a validation split
(``validation_fraction``, or an explicit ``eval_set``). Everything the network needs at predict time
travels with it (standardization, imputation, embeddings are inside the network; the category
vocabulary is in :class:`~autolearn.nas.features.FeatureCoder`), and pickling stores torch state
dicts, so ``cloudpickle`` round trips give identical predictions.

``warm_start=True`` makes the next ``fit`` continue the same network up to ``epochs`` (weights and
optimizer moments kept) instead of starting over; ``partial_fit`` trains a few more epochs.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from autolearn.data.validation import check_consistent_length, check_fraction, check_X, check_y
from autolearn.ensemble.fold_average import FoldAverage
from autolearn.nas._torch import require_torch, resolve_device, seeded, set_threads, to_numpy, to_tensors
from autolearn.nas.features import FeatureCoder
from autolearn.nas.spaces import Architecture, architecture

MIN_ROWS_FOR_VALIDATION = 20  # below this, early stopping watches the training loss instead


class _NeuralNetBase(BaseEstimator):
    _task: str = ""

    def __init__(
        self,
        architecture: Mapping[str, Any] | None = None,
        space: str = "residual",
        *,
        epochs: int = 100,
        lr: float | None = None,
        batch_size: int | None = None,
        weight_decay: float | None = None,
        seed: int = 0,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        warm_start: bool = False,
        max_time: float | None = None,
        device: str = "auto",
        verbose: int = 0,
    ) -> None:
        self.architecture = architecture
        self.space = space
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.seed = seed
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.warm_start = warm_start
        self.max_time = max_time
        self.device = device
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, eval_set: tuple[Any, Any] | None = None,
            eval_loss: Callable[[np.ndarray, np.ndarray], float] | None = None,
            stop_rule: Callable[[list[float], int], bool] | None = None) -> _NeuralNetBase:
        """Train for up to ``epochs`` epochs (continuing the current network when ``warm_start``).

        ``eval_set=(X_val, y_val)`` replaces the internal validation split. ``eval_loss(y_true,
        prediction)`` (probabilities (n, K) or values; lower is better) replaces the training loss as
        what early stopping watches. ``stop_rule(curve, epochs)`` may end training early (e.g. a
        :class:`~autolearn.nas.curves.LearningCurveRule`); ``stopped_`` then says why.
        """
        continuing = self.warm_start and hasattr(self, "state_")
        epochs = self._check_params()
        if continuing:
            self._check_n_features(X)
        X = check_X(X, fit=not continuing, schema=self.coder_.schema if continuing else None)
        y_enc = self._encode_y(y, continuing)
        check_consistent_length(X, y_enc)
        if len(y_enc) < 2:
            raise ValueError(f"n_samples={len(y_enc)}: a network needs at least 2 rows to train on")
        if not continuing:
            self._setup(X, y_enc)
        x_num, x_cat = self.coder_.transform(X)
        target = self._target(y_enc)
        eval_data, eval_y = None, None
        if eval_set is not None:
            Xv = check_X(eval_set[0], fit=False, schema=self.coder_.schema)
            eval_y = self._encode_y(eval_set[1], True)
            check_consistent_length(Xv, eval_y)
            eval_data = self.coder_.transform(Xv)
        elif self.early_stopping and len(target) >= MIN_ROWS_FOR_VALIDATION:
            rows = self._validation_split(y_enc)
            if rows is not None:
                train, valid = rows
                eval_data, eval_y = (x_num[valid], x_cat[valid]), y_enc[valid]
                x_num, x_cat, target = x_num[train], x_cat[train], target[train]
        eval_fn = None if eval_data is None else self._eval_fn(eval_y, eval_loss)
        self._train(x_num, x_cat, target, epochs, eval_data, eval_fn, stop_rule)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None, epochs: int = 1, **fit_params: Any) -> _NeuralNetBase:
        """Train ``epochs`` more epochs of the current network (a first call starts one).

        ``classes`` is accepted for scikit-learn's ``partial_fit`` convention; the classes are those
        of the first call's ``y``.
        """
        done = self.state_.epochs_done if hasattr(self, "state_") else 0
        saved = (self.warm_start, self.epochs)
        self.warm_start, self.epochs = True, done + int(epochs)
        try:
            return self.fit(X, y, **fit_params)
        finally:
            self.warm_start, self.epochs = saved

    def _check_params(self) -> int:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, numbers.Integral) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if isinstance(self.patience, bool) or not isinstance(self.patience, numbers.Integral) or self.patience < 1:
            raise ValueError(f"patience must be a positive integer, got {self.patience!r}")
        check_fraction("validation_fraction", self.validation_fraction)
        if self.validation_fraction >= 1:
            raise ValueError("validation_fraction must be below 1: some rows must be left to train on")
        if self.max_time is not None and not self.max_time > 0:
            raise ValueError(f"max_time must be a positive number of seconds, got {self.max_time!r}")
        return int(self.epochs)

    def _setup(self, X: Any, y_enc: np.ndarray) -> None:
        """Fix the architecture, the input coding and the network: everything a warm start keeps."""
        from autolearn.nas.networks import build_network, numeric_stats
        from autolearn.nas.training import make_state

        overrides = {k: v for k, v in (("lr", self.lr), ("batch_size", self.batch_size),
                                       ("weight_decay", self.weight_decay)) if v is not None}
        arch = dict(self.architecture or {})
        self.architecture_: Architecture = architecture({**arch, **overrides}, arch.get("space") or self.space)
        self.coder_ = FeatureCoder()
        x_num, _ = self.coder_.fit_transform(X)
        self.stats_ = numeric_stats(x_num)
        self.n_features_in_ = X.shape[1]
        self._fit_target_stats(y_enc)
        set_threads()
        self.device_ = resolve_device(self.device)
        with seeded(self.seed):
            network = build_network(self.architecture_, self.stats_, self.coder_.cardinalities, self._n_outputs())
        self.state_ = make_state(network, self.architecture_["lr"], self.architecture_["weight_decay"], self.device_)

    def _validation_split(self, y_enc: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        rows = np.arange(len(y_enc))
        stratify = None
        if self._task != "regression":
            counts = np.bincount(y_enc)
            stratify = y_enc if counts[counts > 0].min() >= 2 else None
        try:
            return tuple(train_test_split(rows, test_size=self.validation_fraction, random_state=self.seed,
                                          stratify=stratify))  # type: ignore[return-value]
        except ValueError:  # too few rows per class for the split: no early stopping
            return None

    def _train(self, x_num: np.ndarray, x_cat: np.ndarray, target: np.ndarray, epochs: int,
               eval_data: Any, eval_fn: Any, stop_rule: Any) -> None:
        from autolearn.nas.training import train

        torch = require_torch()
        set_threads()
        if epochs <= self.state_.epochs_done:
            self.stopped_ = "already_trained"
            return
        loss_fn = torch.nn.CrossEntropyLoss() if self._task != "regression" else torch.nn.MSELoss()
        with seeded(self.seed + self.state_.epochs_done):
            train(self.state_, x_num, x_cat, target, loss_fn=loss_fn, epochs=epochs,
                  batch_size=int(self.architecture_["batch_size"]), device=self.device_, seed=self.seed,
                  eval_data=eval_data, eval_fn=eval_fn, patience=self.patience if self.early_stopping else None,
                  stop_rule=stop_rule, max_time=self.max_time, verbose=self.verbose)
        self.stopped_ = self.state_.stopped
        self.n_epochs_ = self.state_.epochs_done
        self.best_epoch_ = self.state_.best_epoch
        self.curve_ = list(self.state_.curve)

    # -- predicting ----------------------------------------------------------------------------
    def _raw(self, X: Any) -> np.ndarray:
        from autolearn.nas.training import predict_raw

        check_is_fitted(self, "state_")
        self._check_n_features(X)
        x_num, x_cat = self.coder_.transform(check_X(X, fit=False, schema=self.coder_.schema))
        out = predict_raw(self.state_.network, x_num, x_cat, self.device_)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError("the network produced non-finite outputs; refit it with a lower learning rate")
        return out

    def _check_n_features(self, X: Any) -> None:
        """scikit-learn's wording for an array with a wrong column count (for a DataFrame, the schema
        check names the missing and extra columns instead)."""
        if hasattr(X, "columns"):
            return
        n_columns = X.shape[1] if hasattr(X, "shape") and len(X.shape) == 2 else None
        if n_columns is not None and n_columns != self.n_features_in_:
            raise ValueError(f"X has {n_columns} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input")

    # -- task hooks ----------------------------------------------------------------------------
    def _encode_y(self, y: Any, fitted: bool) -> np.ndarray:
        raise NotImplementedError

    def _fit_target_stats(self, y_enc: np.ndarray) -> None:
        """Hook: regression standardizes its target."""

    def _n_outputs(self) -> int:
        raise NotImplementedError

    def _target(self, y_enc: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _eval_fn(self, y_eval: np.ndarray, eval_loss: Any) -> Callable[[np.ndarray], float]:
        raise NotImplementedError

    def save(self, path: Any) -> Any:
        """Write the fitted network to ``path`` (``autolearn.nas.load`` reads it back)."""
        from autolearn.nas import save

        check_is_fitted(self, "state_")
        return save(self, path)

    # -- saving --------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Torch objects become state dicts of NumPy arrays: a saved model loads on any machine, GPU or
        not, and through any pickler (joblib's memory-mapped loading of torch storages crashed)."""
        state = self.__dict__.copy()
        train_state = state.pop("state_", None)
        state.pop("device_", None)
        if train_state is not None:
            state["_saved_training"] = {
                "network": to_numpy(train_state.network.state_dict()),
                "optimizer": to_numpy(train_state.optimizer.state_dict()),
                **{k: copy.deepcopy(getattr(train_state, k)) for k in
                   ("epochs_done", "curve", "train_curve", "best_loss", "best_epoch", "stopped", "epoch_seconds")},
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.pop("_saved_training", None)
        self.__dict__.update(state)
        if saved is None:
            return
        from autolearn.nas.networks import build_network
        from autolearn.nas.training import make_state

        self.device_ = resolve_device(self.device if self.device != "auto" else "cpu")
        network = build_network(self.architecture_, self.stats_, self.coder_.cardinalities, self._n_outputs())
        network.load_state_dict(to_tensors(saved.pop("network")))
        train_state = make_state(network, self.architecture_["lr"], self.architecture_["weight_decay"], self.device_)
        train_state.optimizer.load_state_dict(to_tensors(saved.pop("optimizer")))
        for key, value in saved.items():
            setattr(train_state, key, value)
        train_state.best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        self.state_ = train_state

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class NeuralNetClassifier(ClassifierMixin, _NeuralNetBase):
    """A network of one architecture for classification (softmax over the classes, cross-entropy).

    Parameters
    ----------
    architecture : dict, optional
        Hyperparameters of ``space`` (see :mod:`autolearn.nas.spaces`); missing ones take defaults.
        May hold ``"space"``, e.g. the ``architecture_`` of another fitted network or of a search.
    space : {"residual", "chain", "cell"}, default="residual"
    epochs : int, default=100
        Most epochs to train (the fidelity of a search); early stopping usually ends sooner.
    lr, batch_size, weight_decay : optional
        Override the architecture's training hyperparameters.
    seed : int, default=0
        Weights, dropout, shuffling and the validation split: same seed, same network on a CPU.
    early_stopping : bool, default=True
        Keep the best epoch on a ``validation_fraction`` split and stop after ``patience`` epochs
        without improvement.
    warm_start : bool, default=False
        Continue the current network in ``fit`` (up to ``epochs`` in total) instead of a new one.
    max_time : float, optional
        Seconds of training after which no new epoch starts (at least one epoch always runs).
    device : str, default="auto"
        "auto" uses CUDA, with mixed precision, when it is available.

    Attributes
    ----------
    classes_, n_features_in_, architecture_ (an :class:`~autolearn.nas.spaces.Architecture`:
    ``str()`` describes it, the dict rebuilds it), curve_ (validation loss per epoch), n_epochs_,
    best_epoch_, stopped_ ("", "early_stopping", "learning_curve", "time", "diverged").

    Examples
    --------
    >>> clf = NeuralNetClassifier({"n_blocks": 1, "d_main": 64}, epochs=20).fit(X, y)  # doctest: +SKIP
    >>> print(clf.architecture_)  # doctest: +SKIP
    """

    _task = "classification"

    def _encode_y(self, y: Any, fitted: bool) -> np.ndarray:
        if not fitted:
            y_enc, _, self.classes_ = check_y(y, "classification")
            return y_enc
        labels = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=object).ravel()
        known = {v: i for i, v in enumerate(self.classes_.tolist())}
        unknown = sorted({str(v) for v in labels if v not in known})
        if unknown:
            raise ValueError(f"y has label(s) {unknown[:10]} not seen when the network was first fitted")
        return np.array([known[v] for v in labels], dtype=np.int64)

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _target(self, y_enc: np.ndarray) -> np.ndarray:
        return y_enc.astype(np.int64)

    def _eval_fn(self, y_eval: np.ndarray, eval_loss: Any) -> Callable[[np.ndarray], float]:
        if eval_loss is not None:
            return lambda out: eval_loss(y_eval, _softmax(out))
        rows = np.arange(len(y_eval))

        def cross_entropy(out: np.ndarray) -> float:
            z = out - out.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return float(-log_p[rows, y_eval].mean())

        return cross_entropy

    def predict_proba(self, X: Any) -> np.ndarray:
        return _softmax(self._raw(X).astype(np.float64))

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ is looked up
        return self.classes_[np.argmax(proba, axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNetBase):
    """A network of one architecture for regression (mean squared error on the standardized target).

    Parameters and attributes as :class:`NeuralNetClassifier` (no ``classes_``); predictions are in
    the target's own units.
    """

    _task = "regression"

    def _encode_y(self, y: Any, fitted: bool) -> np.ndarray:
        return check_y(y, "regression")[0]

    def _fit_target_stats(self, y_enc: np.ndarray) -> None:
        self.y_mean_ = float(np.mean(y_enc))
        std = float(np.std(y_enc))
        self.y_std_ = std if std > 1e-12 else 1.0

    def _n_outputs(self) -> int:
        return 1

    def _target(self, y_enc: np.ndarray) -> np.ndarray:
        return ((y_enc - self.y_mean_) / self.y_std_).astype(np.float32).reshape(-1, 1)

    def _eval_fn(self, y_eval: np.ndarray, eval_loss: Any) -> Callable[[np.ndarray], float]:
        if eval_loss is not None:
            return lambda out: eval_loss(y_eval, self._unscale(out))
        scaled = (y_eval - self.y_mean_) / self.y_std_
        return lambda out: float(np.mean((out.ravel() - scaled) ** 2))

    def _unscale(self, out: np.ndarray) -> np.ndarray:
        return out.astype(np.float64).ravel() * self.y_std_ + self.y_mean_

    def predict(self, X: Any) -> np.ndarray:
        return self._unscale(self._raw(X))


def estimator_for(task: str) -> type[_NeuralNetBase]:
    """The estimator class of a task ("binary", "multiclass", "classification" or "regression")."""
    return NeuralNetRegressor if task == "regression" else NeuralNetClassifier


class NetworkAverage(FoldAverage):
    """Networks of one architecture trained on different rows, their predictions averaged: what
    :func:`~autolearn.nas.search` returns after cross-validation, the k fold networks it validated.

    On small tables one network carries the full variance of its random start and of its early-stopping
    epoch; the mean of k such networks does not, and needs no refit.
    """

    @property
    def architecture_(self) -> Architecture:
        return self.models[0].architecture_

    def save(self, path: Any) -> Any:
        """Write the fitted networks to ``path`` (``autolearn.nas.load`` reads them back)."""
        from autolearn.nas import save

        return save(self, path)
