"""Data-kind transformers every pipeline starts with, whatever the configuration.

They turn the schema's column kinds into what the tuned steps expect: numeric columns as floats
(booleans as 0/1, datetimes as calendar parts and epoch seconds, text as a few TF-IDF/SVD dimensions)
and categorical columns as strings with missing values as their own category. Columns that carry no
information on the training data (constant, all missing) are dropped. Nothing here crashes on
categories, levels or missing values first seen at predict time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from autolearn.data.schema import Schema

MISSING = "__missing__"  # the category missing values of a categorical column become
DATETIME_PARTS = ("year", "month", "day", "day_of_week", "hour")
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


class ColumnKinds(TransformerMixin, BaseEstimator):
    """DataFrame with the schema's columns → DataFrame of float columns then categorical string columns.

    Sparse matrices (all-numeric schemas) pass through unchanged: they are already numeric, and
    densifying them here would defeat the point of sparse input.
    """

    def __init__(self, schema: Schema, text_dims: int = 16, text_vocabulary: int = 2000, seed: int = 0) -> None:
        self.schema = schema
        self.text_dims = text_dims
        self.text_vocabulary = text_vocabulary
        self.seed = seed

    def fit(self, X: Any, y: Any = None) -> ColumnKinds:
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        self.sparse_input_ = sp.issparse(X)
        if self.sparse_input_:
            self.n_features_in_ = X.shape[1]
            return X
        frame = self._frame(X)
        columns = [c for c in self.schema.columns if frame[c].nunique(dropna=False) > 1]
        if not columns and self.schema.columns:  # keep one so the model still fits (and predicts the prior)
            columns = [self.schema.columns[0]]
        self.columns_ = columns
        self.levels_ = {c: self._levels(frame[c]) for c in columns if self.schema.kinds[c] == "boolean"}
        self.text_ = {c: _TextColumn(self.text_dims, self.text_vocabulary, self.seed).fit(frame[c])
                      for c in columns if self.schema.kinds[c] == "text"}
        self.drop_derived_ = []
        out = self._convert(frame)
        # Calendar parts that never vary on the training data (hour of date-only columns...) say nothing.
        raw = set(map(str, columns))
        self.drop_derived_ = [n for n in out.columns if n not in raw and out[n].nunique(dropna=False) <= 1]
        if len(self.drop_derived_) == out.shape[1]:
            self.drop_derived_ = []
        return out.drop(columns=self.drop_derived_)

    def transform(self, X: Any) -> Any:
        if self.sparse_input_:
            if not sp.issparse(X):
                raise TypeError("this pipeline was fitted on a sparse matrix; pass a sparse matrix to predict")
            return X
        return self._convert(self._frame(X)).drop(columns=self.drop_derived_)

    def _frame(self, X: Any) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.schema.columns if c not in X.columns]
            if missing:
                raise ValueError(f"input is missing column(s) {missing[:10]} of the schema")
            return X
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != len(self.schema.columns):
            raise ValueError(f"expected a DataFrame or a 2-d array with {len(self.schema.columns)} columns")
        return pd.DataFrame(X, columns=list(self.schema.columns))

    def _levels(self, s: pd.Series) -> dict[Any, float]:
        """Boolean columns: False/no/0 → 0 and True/yes/1 → 1 by sorting the two levels seen at fit."""
        if pd.api.types.is_bool_dtype(s.dtype):
            return {False: 0.0, True: 1.0}
        seen = self.schema.categories.get(s.name) or tuple(s.dropna().unique())
        ordered = sorted(seen, key=lambda v: (str(type(v)), str(v).lower()))
        return {v: float(i) for i, v in enumerate(ordered)}

    def _convert(self, frame: pd.DataFrame) -> pd.DataFrame:
        numeric: dict[str, np.ndarray] = {}
        categorical: dict[str, pd.Series] = {}
        for c in self.columns_:
            kind, s = self.schema.kinds[c], frame[c]
            if kind == "numeric":
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                numeric[str(c)] = np.where(np.isfinite(v), v, np.nan)
            elif kind == "boolean":
                mapped = s.astype(object).map(self.levels_[c])  # unseen levels and missing → NaN
                numeric[str(c)] = pd.to_numeric(mapped, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            elif kind == "datetime":
                numeric.update(_datetime_features(s, str(c)))
            elif kind == "text":
                for i, col in enumerate(self.text_[c].transform(s).T):
                    numeric[f"{c}__text{i}"] = col
            else:
                categorical[str(c)] = _as_strings(s)
        return pd.concat([pd.DataFrame(numeric, index=frame.index), pd.DataFrame(categorical, index=frame.index)],
                         axis=1)


def _as_strings(s: pd.Series) -> pd.Series:
    """Categories as strings (uniform types for the encoders), missing values as their own category."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        labels = np.append(s.cat.categories.astype(str).to_numpy(dtype=object), MISSING)
        return pd.Series(labels[s.cat.codes.to_numpy()], index=s.index, dtype=object)  # code -1 → MISSING
    values = s.astype(str).to_numpy(dtype=object)
    values[s.isna().to_numpy()] = MISSING
    return pd.Series(values, index=s.index, dtype=object)


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _datetime_features(s: pd.Series, name: str) -> dict[str, np.ndarray]:
    """Calendar parts plus epoch seconds; unparseable values become NaN (imputed downstream)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        dt = s.dt.tz_convert("UTC") if s.dt.tz is not None else s.dt.tz_localize("UTC")
    else:
        dt = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
    out = {f"{name}__{part}": getattr(dt.dt, part).to_numpy(dtype=float, na_value=np.nan) for part in DATETIME_PARTS}
    out[f"{name}__epoch"] = (dt - _EPOCH).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    return out


class _TextColumn:
    """TF-IDF over a bounded vocabulary, reduced by truncated SVD to a few dense dimensions."""

    def __init__(self, dims: int, vocabulary: int, seed: int) -> None:
        self.dims, self.vocabulary, self.seed = dims, vocabulary, seed

    def fit(self, s: pd.Series) -> _TextColumn:
        self.tfidf = TfidfVectorizer(max_features=self.vocabulary, sublinear_tf=True, dtype=np.float32)
        try:
            tf = self.tfidf.fit_transform(_texts(s))
        except ValueError:  # empty vocabulary: only stop words, digits or empty strings
            self.tfidf, self.svd = None, None
            return self
        n_terms = tf.shape[1]
        self.svd = None
        if n_terms > self.dims:
            self.svd = TruncatedSVD(n_components=self.dims, random_state=self.seed).fit(tf)
        return self

    def transform(self, s: pd.Series) -> np.ndarray:
        if self.tfidf is None:
            return np.zeros((len(s), 0))
        tf = self.tfidf.transform(_texts(s))
        return np.asarray(self.svd.transform(tf) if self.svd is not None else tf.toarray(), dtype=float)


def _texts(s: pd.Series) -> list[str]:
    return ["" if _isna(v) else str(v) for v in s]


class DenseOrSparse(TransformerMixin, BaseEstimator):
    """Use ``dense`` on dense input and ``sparse`` on sparse input (None: pass through unchanged).

    Lets a configuration mean the same thing on both kinds of data without densifying: standard
    scaling drops centring, PCA and quantile scaling step aside.
    """

    def __init__(self, dense: Any = None, sparse: Any = None) -> None:
        self.dense = dense
        self.sparse = sparse

    def _pick(self, X: Any) -> Any:
        chosen = self.sparse if sp.issparse(X) else self.dense
        return None if chosen is None or chosen == "passthrough" else clone(chosen)

    def fit(self, X: Any, y: Any = None) -> DenseOrSparse:
        self.estimator_ = self._pick(X)
        if self.estimator_ is not None:
            self.estimator_.fit(X, y)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        self.estimator_ = self._pick(X)
        return X if self.estimator_ is None else self.estimator_.fit_transform(X, y)

    def transform(self, X: Any) -> Any:
        return X if self.estimator_ is None else self.estimator_.transform(X)


class ToDense(TransformerMixin, BaseEstimator):
    """Densify sparse input for models that cannot take it (HistGradientBoosting, naive Bayes, LDA...)."""

    def fit(self, X: Any, y: Any = None) -> ToDense:
        return self

    def transform(self, X: Any) -> Any:
        return X.toarray() if sp.issparse(X) else X


class NumericColumns:
    """ColumnTransformer selector: float columns of a frame, every column of a matrix."""

    def __call__(self, X: Any) -> list:
        if isinstance(X, pd.DataFrame):
            return [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c].dtype)]
        return list(range(X.shape[1]))


class CategoricalColumns:
    """ColumnTransformer selector: the string columns :class:`ColumnKinds` produced."""

    def __call__(self, X: Any) -> list:
        if isinstance(X, pd.DataFrame):
            return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c].dtype)]
        return []
