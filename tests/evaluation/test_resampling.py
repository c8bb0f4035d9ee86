import numpy as np
import pytest

from autolearn.evaluation.resampling import Resampling, make_splits, resolve_resampling, subsample, validation_rows


@pytest.mark.parametrize("given, n, expected", [
    ("auto", 1000, Resampling("cv", 5)),
    ("auto", 20_000, Resampling("holdout", holdout_fraction=0.2)),
    ("auto", 100_000, Resampling("holdout", holdout_fraction=0.2)),
    ("cv", 100, Resampling("cv", 5)),
    (10, 100, Resampling("cv", 10)),
    (0.25, 100, Resampling("holdout", holdout_fraction=0.25)),
])
def test_resolve(given, n, expected):
    assert resolve_resampling(given, n) == expected


@pytest.mark.parametrize("given, message", [(1, "at least 2 folds"), (1.5, r"in \(0, 1\)"), ("loo", "resampling must be"),
                                            (True, "resampling must be")])
def test_resolve_errors(given, message):
    with pytest.raises(ValueError, match=message):
        resolve_resampling(given, 100)


def test_cv_splits_are_stratified_disjoint_and_cover_every_row():
    y = np.array([0] * 90 + [1] * 10)
    splits = make_splits(y, "binary", Resampling("cv", 5), seed=0)
    rows = validation_rows(splits)
    assert sorted(rows) == list(range(100))
    for train, valid in splits:
        assert not set(train) & set(valid)
        assert (y[valid] == 1).sum() == 2  # 10 positives spread over 5 folds
    again = make_splits(y, "binary", Resampling("cv", 5), seed=0)
    assert all((a[1] == b[1]).all() for a, b in zip(splits, again))


def test_rare_class_falls_back_to_plain_kfold():
    y = np.array([0] * 20 + [1] * 2)
    splits = make_splits(y, "binary", Resampling("cv", 5), seed=0)
    assert len(splits) == 5


def test_holdout_fraction():
    y = np.arange(200) % 3
    (train, valid), = make_splits(y, "multiclass", Resampling("holdout", holdout_fraction=0.25), seed=1)
    assert len(valid) == 50 and len(train) == 150


def test_subsample_keeps_every_class():
    y = np.array([0] * 500 + [1] * 500 + [2] * 5)
    train = np.arange(len(y))
    sub = subsample(train, y, 0.1, "multiclass", seed=0)
    assert 95 <= len(sub) <= 110
    assert set(y[sub]) == {0, 1, 2}
    assert len(subsample(train, y, 1.0, "multiclass", 0)) == len(y)
