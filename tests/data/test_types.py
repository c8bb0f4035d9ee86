import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from autolearn.data import KINDS, check_X, infer_schema

N = 200
RNG = np.random.default_rng(0)
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
DATES = pd.date_range("2020-01-01", periods=N, freq="D")


def _frame() -> pd.DataFrame:
    """One column per rule, named ``<expected kind>__<what it is>``."""
    return pd.DataFrame(
        {
            "numeric__float": RNG.normal(size=N),
            "numeric__int": RNG.integers(0, 5, N),  # integer codes are numeric unless declared
            "numeric__nullable": pd.array(RNG.integers(0, 100, N), dtype="Int64"),
            "numeric__strings": RNG.normal(size=N).round(3).astype(str).astype(object),
            "numeric__yyyymmdd": DATES.strftime("%Y%m%d").astype(object),  # numbers-as-strings, not dates
            "numeric__python_numbers": pd.Series(list(RNG.normal(size=N)), dtype=object),
            "numeric__constant": ["k"] * N,
            "numeric__all_missing": [np.nan] * N,
            "categorical__strings": RNG.choice(["red", "green", "blue"], N),
            "categorical__dtype": pd.Categorical(RNG.choice(["a", "b"], N), categories=["a", "b", "c"]),
            "categorical__codes": RNG.choice(["007", "012", "100"], N),  # leading zeros: codes, not numbers
            "categorical__months": RNG.choice(["March", "April", "May"], N),  # no year: not dates
            "categorical__times": RNG.choice(["12:30", "13:45", "08:00"], N),
            "categorical__ids": [f"id{i}" for i in range(N)],  # unique but single words: not text
            "boolean__bool": RNG.random(N) > 0.5,
            "boolean__nullable": pd.array(RNG.random(N) > 0.5, dtype="boolean"),
            "boolean__yes_no": RNG.choice(["yes", "no"], N),
            "boolean__two_values": RNG.choice(["male", "female"], N),
            "boolean__python_bools": pd.Series([bool(v) for v in RNG.random(N) > 0.5], dtype=object),
            "datetime__dtype": DATES,
            "datetime__iso": DATES.strftime("%Y-%m-%d").astype(object),
            "datetime__dayfirst": DATES.strftime("%d/%m/%Y"),
            "datetime__timestamps": DATES.strftime("%Y-%m-%d %H:%M:%S"),
            "text__sentences": [" ".join(RNG.choice(WORDS, 6)) for _ in range(N)],
        }
    )


def test_every_rule():
    frame = _frame()
    schema = infer_schema(check_X(frame, fit=True))
    assert schema.columns == tuple(frame.columns)
    wrong = {c: schema.kinds[c] for c in frame.columns if schema.kinds[c] != c.split("__")[0]}
    assert wrong == {}
    assert set(schema.kinds.values()) == set(KINDS)


def test_categories_recorded():
    schema = infer_schema(_frame())
    assert set(schema.categories) == set(schema.of("categorical")) | set(schema.of("boolean"))
    assert schema.categories["categorical__strings"] == ("blue", "green", "red")
    assert schema.categories["categorical__dtype"] == ("a", "b", "c")  # declared, including unseen "c"
    assert schema.categories["boolean__bool"] == (False, True)
    assert schema.categories["boolean__yes_no"] == ("no", "yes")  # the true-like value second
    assert schema.categories["boolean__two_values"] == ("female", "male")


@pytest.mark.parametrize(
    "values, expected",
    [
        (["True", "False", "True"], ("False", "True")),
        (["Y", "N", "N"], ("N", "Y")),
        (["on", "off", "on"], ("off", "on")),
    ],
)
def test_boolean_words_ordered_false_then_true(values, expected):
    schema = infer_schema(pd.DataFrame({"b": values}))
    assert schema.kinds["b"] == "boolean" and schema.categories["b"] == expected


def test_declared_categorical_integer_codes():
    frame = pd.DataFrame({"code": [3, 1, 2, 1], "x": [0.1, 0.2, 0.3, 0.4]})
    schema = infer_schema(frame, categorical=["code"])
    assert schema.kinds == {"code": "categorical", "x": "numeric"}
    assert schema.categories["code"] == (1, 2, 3)
    assert all(type(c) is int for c in schema.categories["code"])  # plain Python values, JSON-friendly


def test_declared_unknown_column_is_an_error():
    with pytest.raises(ValueError, match="categorical column 'cod' not found.*did you mean 'code'"):
        infer_schema(pd.DataFrame({"code": [1, 2]}), categorical=["cod"])


def test_missing_values_do_not_change_the_kind():
    frame = pd.DataFrame(
        {
            "dates": ["2021-03-01", None, "2021-03-05", "2021-04-01", np.nan] * 10,
            "cats": ["a", None, "b", "c", "a"] * 10,
            "nums": [1.5, np.nan, 2.5, 3.0, 4.0] * 10,
        }
    )
    assert infer_schema(frame).kinds == {"dates": "datetime", "cats": "categorical", "nums": "numeric"}


def test_mostly_unparseable_dates_stay_categorical():
    values = ["2021-03-01", "2021-03-02", "soon", "later", "never"] * 10
    assert infer_schema(pd.DataFrame({"d": values})).kinds["d"] == "categorical"


def test_mixed_object_column_keeps_raw_categories():
    frame = pd.DataFrame({"m": pd.Series([1, "a", 2.5, "b"] * 5, dtype=object)})
    schema = infer_schema(frame)
    assert schema.kinds["m"] == "categorical"
    assert set(schema.categories["m"]) == {1, "a", 2.5, "b"}


def test_constant_category_is_numeric():
    frame = pd.DataFrame({"c": pd.Categorical(["x"] * 5), "b": [True] * 5})
    assert infer_schema(frame).kinds == {"c": "numeric", "b": "numeric"}


def test_sparse_is_all_numeric():
    schema = infer_schema(sp.csr_matrix(np.eye(3)))
    assert schema.columns == ("x0", "x1", "x2") and set(schema.kinds.values()) == {"numeric"}


def test_rejects_non_frames():
    with pytest.raises(TypeError, match="expects a DataFrame .*call check_X first"):
        infer_schema(np.zeros((2, 2)))
