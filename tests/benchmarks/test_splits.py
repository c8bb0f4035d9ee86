"""Splits: same (dataset, seed) → same rows, saved and reused, stratified, identical for every system."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.automl.splits import load_or_make_splits, make_splits, safe_columns, write_task_files


@pytest.fixture
def y_classes() -> pd.Series:
    rng = np.random.default_rng(0)
    return pd.Series(rng.choice(["a", "b", "c"], p=[0.7, 0.2, 0.1], size=1000))


def test_same_dataset_and_seed_give_same_rows(y_classes):
    a = make_splits("kc1", y_classes, "multiclass", seed=0)
    b = make_splits("kc1", y_classes.copy(), "multiclass", seed=0)
    assert len(a) == 1
    np.testing.assert_array_equal(a[0].train, b[0].train)
    np.testing.assert_array_equal(a[0].test, b[0].test)
    assert a[0].fingerprint == b[0].fingerprint


def test_seed_and_dataset_name_change_the_split(y_classes):
    base = make_splits("kc1", y_classes, "multiclass", seed=0)[0].fingerprint
    assert make_splits("kc1", y_classes, "multiclass", seed=1)[0].fingerprint != base
    assert make_splits("spambase", y_classes, "multiclass", seed=0)[0].fingerprint != base


def test_default_split_is_75_25_disjoint_and_complete(y_classes):
    (s,) = make_splits("d", y_classes, "multiclass", seed=3)
    assert len(s.test) == 250 and len(s.train) == 750
    assert not set(s.train) & set(s.test)
    assert sorted([*s.train, *s.test]) == list(range(1000))


def test_split_is_stratified(y_classes):
    (s,) = make_splits("d", y_classes, "multiclass", seed=0)
    overall = y_classes.value_counts(normalize=True)
    test = y_classes.iloc[s.test].value_counts(normalize=True)
    for label in overall.index:
        assert abs(test[label] - overall[label]) <= 1 / len(s.test) + 1e-9


def test_k_folds_partition_the_rows(y_classes):
    splits = make_splits("d", y_classes, "multiclass", seed=0, folds=5)
    assert [s.fold for s in splits] == list(range(5))
    tests = np.concatenate([s.test for s in splits])
    assert sorted(tests) == list(range(1000))


def test_regression_split_covers_the_target_range():
    y = pd.Series(np.arange(400, dtype=float))
    (s,) = make_splits("r", y, "regression", seed=0)
    hist = np.histogram(y.iloc[s.test], bins=10, range=(0, 400))[0]
    assert hist.min() >= 8  # every decile is represented in the test rows (10 each when exact)


def test_rare_classes_do_not_break_stratification():
    y = pd.Series(["a"] * 50 + ["b"] * 50 + ["rare"])
    (s,) = make_splits("d", y, "multiclass", seed=0)
    assert len(s.train) + len(s.test) == 101


def test_saved_split_is_reused_and_checked(tmp_path, y_classes):
    path = tmp_path / "splits" / "seed0.npz"
    first = load_or_make_splits(path, "d", y_classes, "multiclass", seed=0, folds=2)
    assert path.exists()
    again = load_or_make_splits(path, "d", y_classes, "multiclass", seed=0, folds=2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.test, b.test)
    with pytest.raises(ValueError, match="rows"):
        load_or_make_splits(path, "d", y_classes.iloc[:900], "multiclass", seed=0, folds=2)


def test_task_files_hold_only_the_split_rows_and_no_test_labels(tmp_path, y_classes):
    X = pd.DataFrame({"x y": np.arange(1000), "1st": y_classes, "target": 0.5})
    (s,) = make_splits("d", y_classes, "multiclass", seed=0)
    codes = pd.factorize(y_classes, sort=True)[0]
    d = write_task_files(tmp_path / "task", X, codes, s, {"task": "multiclass", "n_classes": 3})
    train, test = pd.read_parquet(d / "train.parquet"), pd.read_parquet(d / "test.parquet")
    assert list(train["x_y"]) == list(s.train) and list(test["x_y"]) == list(s.test)
    assert "target" in train and "target" not in test.columns
    assert list(test.columns) == safe_columns(X.columns)  # the original "target" feature was renamed
    assert list(train["target"]) == list(codes[s.train])
