from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import StandardScaler

from autolearn.components.transformers import MISSING, ColumnKinds, DenseOrSparse, ToDense
from autolearn.data.schema import Schema


def test_column_kinds_converts_every_kind(frame, schema):
    out = ColumnKinds(schema).fit_transform(frame)
    assert "constant" not in out and "empty" not in out  # no information on the training rows
    for part in ("month", "day", "day_of_week", "hour", "epoch"):
        assert f"when__{part}" in out
    assert "when__year" not in out  # every training row is in 2021: a constant part is dropped
    assert out["flag"].isin([0.0, 1.0]).all()
    assert any(c.startswith("text__") for c in out)
    assert out["cat"].dtype == object and MISSING in set(out["cat"])
    numeric = out.drop(columns="cat")
    assert all(pd.api.types.is_float_dtype(t) for t in numeric.dtypes)
    assert np.isnan(out["num_nan"]).any()  # imputation is the tuned step's job


def test_column_kinds_survives_predict_time_surprises(frame, awkward_frame, schema):
    ck = ColumnKinds(schema).fit(frame)
    out = ck.transform(awkward_frame)
    assert list(out.columns) == list(ck.transform(frame).columns)
    assert out.loc[0, "cat"] == "purple"  # the encoder maps it to its unknown/infrequent slot
    assert np.isnan(out.loc[1, "flag"]) and np.isnan(out.loc[1, "when__epoch"])


def test_epoch_seconds_and_timezones():
    schema = Schema(("t",), {"t": "datetime"})
    X = pd.DataFrame({"t": pd.to_datetime(["1970-01-01 00:00:10", "1970-01-02 00:00:00"]).tz_localize("Europe/Paris")})
    out = ColumnKinds(schema).fit_transform(X)
    assert out["t__epoch"].tolist() == [10.0 - 3600, 86400.0 - 3600]
    strings = pd.DataFrame({"t": ["2020-01-01", "not a date", None]})
    out = ColumnKinds(schema).fit_transform(strings)
    assert out["t__year"].iloc[0] == 2020 and out["t__year"].isna().sum() == 2


def test_boolean_levels_from_strings():
    schema = Schema(("b",), {"b": "boolean"})
    out = ColumnKinds(schema).fit(pd.DataFrame({"b": ["yes", "no", "yes"]})).transform(
        pd.DataFrame({"b": ["no", "yes", "maybe"]}))
    assert out["b"].tolist()[:2] == [0.0, 1.0] and np.isnan(out["b"].iloc[2])


def test_text_without_vocabulary_gives_no_columns():
    schema = Schema(("t", "x"), {"t": "text", "x": "numeric"})
    X = pd.DataFrame({"t": ["", "a", None], "x": [1.0, 2.0, 3.0]})  # single letters are not tokens
    out = ColumnKinds(schema).fit_transform(X)
    assert list(out.columns) == ["x"]


def test_all_useless_columns_keep_one():
    schema = Schema(("a", "b"), {"a": "numeric", "b": "numeric"})
    out = ColumnKinds(schema).fit_transform(pd.DataFrame({"a": [1.0, 1.0], "b": [np.nan, np.nan]}))
    assert out.shape == (2, 1)


def test_arrays_and_missing_columns(schema, frame):
    simple = Schema(("a", "b"), {"a": "numeric", "b": "numeric"})
    out = ColumnKinds(simple).fit_transform(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert list(out.columns) == ["a", "b"]
    with pytest.raises(ValueError, match="missing column"):
        ColumnKinds(schema).fit(frame.drop(columns="num"))


def test_sparse_passes_through():
    X = sp.random(20, 5, density=0.3, format="csr", random_state=0)
    schema = Schema(tuple(f"x{i}" for i in range(5)), {f"x{i}": "numeric" for i in range(5)})
    ck = ColumnKinds(schema).fit(X)
    assert ck.transform(X) is X
    with pytest.raises(TypeError):
        ck.transform(X.toarray())


def test_dense_or_sparse_picks_by_input():
    step = DenseOrSparse(StandardScaler(), StandardScaler(with_mean=False))
    X = sp.random(30, 4, density=0.5, format="csr", random_state=0)
    assert sp.issparse(step.fit_transform(X))
    dense = step.fit_transform(X.toarray())
    assert np.allclose(dense.mean(axis=0), 0)
    assert DenseOrSparse(StandardScaler(), None).fit(X).transform(X) is X
    assert isinstance(ToDense().fit_transform(X), np.ndarray)
