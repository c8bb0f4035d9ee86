import gzip
import types

import arff
import numpy as np
import pandas as pd
import pytest

from autolearn.data import load_table
from autolearn.data.loaders import read_arff, read_csv

FRAME = pd.DataFrame(
    {
        "age": [25.0, np.nan, 47.5, 33.0],
        "city": ["Paris, FR", "Oslo", None, "Rome"],
        "n": [1, 2, 3, 4],
        "label": ["yes", "no", "no", "yes"],
    }
)


def _write_text(path, text):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
@pytest.mark.parametrize("name", ["table.csv", "table.txt", "table.csv.gz"])
def test_csv_round_trip_any_delimiter(tmp_path, sep, name):
    path = tmp_path / name
    FRAME.to_csv(path, sep=sep, index=False)
    X, y = load_table(path, target="label")
    pd.testing.assert_frame_equal(X, FRAME.drop(columns="label"), check_dtype=False)
    assert y.tolist() == FRAME["label"].tolist()


def test_csv_without_target_returns_all_columns(tmp_path):
    FRAME.to_csv(tmp_path / "t.csv", index=False)
    X, y = load_table(tmp_path / "t.csv")
    assert y is None and list(X.columns) == list(FRAME.columns)


def test_csv_question_mark_and_empty_are_missing(tmp_path):
    path = _write_text(tmp_path / "m.csv", "a,b,c\n1,?,x\n,2.5,?\n3, ?,y\n")
    frame = read_csv(path)
    assert frame["a"].isna().tolist() == [False, True, False]
    assert frame["b"].isna().tolist() == [True, False, True]
    assert frame["b"].dtype == np.float64
    assert frame["c"].isna().tolist() == [False, True, False]


def test_csv_semicolon_with_decimal_commas(tmp_path):
    path = _write_text(tmp_path / "eu.csv", "x;y\n1,5;2\n3,25;4\n7;8,5\n")
    frame = read_csv(path, decimal=",")
    assert list(frame.columns) == ["x", "y"] and frame["x"].tolist() == [1.5, 3.25, 7.0]


def test_whitespace_separated_data_file(tmp_path):
    path = _write_text(tmp_path / "uci.data", "a b  c\n1 2  3\n4   5 6\n")
    assert read_csv(path).to_numpy().tolist() == [[1, 2, 3], [4, 5, 6]]


def test_comma_beats_spaces_inside_values(tmp_path):
    path = _write_text(tmp_path / "notes.csv", "name,note\nAnn Lee,good day to you\nBo Ek,fine\n")
    assert read_csv(path).to_numpy().tolist() == [["Ann Lee", "good day to you"], ["Bo Ek", "fine"]]


def test_single_column_csv(tmp_path):
    path = _write_text(tmp_path / "one.csv", "value\n1\n2\n")
    assert read_csv(path)["value"].tolist() == [1, 2]


def test_parquet_round_trip_keeps_dtypes(tmp_path):
    frame = FRAME.assign(
        kind=pd.Categorical(["a", "b", "a", "c"], categories=["a", "b", "c", "d"]),
        when=pd.date_range("2020-01-01", periods=4),
    )
    frame.to_parquet(tmp_path / "t.parquet")
    X, y = load_table(tmp_path / "t.parquet", target="label")
    pd.testing.assert_frame_equal(X, frame.drop(columns="label"))
    assert list(X["kind"].cat.categories) == ["a", "b", "c", "d"]


def test_arff_round_trip_nominal_and_missing(tmp_path):
    document = {
        "relation": "toy",
        "attributes": [
            ("width", "REAL"),
            ("count", "INTEGER"),
            ("colour", ["red", "green", "blue"]),
            ("note", "STRING"),
            ("class", ["no", "yes"]),
        ],
        "data": [
            [1.5, 3, "red", "first one", "yes"],
            [None, 4, None, "second", "no"],
            [2.0, 5, "blue", None, "no"],
        ],
    }
    path = tmp_path / "toy.arff"
    path.write_text(arff.dumps(document))
    X, y = load_table(path)  # the target defaults to the last attribute
    assert y.name == "class" and y.tolist() == ["yes", "no", "no"]
    assert list(y.cat.categories) == ["no", "yes"]
    assert X["width"].dtype == np.float64 and np.isnan(X.loc[1, "width"])
    assert X["count"].dtype == np.int64
    assert isinstance(X["colour"].dtype, pd.CategoricalDtype)
    assert list(X["colour"].cat.categories) == ["red", "green", "blue"]  # declared, in declared order
    assert pd.isna(X.loc[1, "colour"]) and pd.isna(X.loc[2, "note"])
    X, y = load_table(path, target="colour")
    assert y.name == "colour" and "class" in X


def test_arff_by_hand_quotes_dates_and_gzip(tmp_path):
    text = (
        "% comment\n@RELATION r\n"
        "@ATTRIBUTE 'body style' {sedan, 'hard top'}\n"
        "@ATTRIBUTE when DATE 'yyyy-MM-dd'\n"
        "@ATTRIBUTE stamp date\n"
        "@ATTRIBUTE n INTEGER\n"
        "@ATTRIBUTE y numeric\n"
        "@DATA\n"
        "sedan,2020-01-31,2020-01-31T10:00:00,?,1.5\n"
        "'hard top',?,?,2,?\n"
    )
    path = _write_text(tmp_path / "cars.arff.gz", text)
    frame = read_arff(path)
    assert list(frame.columns) == ["body style", "when", "stamp", "n", "y"]
    assert frame["body style"].tolist() == ["sedan", "hard top"]
    assert frame["when"].dtype.kind == "M" and frame.loc[0, "when"] == pd.Timestamp("2020-01-31")
    assert frame.loc[0, "stamp"] == pd.Timestamp("2020-01-31 10:00:00") and pd.isna(frame.loc[1, "stamp"])
    assert frame["n"].dtype == np.float64  # INTEGER with a missing value
    X, y = load_table(path)
    assert y.name == "y" and np.isnan(y.iloc[1])


@pytest.mark.parametrize("as_folder", [True, False])
def test_pmlb_folder_and_file(tmp_path, as_folder):
    folder = tmp_path / "123_toy"
    folder.mkdir()
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.1, 0.2], "target": [0, 1, 0]})
    frame.to_csv(folder / "123_toy.tsv.gz", sep="\t", index=False)
    X, y = load_table(folder if as_folder else folder / "123_toy.tsv.gz")
    assert list(X.columns) == ["a", "b"] and y.name == "target" and y.tolist() == [0, 1, 0]


# ----------------------------------------------------------------------------- errors


FILES = {
    "empty.csv": b"",
    "header.csv": b"a,b,c\n",
    "table.xlsx": b"x",
    "ok.csv": b"sepal,klass\n1,a\n2,b\n",
    "bad.arff": b"@relation r\n@attribute a {x, y}\n@data\nz\n",
    "nodata.arff": b"@relation r\n@attribute a numeric\n@data\n",
    "empty.parquet": b"",
    "junk.parquet": b"not parquet",
}

# (id, source: a name in tmp_path or a literal, kwargs, error, message)
BAD_SOURCES = [
    ("missing file", "nope.csv", {}, FileNotFoundError, "no such file or folder: '.*nope.csv'"),
    ("digits", "61", {}, FileNotFoundError, r"pass an int: load_table\(61\)"),
    ("empty csv", "empty.csv", {}, ValueError, "'.*empty.csv' is empty"),
    ("header only", "header.csv", {}, ValueError, r"has no data rows \(columns: a, b, c\)"),
    ("extension", "table.xlsx", {}, ValueError, "unsupported file type '.xlsx'.*supported: .csv.*.parquet.*.arff"),
    (
        "target",
        "ok.csv",
        {"target": "class"},
        ValueError,
        r"target column 'class' not found; available columns: 'sepal', 'klass' \(did you mean 'klass'\?\)",
    ),
    ("bad arff", "bad.arff", {}, ValueError, "could not parse '.*bad.arff' as ARFF"),
    ("arff without rows", "nodata.arff", {}, ValueError, r"has no data rows \(attributes: a\)"),
    ("empty parquet", "empty.parquet", {}, ValueError, "'.*empty.parquet' is empty"),
    ("junk parquet", "junk.parquet", {}, ValueError, "could not read '.*junk.parquet' as Parquet"),
    ("pmlb folder", "no_table", {}, FileNotFoundError, "PMLB folder .* has no 'no_table.tsv.gz'"),
    ("float source", 1.5, {}, TypeError, "source must be a path .* or an OpenML dataset id .*got float"),
    ("bool source", True, {}, TypeError, "got True"),
]


@pytest.mark.parametrize("source, kwargs, error, match", [r[1:] for r in BAD_SOURCES], ids=[r[0] for r in BAD_SOURCES])
def test_bad_sources(tmp_path, monkeypatch, source, kwargs, error, match):
    for name, content in FILES.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "no_table").mkdir()
    monkeypatch.chdir(tmp_path)  # relative names resolve in tmp_path
    with pytest.raises(error, match=match):
        load_table(source, **kwargs)


# ----------------------------------------------------------------------------- OpenML, without network


@pytest.fixture
def fake_openml(monkeypatch):
    calls = []

    def fetch_openml(**kwargs):
        calls.append(kwargs)
        frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "class": ["p", "q"]})
        targets = ["class"] if kwargs["data_id"] != 99 else ["a", "class"]
        return types.SimpleNamespace(frame=frame, target_names=targets)

    import sklearn.datasets

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fetch_openml)
    return calls


def test_openml_arguments(fake_openml):
    X, y = load_table(61, data_home="/tmp/cache")
    assert fake_openml == [{"data_id": 61, "as_frame": True, "data_home": "/tmp/cache"}]
    assert list(X.columns) == ["a", "b"] and y.name == "class"
    X, y = load_table(np.int64(61), target="b")
    assert fake_openml[-1]["data_id"] == 61 and type(fake_openml[-1]["data_id"]) is int
    assert y.name == "b" and list(X.columns) == ["a", "class"]


@pytest.mark.parametrize(
    "source, kwargs, error, match",
    [
        (0, {}, ValueError, "OpenML dataset ids are positive integers; got 0"),
        (-3, {}, ValueError, "got -3"),
        (61, {"target_column": "x"}, TypeError, "load_table sets target_column itself; pass target="),
        (61, {"target": "klass"}, ValueError, "target column 'klass' not found.*did you mean 'class'"),
        (99, {}, ValueError, "OpenML dataset 99 has several default targets \\(a, class\\)"),
    ],
)
def test_openml_errors(fake_openml, source, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_table(source, **kwargs)
