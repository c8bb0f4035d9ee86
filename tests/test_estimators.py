"""The scikit-learn contract, bad inputs, misbehaving components, reproducibility and save/load."""

import ctypes
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.utils.estimator_checks import parametrize_with_checks

from autolearn import AutoClassifier, AutoRegressor, load
from autolearn.components import Component, get, register

FAST = dict(time_budget=60, max_trials=1, ensemble=None, resampling=2, n_jobs=1)


@parametrize_with_checks(
    [AutoClassifier(include=["logistic_regression"], **FAST), AutoRegressor(include=["ridge"], **FAST)],
    # check_array_api_input is skipped by scikit-learn itself unless SCIPY_ARRAY_API is set.
)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    frame["color"] = pd.Categorical(np.where(y == 1, "red", "blue"))
    return frame, np.where(y == 1, "yes", "no")


BAD_INPUTS = [
    ("empty X", lambda X, y: (X.iloc[:0], y[:0]), {}, "X is empty: 0 rows"),
    ("length mismatch", lambda X, y: (X, y[:-1]), {}, "X has 120 rows but y has 119"),
    ("NaN in y", lambda X, y: (X, np.r_[[np.nan], np.ones(119)]), {"task": "binary"}, "NaN"),
    ("inf in y regression", lambda X, y: (X, np.r_[[np.inf], np.arange(119.0)]), {}, "inf"),
    ("single class", lambda X, y: (X, np.array(["a"] * 120)), {}, "single class 'a'"),
    ("non-positive budget", lambda X, y: (X, y), {"time_budget": 0}, "time_budget must be positive"),
    ("nan budget", lambda X, y: (X, y), {"time_budget": float("nan")}, "time_budget must be positive and finite"),
    ("unknown metric", lambda X, y: (X, y), {"metric": "accurcy"}, "unknown metric 'accurcy'"),
    ("unknown strategy", lambda X, y: (X, y), {"strategy": "magic"}, "unknown strategy 'magic'"),
    ("unknown component", lambda X, y: (X, y), {"include": ["lightgbmm"]}, "lightgbmm"),
    ("bad ensemble", lambda X, y: (X, y), {"ensemble": "voting"}, "ensemble must be one of"),
    ("bad n_jobs", lambda X, y: (X, y), {"n_jobs": 0}, "n_jobs must be a positive integer"),
    ("no budget at all", lambda X, y: (X, y), {"time_budget": None, "max_trials": None}, "give time_budget"),
    ("bad resampling", lambda X, y: (X, y), {"resampling": "loo"}, "resampling must be"),
]


@pytest.mark.parametrize("name, make, params, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_named_before_any_work(data, tmp_path, name, make, params, message):
    X, y = make(*data)
    params = dict(params)
    task = params.pop("task", None)
    cls = AutoRegressor if "regression" in name else AutoClassifier
    model = cls(run_dir=str(tmp_path / "run"), **{"time_budget": 10, "max_trials": 1, **params})
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(X, y) if cls is AutoRegressor else model.fit(X, y, task=task)
    assert not (tmp_path / "run").exists()  # nothing written for bad input


def test_predict_time_checks(data):
    X, y = data
    model = AutoClassifier(max_trials=2, seed=0, ensemble=None, time_budget=60).fit(X, y)
    with pytest.raises(ValueError, match="missing.*'f1'|'f1'.*missing"):
        model.predict(X.drop(columns="f1"))
    shuffled = X[list(reversed(X.columns))]
    np.testing.assert_array_equal(model.predict(shuffled), model.predict(X))
    unseen = X.copy()
    unseen["color"] = pd.Categorical(["green"] * len(X))
    unseen.loc[0, "f0"] = np.nan
    proba = model.predict_proba(unseen)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(1), 1)
    assert set(model.predict(X)) <= {"yes", "no"}


# -- misbehaving components --------------------------------------------------------------------
class Misbehaving(ClassifierMixin, BaseEstimator):
    def __init__(self, kind="ok"):
        self.kind = kind

    def fit(self, X, y):
        if self.kind == "segfault":
            ctypes.string_at(0)
        if self.kind == "memory":
            hoard = []
            while True:  # ever larger blocks: the limit is reached within a few allocations even on a busy machine
                hoard.append(np.ones(10_000_000 * 2 ** len(hoard)))
        if self.kind == "hang":
            time.sleep(10_000)
        self.classes_ = np.unique(y)
        self.prior_ = np.bincount(y) / len(y)
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


def _register(kind):
    name = f"misbehaving_{kind}"
    try:
        return get(name)
    except ValueError:
        return register(Component(name, "model", ("binary", "multiclass"), lambda p, ctx, k=kind: Misbehaving(k),
                                  default_in_space=False))


def test_crashing_hogging_and_hanging_trials_fail_with_reason(data):
    X, y = data
    names = [_register(k).name for k in ("segfault", "memory", "hang", "ok")]
    budget = 60
    model = AutoClassifier(time_budget=budget, per_trial_time_limit=8, memory_limit=800, strategy="grid",
                           include=[*names, "mean", "no_scaling", "all_features"], seed=0)
    start = time.monotonic()
    model.fit(X, y)
    assert time.monotonic() - start <= budget + max(0.05 * budget, 5)
    trials = model.trials_
    trials = trials[trials["kind"] == "validation"]
    by_model = trials.groupby("model")["status"].agg(set).to_dict()
    # a trial still running when the budget ends is cancelled; every one that ran to its end failed right
    assert "crashed" in by_model["misbehaving_segfault"] <= {"crashed", "cancelled"}
    assert "memout" in by_model["misbehaving_memory"] <= {"memout", "cancelled"}
    assert "timeout" in by_model["misbehaving_hang"] <= {"timeout", "cancelled"}
    assert "success" in by_model["misbehaving_ok"] <= {"success", "cancelled"}
    failed = trials[trials["status"] != "cancelled"]
    reasons = dict(zip(failed["model"], failed["error"]))
    assert "SIGSEGV" in reasons["misbehaving_segfault"]
    assert "memory limit of 800 MB" in reasons["misbehaving_memory"]
    assert "time limit of 8.0 s" in reasons["misbehaving_hang"]
    assert model.get_models_with_weights()[0][1].named_steps["model"] is not None


def test_fallback_model_when_nothing_finishes(data):
    X, y = data
    name = _register("hang").name
    model = AutoClassifier(time_budget=6, include=[name], seed=0).fit(X, y)
    assert model.search_.fallback
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(1), 1)


# -- reproducibility and persistence -----------------------------------------------------------
def test_same_seed_same_leaderboard():
    X, y = make_regression(n_samples=150, n_features=6, noise=5.0, random_state=1)
    # no time budget, so no per-trial limit: a limit may cut a model short where the machine is slow
    kwargs = dict(time_budget=None, max_trials=6, seed=3, n_jobs=1)
    a = AutoRegressor(**kwargs).fit(X, y).leaderboard()
    b = AutoRegressor(**kwargs).fit(X, y).leaderboard()
    cols = ["model", "hyperparameters", "rmse", "status", "ensemble_weight"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


LOAD_SCRIPT = """
import sys, numpy as np, pandas as pd
from autolearn import load
model = load(sys.argv[1])
X = pd.read_pickle(sys.argv[2])
np.save(sys.argv[3], model.predict_proba(X))
"""


def test_saved_model_predicts_identically_in_a_fresh_process(data, tmp_path):
    X, y = data
    model = AutoClassifier(time_budget=60, max_trials=3, seed=0).fit(X, y)
    path = model.save(tmp_path / "model.pkl")
    X.to_pickle(tmp_path / "X.pkl")
    out = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(path), str(tmp_path / "X.pkl"),
                          str(tmp_path / "p.npy")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), model.predict_proba(X))
    assert isinstance(load(path), AutoClassifier)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.save(tmp_path / "missing" / "model.pkl")


def test_results_api(data):
    X, y = data
    model = AutoClassifier(time_budget=60, max_trials=4, seed=0).fit(X, y)
    board = model.leaderboard()
    assert list(board.columns[:4]) == ["rank", "model", "hyperparameters", "roc_auc"]
    assert board["rank"].tolist() == list(range(1, len(board) + 1))
    weights = model.get_models_with_weights()
    assert abs(sum(w for w, _ in weights) - 1) < 1e-9
    assert board["ensemble_weight"].sum() == pytest.approx(1.0, abs=1e-3)
    assert model.best_config_["model"] == board.iloc[0]["model"]
    assert len(model.trials_) >= 4
    assert 0.5 <= model.score(X, y) <= 1.0
