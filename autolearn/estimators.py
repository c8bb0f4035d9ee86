"""The scikit-learn-facing classes: validate the input, hand over to :mod:`autolearn.automl`, predict.

Parameters are stored unchanged in ``__init__`` and checked in ``fit`` (scikit-learn's contract), so
``clone``, ``get_params`` and grid searches over these estimators work as for any other.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from autolearn.automl import SearchResult, Settings, run_automl
from autolearn.data.schema import Schema
from autolearn.data.types import infer_schema
from autolearn.data.validation import check_consistent_length, check_X, check_y
from autolearn.leaderboard import leaderboard, trials_frame

ENSEMBLES = (None, "selection", "stacking", "stacking-lasso", "stacking-elasticnet")
BACKENDS = ("local", "dask")


class _AutoBase(BaseEstimator):
    _estimator_type: str

    def __init__(
        self,
        time_budget: float | None = 60.0,
        *,
        per_trial_time_limit: float | None = None,
        memory_limit: float | None = None,
        max_trials: int | None = None,
        n_jobs: int = -1,
        seed: int = 0,
        metric: Any = None,
        resampling: Any = "auto",
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        strategy: str = "auto",
        ensemble: str | None = "selection",
        max_ensemble_size: int | None = None,
        infer_time_limit: float | None = None,
        refit: bool | str = "auto",
        backend: str = "local",
        dask_client: Any = None,
        dask_address: str | None = None,
        run_dir: str | None = None,
        storage: str | None = None,
        resume: bool = False,
        warm_start: bool = True,
        verbose: int = 0,
    ) -> None:
        self.time_budget = time_budget
        self.per_trial_time_limit = per_trial_time_limit
        self.memory_limit = memory_limit
        self.max_trials = max_trials
        self.n_jobs = n_jobs
        self.seed = seed
        self.metric = metric
        self.resampling = resampling
        self.include = include
        self.exclude = exclude
        self.strategy = strategy
        self.ensemble = ensemble
        self.max_ensemble_size = max_ensemble_size
        self.infer_time_limit = infer_time_limit
        self.refit = refit
        self.backend = backend
        self.dask_client = dask_client
        self.dask_address = dask_address
        self.run_dir = run_dir
        self.storage = storage
        self.resume = resume
        self.warm_start = warm_start
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------------------
    def _settings(self, task: str) -> Settings:
        _check_optional_positive("time_budget", self.time_budget)
        _check_optional_positive("per_trial_time_limit", self.per_trial_time_limit)
        _check_optional_positive("memory_limit", self.memory_limit)
        _check_optional_positive("infer_time_limit", self.infer_time_limit)
        if self.time_budget is None and self.max_trials is None:
            raise ValueError("give time_budget (seconds) or max_trials; with neither the search would never end")
        if self.max_trials is not None and (not isinstance(self.max_trials, (int, np.integer)) or self.max_trials < 1):
            raise ValueError(f"max_trials must be a positive integer, got {self.max_trials!r}")
        if not isinstance(self.n_jobs, (int, np.integer)) or self.n_jobs == 0 or self.n_jobs < -1:
            raise ValueError(f"n_jobs must be a positive integer or -1 (all cores), got {self.n_jobs!r}")
        if self.ensemble not in ENSEMBLES:
            raise ValueError(f"ensemble must be one of {ENSEMBLES}, got {self.ensemble!r}")
        if not (isinstance(self.refit, (bool, np.bool_)) or (isinstance(self.refit, str) and self.refit == "auto")):
            raise ValueError(f"refit must be True, False or 'auto', got {self.refit!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.backend == "local" and (self.dask_client is not None or self.dask_address):
            raise ValueError("dask_client / dask_address need backend='dask'")
        if self.max_ensemble_size is not None and self.max_ensemble_size < 1:
            raise ValueError(f"max_ensemble_size must be at least 1, got {self.max_ensemble_size!r}")
        import os

        n_jobs = (os.cpu_count() or 1) if self.n_jobs == -1 else int(self.n_jobs)
        return Settings(
            task=task, metric=self.metric, time_budget=self.time_budget, max_trials=self.max_trials,
            per_trial_time_limit=self.per_trial_time_limit, memory_limit=self.memory_limit, n_jobs=n_jobs,
            seed=int(self.seed), resampling=self.resampling, include=_names(self.include, "include"),
            exclude=_names(self.exclude, "exclude"), strategy=self.strategy, ensemble=self.ensemble,
            max_ensemble_size=self.max_ensemble_size, infer_time_limit=self.infer_time_limit,
            refit=self.refit if isinstance(self.refit, str) else bool(self.refit),
            run_dir=self.run_dir, storage=self.storage, resume=bool(self.resume), warm_start=bool(self.warm_start), backend=self.backend,
            dask_client=self.dask_client, dask_address=self.dask_address, verbose=self.verbose,
        )

    def _fit(self, X: Any, y: Any, task: str | None) -> _AutoBase:
        start = time.monotonic()
        X = check_X(X, fit=True)
        y_enc, task, classes = check_y(y, task)
        check_consistent_length(X, y_enc)
        if len(y_enc) < 2:
            raise ValueError(f"X has {len(y_enc)} sample(s) (n_samples={len(y_enc)}); at least 2 are needed to "
                             "validate a model")
        settings = self._settings(task)
        from autolearn.evaluation.metrics import get_metric

        get_metric(settings.metric, task)  # an unknown metric fails before any work is done
        schema = _numeric_schema(X.shape[1]) if not isinstance(X, pd.DataFrame) else infer_schema(X)
        self.search_: SearchResult = run_automl(X, y_enc, schema, settings, start=start)
        self.task_ = task
        if classes is not None:
            self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        if isinstance(X, pd.DataFrame) and not _generated_names(schema.columns):
            self.feature_names_in_ = np.asarray(schema.columns, dtype=object)
        self.fit_time_ = time.monotonic() - start
        return self

    # -- results -------------------------------------------------------------------------------
    def _check_input(self, X: Any) -> Any:
        check_is_fitted(self, "search_")
        n_columns = getattr(X, "shape", (0, None))[1] if getattr(X, "ndim", 2) == 2 else None
        if n_columns is not None and not isinstance(X, pd.DataFrame) and n_columns != self.n_features_in_:
            raise ValueError(f"X has {n_columns} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input")
        return check_X(X, fit=False, schema=self.search_.schema)

    @property
    def best_config_(self) -> dict[str, Any]:
        """Configuration of the best single model (lowest validation loss at full budget)."""
        check_is_fitted(self, "search_")
        best = min(
            (r for r in self.search_.records if r.result is not None and r.result.ok and r.spec.budget >= 1.0
             and r.spec.instance is None),
            key=lambda r: r.result.loss, default=None,  # type: ignore[union-attr]
        )
        return {} if best is None else dict(best.spec.config)

    @property
    def trials_(self) -> pd.DataFrame:
        """Every trial of the search: configuration, fidelity, status, loss, timings, error."""
        check_is_fitted(self, "search_")
        return trials_frame(self.search_.records, self.search_.metric)

    def leaderboard(self) -> pd.DataFrame:
        """Finished configurations ranked by validation score, ensemble members marked."""
        check_is_fitted(self, "search_")
        weights = {tid: w for w, _, tid in self.search_.members}
        return leaderboard(self.search_.records, self.search_.metric, weights)

    def get_models_with_weights(self) -> list[tuple[float, Any]]:
        """(weight, fitted pipeline) pairs of the final model, heaviest first. With ``refit=False`` a member
        is a ``FoldAverage`` whose ``models`` are the fitted fold pipelines."""
        check_is_fitted(self, "search_")
        return [(w, m) for w, m, _ in self.search_.members]

    def feature_importance(self, X: Any, y: Any, n_repeats: int = 5, seed: int = 0) -> pd.DataFrame:
        """Permutation importance on held-out data, in the search's own metric."""
        check_is_fitted(self, "search_")
        from autolearn.report.explain import feature_importance

        return feature_importance(self, X, y, n_repeats=n_repeats, seed=seed)

    def explain(self, X: Any, *, background: Any = None, target: Any = None, method: str = "auto",
                n_permutations: int = 10, n_background: int | None = None, seed: int = 0) -> pd.DataFrame:
        """Per-row feature contributions (SHAP where installed, permutation-sampled Shapley values otherwise)."""
        check_is_fitted(self, "search_")
        from autolearn.report.explain import explain

        return explain(self, X, background=background, target=target, method=method,
                       n_permutations=n_permutations, n_background=n_background, seed=seed)

    def report(self, path: str | Path, X_test: Any = None, y_test: Any = None, *, title: str | None = None) -> Path:
        """One self-contained HTML file: leaderboard, pipeline, plots of the search and of the model."""
        check_is_fitted(self, "search_")
        from autolearn.report.html import write_report

        return write_report(self, path, X_test, y_test, title=title)

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to ``path``; ``autolearn.load(path)`` reads it in any process."""
        check_is_fitted(self, "search_")
        path = Path(path)
        if path.parent and not path.parent.exists():
            raise FileNotFoundError(f"cannot save to {path}: directory {path.parent} does not exist")
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            cloudpickle.dump(self, fh)
        tmp.replace(path)  # never leave a half-written model behind
        return path

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags


class AutoClassifier(ClassifierMixin, _AutoBase):
    """Tuned, ensembled classifier found within ``time_budget`` seconds.

    Parameters
    ----------
    time_budget : float, default=60
        Seconds for the whole ``fit``, refit included; ``fit`` returns within
        budget + max(5 %, 5 s).
    per_trial_time_limit : float, optional
        Seconds one trial may run before it is killed (default: a tenth of the budget). Boosting,
        forests and networks stop adding rounds, trees or epochs before it instead (how many they
        got is in the trial's info), so a large table still yields models, not timeouts.
    memory_limit : float, optional
        MB one trial's worker may use before it is killed (default: 3/4 of RAM / n_jobs).
    max_trials : int, optional
        Stop after this many trials; with ``seed`` and ``n_jobs=1``, two runs give the same leaderboard
        (unless the per-trial limit cut a model short: where it cuts depends on the machine's speed).
    n_jobs : int, default=-1
        Trials run at once, each in its own worker process; -1 uses every core.
    metric : str or callable, optional
        A scikit-learn scorer name or ``score(y_true, y_pred)``; default ROC AUC (binary), log loss
        (multiclass).
    resampling : "auto", "cv", "holdout", int or float
        Validation: k-fold CV (int k), holdout (a fraction) or chosen from the data size.
    include, exclude : list of str, optional
        Component names (models and preprocessors) to restrict the search space.
    strategy : str
        Optimizer or scheduler name ("random", "tpe", "rf", "gp", "sh", "hyperband", "asha", ...).
    ensemble : {"selection", "stacking", "stacking-lasso", "stacking-elasticnet", None}
    max_ensemble_size, infer_time_limit : optional
        At most this many distinct members / seconds of prediction per row, measured on validation.
    refit : bool or "auto", default="auto"
        True: the ensemble's members are refitted on all rows within the budget. False: they are the
        validated models themselves, with cross-validation the k fold models averaged (no refit time,
        k times the prediction cost; the holdout model with a holdout). "auto": refitted after
        cross-validation, the holdout models kept after a holdout (large data, where a refit costs most
        and gains least, and where ensemble weights fitted to the validated models must not be moved to
        differently behaving refits). On the ensemble benchmark the refit was better on most
        cross-validated datasets (see ``benchmarks/RESULTS.md``), except for networks (``"nn"``), whose
        fold networks "auto" averages after cross-validation too.
    backend : {"local", "dask"}
        Worker processes on this machine, or a Dask cluster (``dask_client`` or ``dask_address``; a
        local cluster when neither is given).
    run_dir : str, optional
        Where the run history (SQLite), validation predictions and task data are kept; with
        ``resume=True`` an interrupted search in it is continued.
    storage : str, optional
        A SQLAlchemy URL or SQLite path for the run history instead of ``run_dir/history.sqlite``.
    warm_start : bool, default=True
        Start with configurations the shipped meta-database recommends for similar datasets.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = AutoClassifier(time_budget=30).fit(X, y)  # doctest: +SKIP
    >>> model.leaderboard().head()  # doctest: +SKIP
    """

    def fit(self, X: Any, y: Any, task: str | None = None) -> AutoClassifier:
        """Search for ``time_budget`` seconds; ``task`` ("binary" or "multiclass") is inferred when None."""
        if task == "regression":
            raise ValueError("AutoClassifier got task='regression'; use AutoRegressor")
        if task is None:
            y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=object).ravel()
            task = "binary" if len(pd.unique(pd.Series(y_arr).dropna())) == 2 else "multiclass"
        return self._fit(X, y, task)

    def predict_proba(self, X: Any) -> np.ndarray:
        X = self._check_input(X)
        return np.asarray(self.search_.model.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class AutoRegressor(RegressorMixin, _AutoBase):
    """Tuned, ensembled regressor found within ``time_budget`` seconds (see :class:`AutoClassifier`;
    the default metric is RMSE)."""

    def fit(self, X: Any, y: Any) -> AutoRegressor:
        return self._fit(X, y, "regression")

    def predict(self, X: Any) -> np.ndarray:
        X = self._check_input(X)
        return np.asarray(self.search_.model.predict(X), dtype=float)


def load(path: str | Path) -> Any:
    """Read a model written by ``save``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved model at {path}")
    with open(path, "rb") as fh:
        model = cloudpickle.load(fh)
    if not type(model).__module__.startswith("autolearn."):  # AutoML models and autolearn.nas networks
        raise ValueError(f"{path} does not hold an autolearn model (found {type(model).__name__})")
    return model


def _check_optional_positive(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of {'seconds' if 'time' in name else 'units'}, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")


def _names(value: Sequence[str] | str | None, param: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    names = tuple(value)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{param} must be a list of component names, got {value!r}")
    return names


def _numeric_schema(n: int) -> Schema:
    columns = tuple(f"x{i}" for i in range(n))
    return Schema(columns, {c: "numeric" for c in columns})


def _generated_names(columns: Sequence[str]) -> bool:
    return list(columns) == [f"x{i}" for i in range(len(columns))]


__all__ = ["AutoClassifier", "AutoRegressor", "load"]
