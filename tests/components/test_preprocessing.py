from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_selection import f_classif

from autolearn.components import TASKS, BuildContext, components, get
from autolearn.components.preprocessing import OutOfFoldTargetEncoder, QuantileNormal, _SelectPercentile
from autolearn.pipeline import build_pipeline

PREPROCESSORS = [(task, c.kind, c.name) for task in TASKS for c in components(task=task) if c.kind != "model"]
LINEAR = {"binary": "logistic_regression", "multiclass": "logistic_regression", "regression": "ridge"}


@pytest.mark.parametrize(("task", "kind", "name"), PREPROCESSORS, ids=[f"{t}-{n}" for t, _, n in PREPROCESSORS])
def test_every_preprocessor_in_a_pipeline(task, kind, name, frame, awkward_frame, schema, make_target):
    config = {"model": LINEAR[task], kind: name}
    pipe = build_pipeline(config, task=task, schema=schema, n_classes=3 if task == "multiclass" else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(frame, make_target(task, frame))
    out = pipe.predict_proba(awkward_frame) if task != "regression" else pipe.predict(awkward_frame)
    assert np.isfinite(out).all() and len(out) == len(frame)


def _categories(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"c": rng.choice(list("abcdefgh"), size=n, p=[0.4, 0.3, 0.2, 0.05, 0.02, 0.01, 0.01, 0.01])})
    noisy = X["c"].isin(["a", "d"]).to_numpy() ^ (rng.random(n) < 0.2)
    return X.astype(object), noisy.astype(int)


def test_one_hot_groups_rare_and_unseen_categories():
    X, y = _categories()
    enc = get("one_hot").build({"min_frequency": 0.04, "max_categories": 64}, BuildContext("binary")).fit(X)
    assert enc.transform(X).shape[1] == 5  # a, b, c, d + one 'infrequent' column
    unseen = enc.transform(pd.DataFrame({"c": ["zzz"]}, dtype=object))
    assert unseen.sum() == 1  # lands in the infrequent column


def test_ordinal_maps_unseen_to_minus_one():
    X, _ = _categories()
    enc = get("ordinal").build({}, BuildContext("binary")).fit(X)
    assert enc.transform(pd.DataFrame({"c": ["zzz"]}, dtype=object))[0, 0] == -1


@pytest.mark.parametrize("task", TASKS)
def test_target_encoder_is_out_of_fold(task):
    X, y = _categories()
    if task == "multiclass":
        y = np.arange(len(y)) % 3
    elif task == "regression":
        y = y * 10.0
    enc = OutOfFoldTargetEncoder(task, seed=0)
    train = enc.fit_transform(X, y)
    full = enc.transform(X)
    assert train.shape == full.shape == (len(X), 3 if task == "multiclass" else 1)
    assert not np.allclose(train, full)  # cross-fitted rows do not see their own target
    assert np.isfinite(enc.transform(pd.DataFrame({"c": ["zzz"]}, dtype=object))).all()


def test_target_encoder_on_tiny_data():
    X = pd.DataFrame({"c": ["a", "b", "a"]}, dtype=object)
    assert OutOfFoldTargetEncoder("binary").fit_transform(X, np.array([0, 1, 1])).shape == (3, 1)


def test_select_percentile_keeps_at_least_one_feature():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.arange(40) % 2
    assert _SelectPercentile(f_classif, percentile=1).fit_transform(X, y).shape == (40, 1)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("estimator", ["extra_trees", "l1"])
def test_select_from_model(task, estimator):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6))
    y = (X[:, 0] > 0).astype(int) if task != "regression" else 100 * X[:, 0]
    if task == "multiclass":
        y = np.digitize(X[:, 0], [-0.5, 0.5])
    comp = get("select_from_model")
    step = comp.build(comp.resolve({"estimator": estimator}, task), BuildContext(task, n_jobs=1))
    out = step.fit_transform(X, y)
    assert 1 <= out.shape[1] <= 6
    assert step.get_support()[0]  # the informative feature survives


def test_dense_only_steps_step_aside_on_sparse():
    X = sp.random(50, 8, density=0.2, format="csr", random_state=0)
    for name in ("pca", "quantile"):
        comp = get(name)
        assert comp.build(comp.resolve({}, "binary"), BuildContext("binary")).fit_transform(X) is X
    standard = get("standard").build({}, BuildContext("binary")).fit_transform(X)
    assert sp.issparse(standard)


def test_quantile_caps_quantiles_at_rows():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        QuantileNormal(1000).fit(np.random.default_rng(0).normal(size=(20, 2)))
