"""Finished runs the report tests share, each made once per session: a classification and a regression
AutoML search (small, fast models, a few seconds each), a multi-fidelity (ASHA) study and a
multi-objective study (both in-process, no workers). The classification data has a column named like a
script tag and labels with HTML characters, so every test that renders them checks escaping too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

EVIL_COLUMN = "<script>alert(1)</script>"
FAST = ["logistic_regression", "gaussian_nb", "lda", "knn", "decision_tree", "all_features", "select_percentile"]
FAST_REGRESSION = ["ridge", "lasso", "knn", "decision_tree", "all_features", "select_percentile"]


def _frame(X: np.ndarray, seed: int) -> pd.DataFrame:
    frame = pd.DataFrame(X, columns=[EVIL_COLUMN, "b&c", *[f"x{i}" for i in range(2, X.shape[1])]])
    frame["color"] = np.random.default_rng(seed).choice(["red", "<b>blue</b>", "green"], len(frame))
    return frame


@pytest.fixture(scope="session")
def clf_data() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=300, n_features=5, n_informative=3, random_state=0)
    frame, labels = _frame(X, 0), np.where(y == 1, "<yes>", "no&")
    return frame.iloc[:220], labels[:220], frame.iloc[220:].reset_index(drop=True), labels[220:]


@pytest.fixture(scope="session")
def clf_run(clf_data: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """(fitted AutoClassifier, its run directory)."""
    from autolearn import AutoClassifier

    run_dir = tmp_path_factory.mktemp("run") / "clf"
    X, y, _, _ = clf_data
    model = AutoClassifier(time_budget=12, max_trials=14, per_trial_time_limit=6, n_jobs=2, seed=0, include=FAST,
                           run_dir=str(run_dir)).fit(X, y)
    return model, run_dir


@pytest.fixture(scope="session")
def clf_model(clf_run: tuple[Any, Path]) -> Any:
    return clf_run[0]


@pytest.fixture(scope="session")
def reg_data() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=240, n_features=4, n_informative=3, noise=5.0, random_state=1)
    frame = _frame(X, 1)
    return frame.iloc[:180], y[:180], frame.iloc[180:].reset_index(drop=True), y[180:]


@pytest.fixture(scope="session")
def reg_model(reg_data: Any) -> Any:
    from autolearn import AutoRegressor

    X, y, _, _ = reg_data
    return AutoRegressor(time_budget=10, max_trials=10, per_trial_time_limit=5, n_jobs=2, seed=0,
                         include=FAST_REGRESSION).fit(X, y)


def _asha_objective(trial: Any) -> float:
    noise = 0.3 * (1.0 - trial.budget) * np.sin(7 * trial["x"])
    return (trial["x"] - 1.0) ** 2 + 0.1 * (trial["kind"] == "b") + noise


@pytest.fixture(scope="session")
def asha_study(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A multi-fidelity study (ASHA over random search), stored in SQLite, run in this process."""
    from autolearn.tune import create_study

    path = tmp_path_factory.mktemp("studies") / "asha.sqlite"
    study = create_study({"x": ("float", -3.0, 3.0), "lr": ("float", 1e-4, 1.0, "log"), "kind": ["a", "b"]},
                         optimizer="random", scheduler="asha", seed=0, storage=str(path), name="asha-demo")
    return study.optimize(_asha_objective, n_trials=40, isolate=False)


def _two_objectives(trial: Any) -> tuple[float, float]:
    return trial["x"] ** 2, (trial["x"] - 2.0) ** 2 + trial["y"]


@pytest.fixture(scope="session")
def mo_study() -> Any:
    """A two-objective study (NSGA-II), in memory."""
    from autolearn.tune import create_study

    study = create_study({"x": ("float", -1.0, 3.0), "y": ("float", 0.0, 1.0)}, optimizer="nsga2",
                         directions=["minimize", "minimize"], seed=0)
    return study.optimize(_two_objectives, n_trials=30, isolate=False)
