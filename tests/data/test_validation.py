import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from autolearn.data import Schema, check_consistent_length, check_X, check_y, infer_task
from autolearn.data.validation import check_budget, check_choice, check_column, check_fraction, check_positive

SCHEMA = Schema(columns=("a", "b", "c"), kinds={"a": "numeric", "b": "categorical", "c": "numeric"})

# ----------------------------------------------------------------------------- bad inputs, one row each

BAD_X = [
    ("1-D array", np.arange(3.0), {}, ValueError, r"2-D; got a 1-D array of shape \(3,\).*reshape\(-1, 1\)"),
    ("3-D array", np.zeros((2, 2, 2)), {}, ValueError, r"got a 3-D array of shape \(2, 2, 2\)"),
    ("scalar", np.float64(1.0), {}, ValueError, "got a scalar"),
    ("series", pd.Series([1, 2]), {}, ValueError, r"got a pandas Series.*to_frame\(\)"),
    ("ragged list", [[1, 2], [3]], {}, ValueError, "ragged list"),
    ("dict", {"a": [1]}, {}, TypeError, "X must be a pandas DataFrame, a NumPy array.*got dict"),
    ("no rows", np.zeros((0, 3)), {}, ValueError, "X is empty: 0 rows and 3 columns"),
    ("no columns", pd.DataFrame(index=range(4)), {}, ValueError, "X is empty: 4 rows and 0 columns"),
    ("empty sparse", sp.csr_matrix((0, 2)), {}, ValueError, "X is empty: 0 rows and 2 columns"),
    ("complex array", np.ones((2, 2), dtype=complex), {}, ValueError, "Complex data not supported"),
    (
        "duplicate names",
        pd.DataFrame([[1, 2, 3]], columns=["a", 1, "1"]),
        {},
        ValueError,
        "duplicate column names .*'1'",
    ),
    (
        "timedelta column",
        pd.DataFrame({"d": pd.to_timedelta([1, 2], unit="s")}),
        {},
        TypeError,
        "column 'd' has unsupported dtype timedelta64",
    ),
    (
        "missing column",
        pd.DataFrame({"a": [1.0], "c": [2.0]}),
        {"schema": SCHEMA},
        ValueError,
        "X is missing column\\(s\\) 'b' seen at fit time",
    ),
    (
        "extra columns",
        pd.DataFrame({"a": [1.0], "b": ["x"], "c": [2.0], "z": [0], "w": [0]}),
        {"schema": SCHEMA},
        ValueError,
        "X has column\\(s\\) 'z', 'w' not seen at fit time",
    ),
    ("array width", np.zeros((2, 2)), {"schema": SCHEMA}, ValueError, "X has 2 columns but 3 were expected"),
    ("sparse width", sp.csr_matrix(np.ones((2, 4))), {"schema": SCHEMA}, ValueError, "X has 4 columns but 3"),
]


@pytest.mark.parametrize("X, kwargs, error, match", [row[1:] for row in BAD_X], ids=[row[0] for row in BAD_X])
def test_check_X_rejects(X, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_X(X, fit="schema" not in kwargs, **kwargs)


BAD_Y = [
    ("none", None, None, ValueError, "the target y is None"),
    ("string", "abc", None, TypeError, "1-D array-like of labels; got a single str 'abc'"),
    ("empty", [], None, ValueError, "y is empty"),
    ("2 columns", np.zeros((3, 2)), None, ValueError, r"y must be 1-D; got shape \(3, 2\)"),
    ("frame", pd.DataFrame({"a": [1], "b": [2]}), None, ValueError, "DataFrame with 2 columns"),
    ("nan", [1.0, 2.0, np.nan, np.nan], None, ValueError, "y contains 2 missing .* first is at index 2"),
    ("none label", ["a", None, "b"], None, ValueError, "y contains 1 missing .* index 1"),
    ("inf", np.array([1.0, np.inf, 2.0]), None, ValueError, "1 infinite values; the first is at index 1"),
    ("mixed types", [1, "a", 2], None, TypeError, r"y mixes label types \(int, str\)"),
    ("bool and int", [True, 0, 1], None, TypeError, r"mixes label types \(bool, int\)"),
    ("unhashable", [{"a": 1}, {"b": 2}], None, TypeError, "hashable"),
    ("single class", ["a", "a", "a"], None, ValueError, r"y has a single class 'a' \(1 class\); classification needs at least 2"),
    ("single int class", [3, 3], "multiclass", ValueError, "y has a single class 3"),
    (
        "unknown task",
        [0, 1],
        "clasification",
        ValueError,
        "unknown task 'clasification'.*did you mean 'classification'",
    ),
    ("task type", [0, 1], 1, TypeError, "task must be a string"),
    ("regression strings", ["a", "b"], "regression", ValueError, "task 'regression' needs numeric y; got str"),
    ("regression bools", [True, False], "regression", ValueError, "needs numeric y; got bool"),
    ("binary with 3", [0, 1, 2], "binary", ValueError, "task 'binary' needs exactly 2 classes; y has 3: 0, 1, 2"),
    ("classes of floats", [0.5, 1.5], "binary", ValueError, "non-integer numbers such as 0.5"),
]


@pytest.mark.parametrize("y, task, error, match", [row[1:] for row in BAD_Y], ids=[row[0] for row in BAD_Y])
def test_check_y_rejects(y, task, error, match):
    with pytest.raises(error, match=match):
        check_y(y, task=task)


# (function, args, kwargs, error, message)
BAD_PARAMS = [
    (check_budget, (0,), {}, ValueError, "time_budget must be a positive, finite number of seconds; got 0"),
    (check_budget, (-5.0,), {}, ValueError, "got -5.0"),
    (check_budget, (float("inf"),), {}, ValueError, "time_budget must be a positive, finite .* got inf"),
    (check_budget, (float("nan"),), {}, ValueError, "got nan"),
    (check_budget, ("60",), {}, TypeError, "time_budget must be a number; got '60' of type str"),
    (check_budget, (True,), {}, TypeError, "got True of type bool"),
    (check_budget, (-1, "per_trial_budget"), {}, ValueError, "per_trial_budget must be a positive"),
    (check_positive, ("n_trials", 0), {}, ValueError, "n_trials must be positive; got 0"),
    (check_positive, ("memory_mb", -1.5), {}, ValueError, "memory_mb must be positive; got -1.5"),
    (check_positive, ("n_jobs", 2.5), {"integer": True}, TypeError, "n_jobs must be a positive integer; got 2.5"),
    (check_positive, ("n_jobs", -1), {"integer": True}, ValueError, "n_jobs must be a positive integer; got -1"),
    (check_fraction, ("holdout", 1.5), {}, ValueError, r"holdout must be in \(0, 1\]; got 1.5"),
    (check_fraction, ("holdout", 0), {}, ValueError, r"holdout must be in \(0, 1\]; got 0"),
    (check_choice, ("metric", "acuracy", ["accuracy", "roc_auc"]), {}, ValueError, "did you mean 'accuracy'"),
    (check_column, ("clas", ["a", "class"]), {}, ValueError, "column 'clas' not found; available columns: 'a'"),
]


@pytest.mark.parametrize(
    "function, args, kwargs, error, match", BAD_PARAMS, ids=[f"{r[0].__name__}{r[1]}" for r in BAD_PARAMS]
)
def test_parameter_checks_reject(function, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        function(*args, **kwargs)


def test_parameter_checks_return_clean_values():
    assert check_budget(10) == 10.0 and isinstance(check_budget(10), float)
    assert check_positive("n", np.int64(3), integer=True) == 3
    assert check_fraction("f", 1) == 1.0
    assert check_choice("task", "binary", ["binary"]) == "binary"


def test_check_consistent_length():
    check_consistent_length(np.zeros((3, 2)), [0, 1, 0])
    with pytest.raises(ValueError, match="X has 100 rows but y has 99"):
        check_consistent_length(pd.DataFrame({"a": range(100)}), np.zeros(99))
    with pytest.raises(ValueError, match="X has 2 rows but y has 3"):
        check_consistent_length(sp.csr_matrix(np.ones((2, 2))), [1, 2, 3])


def test_long_column_lists_are_truncated():
    columns = [f"c{i}" for i in range(50)]
    with pytest.raises(ValueError, match=re.escape("... (30 more)")):
        check_column("nope", columns)


# ----------------------------------------------------------------------------- accepted inputs


def test_array_becomes_named_frame():
    X = check_X(np.arange(6).reshape(3, 2), fit=True)
    assert list(X.columns) == ["x0", "x1"]
    assert X["x0"].dtype == np.int64


def test_object_array_and_lists_keep_types():
    X = check_X(np.array([[1, "a", 2.5, True], [2, "b", None, False]], dtype=object), fit=True)
    assert pd.api.types.is_integer_dtype(X["x0"])
    assert pd.api.types.is_string_dtype(X["x1"])
    assert pd.api.types.is_float_dtype(X["x2"]) and X["x2"].isna().sum() == 1
    assert pd.api.types.is_bool_dtype(X["x3"])
    X = check_X([[1, "a"], [2, "b"]], fit=True)
    assert X["x0"].tolist() == [1, 2] and X["x1"].tolist() == ["a", "b"]


def test_frame_dtypes_accepted_and_names_made_str():
    frame = pd.DataFrame(
        {
            0: [1.0, 2.0, 3.0],
            "cat": pd.Categorical(["a", "b", "a"]),
            "obj": pd.Series(["x", None, "y"], dtype=object),
            "str": pd.Series(["x", "y", None], dtype="string"),
            "bool": [True, False, True],
            "Int64": pd.array([1, None, 3], dtype="Int64"),
            "Float64": pd.array([1.5, None, 3.0], dtype="Float64"),
            "boolean": pd.array([True, None, False], dtype="boolean"),
            "when": pd.to_datetime(["2020-01-01", None, "2021-05-03"]),
            "tz": pd.date_range("2020-01-01", periods=3, tz="UTC"),
        }
    )
    X = check_X(frame, fit=True)
    assert list(X.columns) == ["0", *frame.columns[1:]]
    assert X.dtypes.iloc[1:].tolist() == frame.dtypes.iloc[1:].tolist()
    assert list(frame.columns)[0] == 0  # the caller's frame is unchanged


def test_inf_becomes_nan_without_touching_input():
    frame = pd.DataFrame({"a": [1.0, np.inf, -np.inf], "b": pd.array([np.inf, 1.0, None], dtype="Float64")})
    X = check_X(frame, fit=True)
    assert X["a"].isna().tolist() == [False, True, True]
    assert X["b"].isna().tolist() == [True, False, True]
    assert np.isinf(frame["a"]).sum() == 2
    X = check_X(np.array([[np.inf, 1.0]]), fit=True)
    assert np.isnan(X.loc[0, "x0"])


def test_sparse_becomes_csr_float64():
    coo = sp.coo_matrix(np.array([[1, 0, np.inf], [0, 2, 0]]))
    X = check_X(coo, fit=True)
    assert sp.isspmatrix_csr(X) and X.dtype == np.float64
    assert np.isnan(X[0, 2]) and X[1, 1] == 2
    assert np.isinf(coo.data).any()  # input untouched
    assert sp.isspmatrix_csr(check_X(sp.csr_array(np.eye(2, dtype=np.int32)), fit=True))


def test_predict_reorders_frame_columns():
    frame = pd.DataFrame({"c": [1.0], "a": [2.0], "b": ["x"]})
    X = check_X(frame, fit=False, schema=SCHEMA)
    assert list(X.columns) == ["a", "b", "c"]
    assert X.loc[0, "a"] == 2.0


def test_predict_array_columns_matched_by_position():
    X = check_X(np.zeros((2, 3)), fit=False, schema=SCHEMA)
    assert list(X.columns) == ["a", "b", "c"]


def test_schema_ignored_at_fit_time():
    X = check_X(pd.DataFrame({"z": [1]}), fit=True, schema=SCHEMA)
    assert list(X.columns) == ["z"]


# ----------------------------------------------------------------------------- targets


@pytest.mark.parametrize(
    "y, expected",
    [
        ([0.5, 1.2, 3.3], "regression"),
        ([0, 1, 1, 0], "binary"),
        ([0.0, 1.0, 1.0], "binary"),
        (["yes", "no"], "binary"),
        ([True, False, True], "binary"),
        ([1, 2, 3, 1, 2, 3], "multiclass"),
        (["a", "b", "c"], "multiclass"),
        (np.arange(100), "regression"),  # > 20 distinct and > 5% of rows
        (np.arange(30).repeat(30), "multiclass"),  # 30 distinct but only 3% of rows
        (np.arange(15).repeat(2), "multiclass"),  # few distinct
        (pd.Series([1.0, np.nan, 2.0, 2.5]), "regression"),  # missing values ignored
    ],
)
def test_infer_task(y, expected):
    assert infer_task(y) == expected


def test_check_y_encodes_strings():
    y, task, classes = check_y(pd.Series(["b", "a", "c", "a", "b", "c"]))
    assert task == "multiclass"
    assert classes.tolist() == ["a", "b", "c"]
    assert y.dtype == np.int64 and y.tolist() == [1, 0, 2, 0, 1, 2]
    assert classes[y].tolist() == ["b", "a", "c", "a", "b", "c"]


@pytest.mark.parametrize(
    "y, classes",
    [
        ([True, False, False, True], [False, True]),
        (pd.Series(pd.Categorical(["x", "y", "x", "y"])), ["x", "y"]),
        (pd.array([1, 2, 1, 2], dtype="Int64"), [1, 2]),
        (np.array([[5], [7], [5], [7]]), [5, 7]),
        (pd.DataFrame({"label": ["p", "q", "p", "q"]}), ["p", "q"]),
    ],
)
def test_check_y_binary_inputs(y, classes):
    encoded, task, found = check_y(y)
    assert task == "binary" and found.tolist() == classes
    assert encoded.tolist() == [0, 1, 0, 1] or encoded.tolist() == [1, 0, 0, 1]


def test_check_y_regression_and_explicit_tasks():
    y, task, classes = check_y([1, 2, 3, 4], task="regression")
    assert task == "regression" and classes is None and y.dtype == np.float64
    _, task, classes = check_y(np.arange(100) % 50, task="classification")
    assert task == "multiclass" and len(classes) == 50
    _, task, _ = check_y([0, 1, 0, 1], task="multiclass")
    assert task == "multiclass"
    _, task, _ = check_y(["a", "b", "a", "b"], task="classification")
    assert task == "binary"


def test_rare_class_warns_but_passes():
    with pytest.warns(UserWarning, match="class 'c' has a single sample"):
        _, task, classes = check_y(["a", "a", "b", "b", "c"])
    assert task == "multiclass" and len(classes) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_y(["a", "a", "b", "b"])
