"""A tiny frame with every column kind and the awkward cases predict time brings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from autolearn.data.schema import Schema

KINDS = {"num": "numeric", "num_nan": "numeric", "cat": "categorical", "flag": "boolean", "when": "datetime",
         "text": "text", "constant": "numeric", "empty": "numeric"}


def mixed_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "num": rng.normal(size=n),
        "num_nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "cat": pd.Series(rng.choice(["red", "green", "blue", None], size=n), dtype="category"),
        "flag": rng.choice([True, False], size=n),
        "when": pd.Series(pd.date_range("2021-03-01", periods=n, freq="37h")),
        "text": rng.choice(["the cat sat on the mat", "dogs bark loudly", "a bird sings at dawn", None], size=n),
        "constant": 1.0,
        "empty": np.nan,
    })


def awkward(X: pd.DataFrame) -> pd.DataFrame:
    """Predict-time surprises: an unseen category, missing values where training had none."""
    X = X.copy()
    X["cat"] = X["cat"].astype(object)
    X["flag"] = X["flag"].astype(object)
    X.loc[0, "cat"] = "purple"
    X.loc[1, ["num", "when", "flag"]] = [np.nan, pd.NaT, None]
    X.loc[2, "text"] = "completely unseen vocabulary"
    return X


def target(task: str, X: pd.DataFrame, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if task == "binary":
        return (X["num"].to_numpy() + rng.normal(scale=0.5, size=len(X)) > 0).astype(int)
    if task == "multiclass":
        return np.arange(len(X)) % 3
    return 1000.0 * X["num"].to_numpy() + 5000.0  # large units: models must cope with unscaled targets


@pytest.fixture(scope="session")
def schema() -> Schema:
    return Schema(tuple(KINDS), KINDS)


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return mixed_frame()


@pytest.fixture(scope="session")
def awkward_frame(frame) -> pd.DataFrame:
    return awkward(frame)


@pytest.fixture(scope="session")
def make_target():
    return target


@pytest.fixture(autouse=True)
def _one_thread():
    # OpenMP pools oversubscribed by parallel test runs make tiny fits take seconds.
    with threadpool_limits(1):
        yield
