"""Read a table from a file, a PMLB folder or OpenML into ``(X, y)``.

Readers return the raw table (one DataFrame); :func:`load_table` picks the reader and splits off the
target. ``?`` and empty cells are missing everywhere. The default target is the format's convention:
the last attribute of an ARFF file, ``target`` in a PMLB table, the dataset's default target on OpenML;
CSV and Parquet have none (``y`` is ``None`` unless ``target`` is given).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import os
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import arff
import numpy as np
import pandas as pd

from autolearn.data.validation import check_column

TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".data", ".dat")
COMPRESSIONS = (".gz", ".bz2", ".xz", ".zip")
PARQUET_SUFFIXES = (".parquet", ".pq")
ARFF_SUFFIXES = (".arff",)
MISSING_VALUES = ["?"]  # in addition to pandas' defaults (empty, NA, NaN, null...)
_DELIMITERS = (",", "\t", ";", "|")
_SNIFF_CHARS = 1 << 16


def load_table(
    source: str | os.PathLike | int, target: str | None = None, **kw: Any
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Load ``source`` and split off ``target``.

    Parameters
    ----------
    source : str, Path or int
        A CSV/TSV (delimiter sniffed, optionally compressed), Parquet or ARFF file, a PMLB folder
        ``<name>/`` holding ``<name>.tsv.gz``, or an OpenML dataset id (needs network).
    target : str, optional
        The label column; defaults to the format's convention (see the module docstring).
    **kw
        Passed to the reader (:func:`pandas.read_csv`, :func:`pandas.read_parquet` or
        :func:`sklearn.datasets.fetch_openml`).

    Returns
    -------
    X : DataFrame
    y : Series or None
    """
    if isinstance(source, (bool, np.bool_)):
        raise TypeError(f"source must be a path or an OpenML dataset id; got {source!r}")
    if isinstance(source, (int, np.integer)):
        return fetch_openml_table(int(source), target=target, **kw)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"source must be a path (str or Path) or an OpenML dataset id (int); got {type(source).__name__}"
        )
    path = Path(source).expanduser()
    if not path.exists():
        hint = f"; to fetch OpenML dataset {source}, pass an int: load_table({source})" if str(source).isdigit() else ""
        raise FileNotFoundError(f"no such file or folder: '{path}'{hint}")
    if path.is_dir():
        return split_target(read_pmlb(path, **kw), target, default="target")
    kind = _file_kind(path)
    if kind == "arff":
        frame = read_arff(path, **kw)
        return split_target(frame, target, default=frame.columns[-1])
    if kind == "parquet":
        return split_target(read_parquet(path, **kw), target)
    frame = read_csv(path, **kw)
    return split_target(frame, target, default="target" if _is_pmlb_file(path) else None)


def split_target(
    frame: pd.DataFrame, target: str | None, default: str | None = None
) -> tuple[pd.DataFrame, pd.Series | None]:
    """``(features, label)``; ``target`` (or ``default``) must name a column of ``frame``."""
    target = default if target is None else target
    if target is None:
        return frame, None
    check_column(target, frame.columns, what="target column")
    return frame.drop(columns=[target]), frame[target]


# --------------------------------------------------------------------------- files


def _file_kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in ARFF_SUFFIXES:
        return "arff"
    if last in PARQUET_SUFFIXES and path.suffix.lower() not in COMPRESSIONS:
        return "parquet"
    if last in TEXT_SUFFIXES:
        return "text"
    supported = ", ".join(TEXT_SUFFIXES + PARQUET_SUFFIXES + ARFF_SUFFIXES)
    raise ValueError(
        f"unsupported file type '{''.join(path.suffixes) or path.name}' for '{path}'; supported: {supported} "
        f"(text and ARFF files may be compressed with {', '.join(COMPRESSIONS)}), or a PMLB folder"
    )


def _is_pmlb_file(path: Path) -> bool:
    """``<name>/<name>.tsv[.gz]``: the PMLB layout, whose label column is ``target``."""
    name = path.name.lower()
    return name in (f"{path.parent.name.lower()}.tsv.gz", f"{path.parent.name.lower()}.tsv")


def _check_nonempty_file(path: Path) -> None:
    if path.stat().st_size == 0:
        raise ValueError(f"'{path}' is empty")


def _check_nonempty_frame(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    if frame.shape[1] == 0:
        raise ValueError(f"'{path}' has no columns")
    if frame.shape[0] == 0:
        raise ValueError(f"'{path}' has no data rows (columns: {', '.join(map(str, frame.columns[:10]))})")
    return frame


def _open_text(path: Path, encoding: str = "utf-8") -> io.TextIOBase:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        return io.TextIOWrapper(archive.open(archive.namelist()[0]), encoding=encoding, errors="replace")
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(suffix, open)
    return opener(path, "rt", encoding=encoding, errors="replace", newline="")


def _sniff_delimiter(path: Path) -> str:
    """The delimiter that splits the header and >=90% of the first lines into the same number (>1) of
    fields; quote-aware. Requiring the header to agree rules out decimal commas in ``;`` files."""
    with _open_text(path) as handle:
        chunk = handle.read(_SNIFF_CHARS)
    lines = chunk.splitlines()
    if len(chunk) == _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    lines = [line for line in lines if line.strip()][:200]
    if not lines:
        return ","
    best, best_score = ",", (0.0, 0)
    for delimiter in _DELIMITERS:
        score = _consistency([len(row) for row in csv.reader(lines, delimiter=delimiter)])
        if score > best_score:
            best, best_score = delimiter, score
    if best_score == (0.0, 0) and _consistency([len(line.split()) for line in lines]) > best_score:
        return r"\s+"  # whitespace-aligned columns, only when no real delimiter fits
    return best


def _consistency(counts: list[int]) -> tuple[float, int]:
    """(share of lines with the usual field count, that count), or (0, 0) when the split does not fit:
    one field, a header that disagrees, or fewer than 90% of lines agreeing."""
    fields, frequency = Counter(counts).most_common(1)[0]
    share = frequency / len(counts)
    return (share, fields) if fields > 1 and counts[0] == fields and share >= 0.9 else (0.0, 0)


def read_csv(path: str | os.PathLike, **kw: Any) -> pd.DataFrame:
    """Delimited text; the delimiter is sniffed unless ``sep`` is given; ``?`` and empty cells are missing."""
    path = Path(path)
    _check_nonempty_file(path)
    sep = kw.pop("sep", None) or _sniff_delimiter(path)
    kw.setdefault("na_values", MISSING_VALUES)
    kw.setdefault("skipinitialspace", True)
    try:
        try:
            frame = pd.read_csv(path, sep=sep, **kw)
        except UnicodeDecodeError:
            frame = pd.read_csv(path, sep=sep, **{**kw, "encoding": "latin-1"})
    except pd.errors.EmptyDataError:
        raise ValueError(f"'{path}' is empty") from None
    except pd.errors.ParserError as error:
        raise ValueError(
            f"could not parse '{path}' with delimiter {sep!r} ({error}); pass sep=... to choose one"
        ) from None
    return _check_nonempty_frame(frame, path)


def read_parquet(path: str | os.PathLike, **kw: Any) -> pd.DataFrame:
    """A Parquet file (through pyarrow)."""
    path = Path(path)
    _check_nonempty_file(path)
    try:
        frame = pd.read_parquet(path, **kw)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise ValueError(f"could not read '{path}' as Parquet: {error}") from None
    return _check_nonempty_frame(frame, path)


def read_pmlb(path: str | os.PathLike, **kw: Any) -> pd.DataFrame:
    """A PMLB dataset: folder ``<name>/`` holding ``<name>.tsv.gz`` (tab-separated), or that file."""
    path = Path(path)
    if path.is_dir():
        candidates = [path / f"{path.name}.tsv.gz", path / f"{path.name}.tsv"]
        found = [p for p in candidates if p.exists()] or sorted(path.glob("*.tsv.gz")) + sorted(path.glob("*.tsv"))
        if len(found) == 0:
            raise FileNotFoundError(f"PMLB folder '{path}' has no '{path.name}.tsv.gz'")
        if len(found) > 1 and found[0] not in candidates:
            raise ValueError(f"PMLB folder '{path}' has several tables: {', '.join(p.name for p in found)}")
        path = found[0]
    return read_csv(path, **{"sep": "\t", **kw})


# --------------------------------------------------------------------------- ARFF

_DATE_ATTRIBUTE = re.compile(
    r"^(?P<head>\s*@attribute\s+(?P<name>'[^']*'|\"[^\"]*\"|\S+)\s+)date\b[ \t]*(?P<format>.*?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_JAVA_DATE_TOKENS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def _java_to_strftime(pattern: str) -> str:
    """ARFF DATE formats are Java SimpleDateFormat patterns; the default is ISO 8601."""
    pattern = pattern.strip("\"'") or "yyyy-MM-dd'T'HH:mm:ss"
    pattern = re.sub("|".join(_JAVA_DATE_TOKENS), lambda m: _JAVA_DATE_TOKENS[m.group(0)], pattern)
    return pattern.replace("'", "")


def read_arff(path: str | os.PathLike) -> pd.DataFrame:
    """An ARFF file. Nominal attributes become ``category`` with the declared categories (in declared
    order), numeric ones float64 (int64 for INTEGER without missing values), DATE ones datetime64,
    STRING ones str; ``?`` is missing."""
    path = Path(path)
    _check_nonempty_file(path)
    with _open_text(path) as handle:
        text = handle.read()
    dates: dict[str, str] = {}

    def _as_string(match: re.Match) -> str:  # liac-arff cannot read DATE: read it as STRING, parse below
        dates[match.group("name").strip("\"'")] = _java_to_strftime(match.group("format"))
        return match.group("head") + "STRING"

    try:
        decoded = arff.loads(_DATE_ATTRIBUTE.sub(_as_string, text))
    except arff.ArffException as error:
        raise ValueError(f"could not parse '{path}' as ARFF: {error}") from None
    attributes, rows = decoded["attributes"], decoded["data"]
    if not rows:
        raise ValueError(f"'{path}' has no data rows (attributes: {', '.join(a for a, _ in attributes[:10])})")
    raw = pd.DataFrame.from_records(rows, columns=[name for name, _ in attributes])
    columns = {}
    for name, kind in attributes:
        values = raw[name]
        if isinstance(kind, list):
            columns[name] = pd.Categorical(values, categories=list(dict.fromkeys(kind)))
        elif name in dates:
            columns[name] = pd.to_datetime(values, format=dates[name], errors="coerce")
        elif kind == "STRING":
            columns[name] = values.astype("str")
        else:
            numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
            integer = kind == "INTEGER" and numbers.notna().all() and (numbers == np.round(numbers)).all()
            columns[name] = numbers.astype(np.int64) if integer else numbers
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------- OpenML

_OPENML_RESERVED = ("data_id", "name", "as_frame", "return_X_y", "target_column")


def fetch_openml_table(data_id: int, target: str | None = None, **kw: Any) -> tuple[pd.DataFrame, pd.Series | None]:
    """An OpenML dataset by id, through :func:`sklearn.datasets.fetch_openml` (cached in ``data_home``).

    ``target`` defaults to the dataset's default target; ``kw`` goes to ``fetch_openml`` (e.g.
    ``data_home``, ``cache``, ``parser``).
    """
    if isinstance(data_id, (bool, np.bool_)) or not isinstance(data_id, (int, np.integer)):
        raise TypeError(f"an OpenML dataset id is an int; got {data_id!r} of type {type(data_id).__name__}")
    if data_id <= 0:
        raise ValueError(f"OpenML dataset ids are positive integers; got {data_id}")
    reserved = [k for k in _OPENML_RESERVED if k in kw]
    if reserved:
        raise TypeError(f"load_table sets {', '.join(reserved)} itself; pass target=... to choose the label column")
    from sklearn.datasets import fetch_openml  # imported here: heavy, and only needed for OpenML

    bunch = fetch_openml(data_id=int(data_id), as_frame=True, **kw)
    frame, defaults = bunch.frame, list(bunch.target_names or [])
    if target is None and len(defaults) > 1:
        raise ValueError(
            f"OpenML dataset {data_id} has several default targets ({', '.join(defaults)}); pass target=... to pick one"
        )
    return split_target(frame, target, default=defaults[0] if defaults else None)
