"""Input checking for the whole package, in one place (as ``sklearn.utils.validation``).

Estimators call these functions on entry so that every user mistake is caught before a search starts,
with a message that names the column, the value and the expected form. Errors are ``ValueError`` for bad
values and ``TypeError`` for wrong types.
"""

from __future__ import annotations

import difflib
import math
import numbers
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning

from autolearn.data.schema import Schema

TASKS = ("binary", "multiclass", "regression")
# An integer target with more distinct values than both of these is treated as regression.
MAX_CLASSES = 20
MAX_CLASS_FRACTION = 0.05


# --------------------------------------------------------------------------- message helpers


def _repr(value: Any) -> str:
    """repr without NumPy's wrapper (``1.5``, not ``np.float64(1.5)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _names(values: Iterable[Any], limit: int = 20) -> str:
    """``'a', 'b', 'c'`` with a tail count, so long column lists stay readable."""
    values = list(values)
    shown = ", ".join(_repr(v) for v in values[:limit])
    return shown + (f", ... ({len(values) - limit} more)" if len(values) > limit else "")


def _suggest(value: Any, choices: Iterable[Any]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ``""``."""
    choices = [str(c) for c in choices]
    text = str(value)
    same_case = [c for c in choices if c.lower() == text.lower()]
    close = same_case or difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_column(column: Any, columns: Sequence[Any], *, what: str = "column") -> Any:
    """Return ``column`` if it is one of ``columns``; otherwise list them and suggest the closest."""
    if column in list(columns):
        return column
    raise ValueError(f"{what} {column!r} not found; available columns: {_names(columns)}{_suggest(column, columns)}")


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (strings), with a suggestion when it is not."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {_names(choices)}; got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {_names(choices)}{_suggest(value, choices)}")
    return value


# --------------------------------------------------------------------------- parameters


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return value


def check_positive(name: str, value: Any, *, integer: bool = False) -> float | int:
    """A strictly positive finite number (an ``int`` when ``integer``), e.g. ``n_trials`` or a memory limit."""
    if integer:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be a positive integer; got {value!r} of type {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
        return int(value)
    real = _check_real(name, value)
    if real <= 0:
        raise ValueError(f"{name} must be positive; got {value!r}")
    return real


def check_budget(time_budget: Any, name: str = "time_budget") -> float:
    """The search's wall-clock budget in seconds: positive and finite (``inf`` would never stop)."""
    try:
        return float(check_positive(name, time_budget))
    except ValueError:
        raise ValueError(f"{name} must be a positive, finite number of seconds; got {time_budget!r}") from None


def check_fraction(name: str, value: Any) -> float:
    """A number in (0, 1], e.g. a fidelity budget or a holdout fraction."""
    real = _check_real(name, value)
    if not 0 < real <= 1:
        raise ValueError(f"{name} must be in (0, 1]; got {value!r}")
    return real


# --------------------------------------------------------------------------- X


def _num_rows(X: Any) -> int:
    if hasattr(X, "shape") and len(X.shape) > 0:
        return int(X.shape[0])
    try:
        return len(X)
    except TypeError:
        raise TypeError(f"expected an array-like with rows; got {type(X).__name__}") from None


def check_consistent_length(X: Any, y: Any) -> None:
    """Raise when X and y do not have one label per row."""
    n_x, n_y = _num_rows(X), _num_rows(y)
    if n_x != n_y:
        raise ValueError(f"X has {n_x} rows but y has {n_y}")


def _check_shape(n_rows: int, n_cols: int) -> None:
    if n_rows == 0 or n_cols == 0:
        # the parenthesis repeats scikit-learn's wording, which its estimator checks look for
        what = f"0 sample(s) (shape=({n_rows}, {n_cols}))" if n_rows == 0 else f"0 feature(s) (shape=({n_rows}, 0))"
        raise ValueError(f"X is empty: {n_rows} rows and {n_cols} columns ({what} while a minimum of 1 is required)")


def _check_n_columns(n_columns: int, schema: Schema | None) -> None:
    if schema is not None and n_columns != schema.n_features:
        raise ValueError(f"X has {n_columns} columns but {schema.n_features} were expected (as seen at fit time)")


def _check_sparse(X: Any, schema: Schema | None) -> sp.csr_matrix:
    _check_shape(*X.shape)
    _check_n_columns(X.shape[1], schema)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"sparse X must hold real numbers; got dtype {X.dtype}")
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.data[~np.isfinite(X.data)] = np.nan
    return X


def _as_2d_array(X: Any) -> np.ndarray:
    if isinstance(X, pd.Series):
        raise ValueError("X must be 2-D; got a pandas Series. Use X.to_frame() for a single feature")
    if isinstance(X, (list, tuple)):
        try:
            array = np.asarray(X)
        except ValueError:
            raise ValueError("X is a ragged list: its rows have different lengths") from None
        if array.dtype.kind in "USO":  # strings or mixed values: keep each value's Python type
            array = np.array(X, dtype=object)
        return array
    if isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        return np.asarray(X)
    raise TypeError(
        f"X must be a pandas DataFrame, a NumPy array, a list of rows or a SciPy sparse matrix; got {type(X).__name__}"
    )


def _array_to_frame(array: np.ndarray, schema: Schema | None) -> pd.DataFrame:
    if array.ndim == 0:
        raise ValueError(f"X must be 2-D; got a scalar {array!r}")
    if array.ndim == 1:
        raise ValueError(
            f"X must be 2-D; got a 1-D array of shape {array.shape}. Reshape your data with X.reshape(-1, 1) "
            "if it is a single feature or X.reshape(1, -1) if it is a single row"
        )
    if array.ndim > 2:
        raise ValueError(f"X must be 2-D; got a {array.ndim}-D array of shape {array.shape}")
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: X has dtype {array.dtype}; expected real numbers")
    if array.dtype.kind in "mV":
        raise TypeError(f"X has unsupported dtype {array.dtype}; expected numbers, booleans, strings or datetimes")
    _check_shape(*array.shape)
    _check_n_columns(array.shape[1], schema)
    # an array carries no names: at predict time its columns are matched to the schema by position
    columns = list(schema.columns) if schema is not None else [f"x{i}" for i in range(array.shape[1])]
    if array.dtype.kind in "US":
        array = array.astype(object)
    frame = pd.DataFrame(array, columns=columns)
    return frame.infer_objects() if array.dtype == object else frame


def _is_supported(dtype: Any) -> bool:
    return (
        pd.api.types.is_bool_dtype(dtype)
        or (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype))
        or isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
    )


def _check_frame(X: pd.DataFrame, schema: Schema | None) -> pd.DataFrame:
    _check_shape(*X.shape)
    X = X.copy(deep=False)  # copy-on-write: the caller's frame is never modified
    X.columns = [str(c) for c in X.columns]
    counts = Counter(X.columns)
    duplicates = [c for c, n in counts.items() if n > 1]
    if duplicates:
        raise ValueError(f"X has duplicate column names (after converting names to str): {_names(duplicates)}")
    for name, dtype in X.dtypes.items():
        if not _is_supported(dtype):
            raise TypeError(
                f"column {name!r} has unsupported dtype {dtype}; expected numbers, booleans, categories, "
                "strings or datetimes (convert durations to numbers, e.g. seconds)"
            )
    if schema is not None:
        expected = list(schema.columns)
        missing = [c for c in expected if c not in counts]
        extra = [c for c in X.columns if c not in set(expected)]
        problems = []
        if missing:
            problems.append(f"is missing column(s) {_names(missing)} seen at fit time")
        if extra:
            problems.append(f"has column(s) {_names(extra)} not seen at fit time")
        if problems:
            raise ValueError("X " + " and ".join(problems))
        if list(X.columns) != expected:
            X = X[expected]
    return X


def _inf_to_nan(X: pd.DataFrame) -> pd.DataFrame:
    for name, dtype in X.dtypes.items():
        if pd.api.types.is_float_dtype(dtype):
            column = X[name]
            if np.isinf(column.to_numpy(dtype=np.float64, na_value=np.nan)).any():
                X[name] = column.replace([np.inf, -np.inf], np.nan)
    return X


def check_X(X: Any, *, fit: bool, schema: Schema | None = None) -> pd.DataFrame | sp.csr_matrix:
    """Validate features and bring them to one of two forms: a DataFrame with str column names, or CSR.

    Parameters
    ----------
    X : DataFrame, ndarray, list of rows or SciPy sparse matrix
        Arrays get columns ``"x0" .. "x{n-1}"`` (object arrays keep each column's type); sparse input is
        returned as CSR float64.
    fit : bool
        ``True`` while fitting; ``False`` at predict time, when ``schema`` (from fit) is checked.
    schema : Schema, optional
        The columns seen at fit time. At predict time a missing or extra column is an error, columns in
        another order are reordered, and an array must have the same number of columns.

    Notes
    -----
    ``inf`` and ``-inf`` in numeric columns become ``NaN`` (treated as missing) without an error; the
    caller's data is never modified.

    Examples
    --------
    >>> check_X([[1, "a"], [2, "b"]], fit=True).columns.tolist()
    ['x0', 'x1']
    """
    schema = None if fit else schema
    if sp.issparse(X):
        return _check_sparse(X, schema)
    if isinstance(X, pd.DataFrame):
        frame = _check_frame(X, schema)
    else:
        frame = _array_to_frame(_as_2d_array(X), schema)
        frame = _check_frame(frame, None)
    return _inf_to_nan(frame)


# --------------------------------------------------------------------------- y


def _label_type(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _as_1d(y: Any) -> np.ndarray:
    """y as a 1-D NumPy array; object arrays keep each label's Python type."""
    if y is None:
        raise ValueError("the search requires y to be passed, but the target y is None; pass one label (or target "
                         "value) per row of X")
    if isinstance(y, (str, bytes)) or np.isscalar(y):
        raise TypeError(f"y must be a 1-D array-like of labels; got a single {type(y).__name__} {y!r}")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(
                f"y must be 1-D; got a DataFrame with {y.shape[1]} columns (multi-output is not supported)"
            )
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        numpy_dtype = isinstance(y.dtype, np.dtype) and y.dtype.kind in "biuf"
        array = y.to_numpy() if numpy_dtype else y.to_numpy(dtype=object)
    elif isinstance(y, (list, tuple)) and not any(isinstance(v, (list, tuple, np.ndarray)) for v in y):
        array = np.empty(len(y), dtype=object)  # element by element: each label keeps its Python type
        for i, value in enumerate(y):
            array[i] = value
    else:
        array = np.asarray(y)
    if array.ndim == 2 and array.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected; it was flattened with ravel()",
                      DataConversionWarning, stacklevel=3)
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"y must be 1-D; got shape {array.shape} (multi-output is not supported)")
    if array.dtype.kind in "US":
        array = array.astype(object)
    if array.dtype.kind not in "biufO":
        raise TypeError(f"y has unsupported dtype {array.dtype}; expected numbers, strings or booleans")
    return array


def _check_finite(y: np.ndarray) -> None:
    missing = np.asarray(pd.isna(y), dtype=bool)
    if y.dtype.kind == "f":
        infinite = np.isinf(y)
    elif y.dtype == object:
        infinite = np.array([isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isinf(v) for v in y])
    else:
        infinite = np.zeros(len(y), dtype=bool)
    bad = missing | infinite
    if bad.any():
        parts = [
            f"{n} {what}" for n, what in ((missing.sum(), "missing (NaN/None)"), (infinite.sum(), "infinite")) if n
        ]
        raise ValueError(
            f"y contains {' and '.join(parts)} values; the first is at index {int(np.argmax(bad))}. "
            "Drop those rows or fill in the target"
        )


def _typed(y: np.ndarray) -> tuple[np.ndarray, str]:
    """Labels as a homogeneous array and their kind: "number", "bool", "str" or another type name."""
    if y.dtype.kind == "b":
        return y, "bool"
    if y.dtype.kind in "iuf":
        return y, "number"
    kinds = {_label_type(v) for v in y}
    if kinds <= {"int", "float"}:
        return y.astype(np.float64 if "float" in kinds else np.int64), "number"
    if len(kinds) > 1:
        raise TypeError(
            f"y mixes label types ({', '.join(sorted(kinds))}); convert all labels to one type, e.g. y.astype(str)"
        )
    kind = kinds.pop()
    if kind == "bool":
        return y.astype(bool), "bool"
    try:
        hash(y[0])
    except TypeError:
        raise TypeError(f"y labels must be hashable; got {kind} values such as {y[0]!r}") from None
    return y, kind


def _non_integer(y: np.ndarray) -> bool:
    return y.dtype.kind == "f" and bool(np.any(y != np.round(y)))


def infer_task(y: Any) -> str:
    """Guess ``"binary"``, ``"multiclass"`` or ``"regression"`` from the target values.

    Non-integer numbers mean regression; integers with many distinct values (more than 20 and more than
    5% of the rows) too. Otherwise two distinct labels are binary and more are multiclass. Missing values
    are ignored here (``check_y`` rejects them).
    """
    array = _as_1d(y)
    array = array[~np.asarray(pd.isna(array), dtype=bool)]
    if len(array) == 0:
        raise ValueError("y has no values to infer the task from")
    array, kind = _typed(array)
    if kind == "number":
        finite = array[np.isfinite(array.astype(np.float64))]
        if _non_integer(finite):
            return "regression"
        n_unique = len(np.unique(finite))
        if n_unique > MAX_CLASSES and n_unique > MAX_CLASS_FRACTION * len(finite):
            return "regression"
    else:
        n_unique = len(pd.unique(array))
    return "binary" if n_unique <= 2 else "multiclass"


def _resolve_task(task: Any) -> str | None:
    if task is None:
        return None
    return check_choice("task", task, (*TASKS, "classification"))


def check_y(y: Any, task: str | None = None) -> tuple[np.ndarray, str, np.ndarray | None]:
    """Validate the target and encode it for the search.

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels of one type (str, int, bool or any hashable) or numbers.
    task : {"binary", "multiclass", "regression", "classification"}, optional
        Inferred with :func:`infer_task` when omitted; "classification" picks binary or multiclass.

    Returns
    -------
    y_encoded : ndarray
        Class indices 0..K-1 (int64) for classification, float64 values for regression.
    task : str
        "binary", "multiclass" or "regression".
    classes : ndarray or None
        The sorted labels (``classes[y_encoded]`` gives y back); None for regression.

    Examples
    --------
    >>> y, task, classes = check_y(["no", "yes", "no", "yes"])
    >>> y.tolist(), task, classes.tolist()
    ([0, 1, 0, 1], 'binary', ['no', 'yes'])
    """
    requested = _resolve_task(task)
    array = _as_1d(y)
    if len(array) == 0:
        raise ValueError("y is empty; pass one label (or target value) per row of X")
    _check_finite(array)
    array, kind = _typed(array)
    resolved = infer_task(array) if requested in (None, "classification") else requested
    if requested == "classification" and resolved == "regression":
        resolved = "multiclass"
    if resolved == "regression":
        if kind != "number":
            raise ValueError(f"task 'regression' needs numeric y; got {kind} values such as {_repr(array[0])}")
        return array.astype(np.float64), "regression", None
    if requested is not None and _non_integer(array):
        example = array[array != np.round(array)][0]
        raise ValueError(
            f"task {requested!r} needs class labels, but y looks continuous (non-integer numbers such as "
            f"{_repr(example)}); use task='regression' or convert the labels"
        )
    classes, encoded = np.unique(array, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y has a single class {_repr(classes[0])} (1 class); classification needs at least 2")
    if requested is None or requested == "classification":
        resolved = "binary" if len(classes) == 2 else "multiclass"
    elif resolved == "binary" and len(classes) != 2:
        raise ValueError(f"task 'binary' needs exactly 2 classes; y has {len(classes)}: {_names(classes, 10)}")
    counts = np.bincount(encoded, minlength=len(classes))
    rare = classes[counts < 2]
    if len(rare):
        warnings.warn(
            f"{'class' if len(rare) == 1 else 'classes'} {_names(rare.tolist(), 10)} "
            f"{'has' if len(rare) == 1 else 'have'} a single sample; stratified resampling cannot put "
            f"{'it' if len(rare) == 1 else 'them'} in every fold",
            UserWarning,
            stacklevel=2,
        )
    return encoded.astype(np.int64), resolved, classes
