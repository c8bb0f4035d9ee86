"""Small tables for the network tests: seconds per test on one thread, every column kind that matters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def pytest_configure(config: pytest.Config) -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)  # tiny networks; a shared CI machine must not be flooded with threads


def table(n: int = 160, seed: int = 0, task: str = "binary") -> tuple[pd.DataFrame, pd.Series]:
    """Numeric (with NaN), categorical and boolean columns; a target that needs all three."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "a": rng.normal(size=n),
        "b": np.where(rng.random(n) < 0.15, np.nan, rng.normal(size=n)),
        "colour": pd.Series(rng.choice(["red", "green", "blue"], size=n), dtype="category"),
        "flag": rng.choice([True, False], size=n),
    })
    signal = X["a"] + X["b"].fillna(0) + (X["colour"] == "red") * 1.5 - X["flag"] * 0.5
    if task == "regression":
        return X, pd.Series(signal + 0.1 * rng.normal(size=n), name="y")
    if task == "multiclass":
        return X, pd.Series(np.digitize(signal, [-0.5, 0.8]), name="y").map({0: "low", 1: "mid", 2: "high"})
    return X, pd.Series(np.where(signal > 0.3, "yes", "no"), name="y")


@pytest.fixture
def binary_table() -> tuple[pd.DataFrame, pd.Series]:
    return table()


@pytest.fixture
def regression_table() -> tuple[pd.DataFrame, pd.Series]:
    return table(task="regression")
