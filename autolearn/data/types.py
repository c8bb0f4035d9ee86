"""Decide once, at fit time, what each column is, so preprocessing never guesses again at predict time.

Rules, applied per column in this order:

* all missing or a single distinct value: ``numeric`` (the pipeline drops such columns);
* declared categorical (``categorical=`` or a pandas ``category`` dtype): ``categorical``;
* ``bool`` / nullable ``boolean``: ``boolean``; ``datetime64``: ``datetime``;
* other numeric dtypes: ``numeric`` (integer codes are categorical only when declared);
* strings (object / str dtypes): Python numbers or strings that all parse as numbers are ``numeric``
  (unless codes with leading zeros); exactly two distinct values are ``boolean``; >90% of a sample
  parsing as dates in one format is ``datetime``; long, mostly unique, multi-word values are ``text``;
  anything else is ``categorical``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pandas.tseries.api import guess_datetime_format

from autolearn.data.schema import Schema
from autolearn.data.validation import check_column

SAMPLE_SIZE = 1000  # values inspected for date and text detection
DATE_FRACTION = 0.9  # share of the sample that must parse as dates
TEXT_MIN_WORDS = 3.0  # mean words per value
TEXT_MIN_LENGTH = 20.0  # mean characters per value
TEXT_MIN_UNIQUE = 0.5  # distinct values / non-missing values
_FALSE_WORDS = {"false", "f", "no", "n", "off", "negative", "neg", "absent"}
_TRUE_WORDS = {"true", "t", "yes", "y", "on", "positive", "pos", "present"}


def infer_schema(X: pd.DataFrame | sp.spmatrix, *, categorical: Iterable[str] = ()) -> Schema:
    """The :class:`Schema` of a validated ``X`` (see :func:`autolearn.data.check_X`).

    Parameters
    ----------
    X : DataFrame or sparse matrix
        Sparse input is all numeric, with columns ``"x0" .. "x{n-1}"``.
    categorical : iterable of str
        Columns to treat as categorical whatever their dtype, e.g. integer-coded categories.

    Examples
    --------
    >>> infer_schema(pd.DataFrame({"a": [1.5, 2.0, 3.5], "b": ["x", "y", "x"]})).kinds
    {'a': 'numeric', 'b': 'boolean'}
    """
    if sp.issparse(X):
        columns = tuple(f"x{i}" for i in range(X.shape[1]))
        return Schema(columns=columns, kinds=dict.fromkeys(columns, "numeric"))
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"infer_schema expects a DataFrame (call check_X first); got {type(X).__name__}")
    declared = {check_column(str(c), X.columns, what="categorical column") for c in categorical}
    kinds: dict[str, str] = {}
    categories: dict[str, tuple] = {}
    for name in X.columns:
        kind, cats = _infer_column(X[name], declared=name in declared)
        kinds[str(name)] = kind
        if kind in ("categorical", "boolean"):
            categories[str(name)] = cats
    return Schema(columns=tuple(str(c) for c in X.columns), kinds=kinds, categories=categories)


def _sorted(values: Iterable[Any]) -> tuple:
    values = list(values)
    try:
        return tuple(sorted(values))
    except TypeError:  # mixed types: a stable, if arbitrary, order
        return tuple(sorted(values, key=lambda v: (type(v).__name__, str(v))))


def _infer_column(column: pd.Series, *, declared: bool) -> tuple[str, tuple]:
    dtype = column.dtype
    values = column.dropna()
    if values.nunique() <= 1:
        return "numeric", ()
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", tuple(dtype.categories.tolist())
    if declared:
        return "categorical", _sorted(values.unique().tolist())
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean", (False, True)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime", ()
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric", ()
    return _infer_objects(values)


def _infer_objects(values: pd.Series) -> tuple[str, tuple]:
    """Kind of an object / string column from its non-missing values (at least two distinct)."""
    if values.dtype == object:
        types = {type(v) for v in values}
        if all(issubclass(t, (bool, np.bool_)) for t in types):
            return "boolean", (False, True)
        if all(issubclass(t, (int, float, np.number)) and not issubclass(t, (bool, np.bool_)) for t in types):
            return "numeric", ()
        if not all(issubclass(t, str) for t in types):  # mixed: decide on the text, keep raw categories
            kind, _ = _infer_strings(values.astype(str))
            return (kind, _sorted(values.unique().tolist())) if kind in ("categorical", "boolean") else (kind, ())
    return _infer_strings(values.astype(str))


def _infer_strings(values: pd.Series) -> tuple[str, tuple]:
    unique = values.unique()
    if _numeric_strings(unique):
        return "numeric", ()
    if len(unique) == 2:
        return "boolean", _boolean_order(unique)
    sample = values.sample(SAMPLE_SIZE, random_state=0) if len(values) > SAMPLE_SIZE else values
    if _looks_like_dates(sample):
        return "datetime", ()
    if _looks_like_text(sample, len(unique) / len(values)):
        return "text", ()
    return "categorical", _sorted(unique)


def _numeric_strings(unique: np.ndarray) -> bool:
    """All values parse as numbers, and none is a code with a leading zero such as "007"."""
    strings = pd.Series(unique, dtype=object).str.strip()
    if strings.str.match(r"^[+-]?0\d").any():
        return False
    return bool(pd.to_numeric(strings, errors="coerce").notna().all())


def _boolean_order(unique: np.ndarray) -> tuple:
    """(false-like, true-like) for yes/no, true/false...; sorted otherwise, so the mapping is stable."""
    a, b = unique
    if str(a).strip().lower() in _TRUE_WORDS and str(b).strip().lower() in _FALSE_WORDS:
        return b, a
    if str(a).strip().lower() in _FALSE_WORDS and str(b).strip().lower() in _TRUE_WORDS:
        return a, b
    return _sorted(unique)


def _looks_like_dates(sample: pd.Series) -> bool:
    """Most values parse with one format that has a year and a month or day (not "March", not "12:30")."""
    formats = set()
    for value in sample.iloc[:20]:
        for dayfirst in (False, True):
            with warnings.catch_warnings():  # pandas warns when the guess contradicts dayfirst
                warnings.simplefilter("ignore")
                fmt = guess_datetime_format(value.strip(), dayfirst=dayfirst)
            if fmt and ("%Y" in fmt or "%y" in fmt) and any(t in fmt for t in ("%m", "%d", "%b", "%B", "%j")):
                formats.add(fmt)
    stripped = sample.str.strip()
    for fmt in sorted(formats):
        parsed = pd.to_datetime(stripped, format=fmt, errors="coerce")
        if parsed.notna().mean() > DATE_FRACTION:
            return True
    return False


def _looks_like_text(sample: pd.Series, unique_fraction: float) -> bool:
    words = sample.str.split().str.len().mean()
    return unique_fraction > TEXT_MIN_UNIQUE and words >= TEXT_MIN_WORDS and sample.str.len().mean() >= TEXT_MIN_LENGTH
