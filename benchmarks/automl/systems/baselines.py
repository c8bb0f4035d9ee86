"""In-process baselines: the constant predictor, default LightGBM and default random forest.

They anchor the comparison: the constant predictor is normalization's zero (AMLB), and an AutoML
system that does not beat a default LightGBM at the same budget is not earning its search. They run
in the harness process (no venv, no budget: they take what they take) and read the same Parquet
files as every peer, so they see exactly the same rows and columns.
"""

from __future__ import annotations

import pickle
import time
import traceback
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.automl.splits import TARGET
from benchmarks.automl.systems._base import MemoryPoller, RunContext, System, SystemOutput, dir_size

ModelFactory = Callable[[str, int, int, dict], Any]  # (task, cores, seed, options) -> estimator


def _categorical_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


def _as_str(col: pd.Series) -> pd.Series:
    """Values as strings (missing stays missing), whatever the column's dtype was."""
    return col.astype(object).where(col.isna(), col.astype(str))


class _AsCategory:
    """Non-numeric columns as pandas categoricals with the training categories (LightGBM's native
    categorical handling); an unseen test category becomes missing."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def _transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for col, cats in self.categories_.items():
            X[col] = pd.Categorical(_as_str(X[col]), categories=cats)
        return X

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _AsCategory:
        self.categories_ = {c: sorted(_as_str(X[c]).dropna().unique()) for c in _categorical_columns(X)}
        self.estimator.fit(self._transform(X), y)
        self.classes_ = getattr(self.estimator, "classes_", None)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict(self._transform(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict_proba(self._transform(X))


def constant_model(task: str, cores: int, seed: int, options: dict) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyRegressor(strategy="mean") if task == "regression" else DummyClassifier(strategy="prior")


def lightgbm_model(task: str, cores: int, seed: int, options: dict) -> Any:
    from lightgbm import LGBMClassifier, LGBMRegressor

    cls = LGBMRegressor if task == "regression" else LGBMClassifier
    return _AsCategory(cls(n_jobs=cores, random_state=seed, verbose=-1, **options))


def random_forest_model(task: str, cores: int, seed: int, options: dict) -> Any:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    cls = RandomForestRegressor if task == "regression" else RandomForestClassifier
    encode = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                        encoded_missing_value=np.nan), _categorical_columns),
        remainder="passthrough",
    )
    return make_pipeline(encode, cls(n_jobs=cores, random_state=seed, **options))


class InProcessSystem(System):
    """A scikit-learn-style estimator fitted in the harness process; exceptions become ``failed``."""

    def __init__(self, name: str, factory: ModelFactory, package: str = "scikit-learn",
                 options: dict[str, Any] | None = None) -> None:
        super().__init__(name, options)
        self.factory = factory
        self.package = package

    def run(self, ctx: RunContext) -> SystemOutput:
        out = SystemOutput(version=_version(self.package))
        start = time.perf_counter()
        try:
            train = pd.read_parquet(ctx.task_dir / "train.parquet")
            test = pd.read_parquet(ctx.task_dir / "test.parquet")
            y = train.pop(TARGET).to_numpy()
            with MemoryPoller() as memory:
                model = self.factory(ctx.task, ctx.cores, ctx.seed, self.options)
                t0 = time.perf_counter()
                model.fit(train, y)
                out.fit_time = time.perf_counter() - t0
                t0 = time.perf_counter()
                if ctx.task == "regression":
                    out.pred = np.asarray(model.predict(test), dtype=float)
                else:
                    out.proba = np.asarray(model.predict_proba(test))
                    out.classes = [int(c) for c in model.classes_]
                out.predict_time = time.perf_counter() - t0
            out.peak_memory_mb = memory.peak_mb
            out.info["memory_note"] = "in-process: peak RSS of the harness process during fit and predict"
            ctx.out_dir.mkdir(parents=True, exist_ok=True)
            try:
                with open(ctx.out_dir / "model.pkl", "wb") as fh:
                    pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
                out.model_size_bytes = float(dir_size(ctx.out_dir / "model.pkl"))
            except Exception as exc:  # a model that cannot be pickled still has predictions
                out.model_size_reason = f"could not pickle: {type(exc).__name__}: {exc}"
        except Exception as exc:
            out.status = "failed"
            out.reason = f"{type(exc).__name__}: {exc}"
            out.info["traceback"] = traceback.format_exc(limit=-3)
        out.wall_time = time.perf_counter() - start
        return out


def _version(package: str) -> str:
    try:
        return version(package)
    except Exception:
        return ""


BASELINES: dict[str, tuple[ModelFactory, str]] = {
    "constant": (constant_model, "scikit-learn"),
    "lightgbm_default": (lightgbm_model, "lightgbm"),
    "rf_default": (random_forest_model, "scikit-learn"),
}
