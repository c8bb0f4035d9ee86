"""The meta-database: the shipped file loads and matches the current search space; masking; normalization."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from autolearn.meta import MetaDatabase, StaleDatabaseError, TaskTable, load_metadb
from autolearn.meta._configs import complete, is_valid, key, project
from autolearn.meta.candidates import candidates, handmade
from autolearn.meta.database import normalize, write_metadb
from autolearn.space import build_space
from autolearn.strategy import portfolio

TASKS = ("binary", "multiclass", "regression")


def small_table(task: str = "binary", n_datasets: int = 4, n_configs: int = 5, seed: int = 0) -> TaskTable:
    rng = np.random.default_rng(seed)
    names = [f"d{i}" for i in range(n_datasets)]
    return TaskTable(
        task=task, configs=tuple(c for _, c in candidates(task, n_configs)), datasets=tuple(names),
        metafeatures=pd.DataFrame(rng.normal(size=(n_datasets, 3)), index=names, columns=["a", "b", "c"]),
        performance=rng.uniform(size=(n_datasets, n_configs)), origins=tuple(o for o, _ in candidates(task, n_configs)),
        extra={"best_loss": np.arange(n_datasets, dtype=float)}, cost=rng.uniform(0.1, 10.0, size=(n_datasets, n_configs)),
    )


# -- the shipped database -------------------------------------------------------------------------------
def test_shipped_database_loads_with_consistent_shapes() -> None:
    db = load_metadb()
    assert set(db.tables) == set(TASKS)
    for task, table in db.tables.items():
        assert len(table) > 0, task
        assert table.performance.shape == (len(table.datasets), len(table.configs))
        assert list(table.metafeatures.index) == list(table.datasets)
        finite = table.performance[~np.isnan(table.performance)]
        assert ((finite >= 0) & (finite <= 1)).all()
        assert (np.nanmin(table.performance, axis=1) == 0).all()  # each row's best is 0 by construction
        assert table.cost is not None and table.cost.shape == table.performance.shape
        assert (table.cost[np.isfinite(table.cost)] > 0).all()
        assert np.allclose(np.nanmedian(table.cost, axis=1), 1.0, rtol=0.05)  # relative to each row's median
    assert len(set(db.datasets)) == len(db.datasets)  # a dataset in two tables would leak in LODO


def test_shipped_configurations_are_valid_in_the_current_space() -> None:
    """Fails when the CASH space changed and the database was not rebuilt (see the error's hint)."""
    load_metadb().validate()


def test_shipped_metafeature_names_are_current() -> None:
    from autolearn.meta.metafeatures import feature_names

    for table in load_metadb().tables.values():
        assert list(table.metafeatures.columns) == feature_names()


def test_validate_names_the_first_stale_configuration() -> None:
    table = small_table()
    configs = list(table.configs)
    configs[2] = {**configs[2], "model": "no_such_model"}
    stale = TaskTable(table.task, tuple(configs), table.datasets, table.metafeatures, table.performance.copy(),
                      table.origins)
    with pytest.raises(StaleDatabaseError, match="#2"):
        stale.validate()
    table.validate(build_space("binary"))  # the original is fine


# -- masking ------------------------------------------------------------------------------------------
def test_without_masks_one_dataset_and_leaves_the_original_alone() -> None:
    table = small_table()
    masked = table.without("d1")
    assert masked.datasets == ("d0", "d2", "d3")
    assert list(masked.metafeatures.index) == ["d0", "d2", "d3"]
    np.testing.assert_array_equal(masked.performance, table.performance[[0, 2, 3]])
    np.testing.assert_array_equal(masked.extra["best_loss"], [0.0, 2.0, 3.0])
    np.testing.assert_array_equal(masked.cost, table.cost[[0, 2, 3]])
    assert len(table) == 4 and table.without(None) is table and table.without("unknown") is table
    with pytest.raises(KeyError):
        masked.index("d1")


def test_database_without_masks_every_task() -> None:
    db = MetaDatabase({"binary": small_table("binary"), "regression": small_table("regression", seed=1)})
    masked = db.without(["d0", "d3"])
    assert masked["binary"].datasets == ("d1", "d2") and masked["regression"].datasets == ("d1", "d2")
    assert len(db["binary"]) == 4


# -- normalization and the file format -----------------------------------------------------------------
def test_normalize_against_the_constant_baseline() -> None:
    norm, best = normalize(np.array([0.1, 0.3, 0.5, 0.9, np.inf, np.nan]), baseline=0.5)
    assert best == pytest.approx(0.1)
    np.testing.assert_allclose(norm[:5], [0.0, 0.5, 1.0, 1.0, 1.0])  # worse than constant clips; failure is 1
    assert math.isnan(norm[5])  # not evaluated stays unknown


def test_normalize_falls_back_to_the_worst_when_nothing_beats_the_baseline() -> None:
    norm, _ = normalize(np.array([0.6, 0.7, 0.8]), baseline=0.5)
    np.testing.assert_allclose(norm, [0.0, 0.5, 1.0])
    assert np.isnan(normalize(np.array([np.nan, np.inf]), 0.5)[1])


def test_write_then_load_round_trip(tmp_path) -> None:
    table = small_table()
    table.metafeatures.iloc[0, 0] = np.nan
    db = MetaDatabase({"binary": table}, {"built": "today"})
    path = write_metadb(db, tmp_path / "db.json.gz")
    back = load_metadb(path)
    assert back.info["built"] == "today"
    t = back["binary"]
    assert t.configs == table.configs and t.datasets == table.datasets and t.origins == table.origins
    np.testing.assert_allclose(t.performance, table.performance, atol=1e-4)
    np.testing.assert_allclose(t.cost, table.cost, rtol=0.05)  # two significant digits
    assert np.isnan(t.metafeatures.iloc[0, 0])
    np.testing.assert_allclose(t.metafeatures.iloc[1:], table.metafeatures.iloc[1:], rtol=1e-5)


# -- candidates and configuration helpers --------------------------------------------------------------
@pytest.mark.parametrize("task", TASKS)
def test_candidates_are_valid_unique_and_prefix_stable(task: str) -> None:
    space = build_space(task)
    cands = candidates(task, 40)
    assert cands[0][0] == "default" and len(handmade(task)) >= 20
    assert all(is_valid(space, c) is None for _, c in cands)
    assert len({str(sorted(c.items())) for _, c in cands}) == 40
    assert candidates(task, 45)[:40] == cands
    opening = {key(c) for c in portfolio(space)}  # the AutoML opening is in the table, for portfolios to pick
    assert opening <= {key(c) for _, c in cands[:len(opening) + 1]}


def test_project_drops_missing_kinds_and_falls_back_for_missing_choices() -> None:
    from autolearn.data.schema import Schema

    full = complete(build_space("binary"), {"model": "knn", "scaler": "quantile", "encoder": "ordinal"})
    numeric = Schema(("a", "b"), {"a": "numeric", "b": "numeric"})
    small = build_space("binary", schema=numeric, exclude=["quantile"])
    moved = project(small, full)
    assert moved is not None and "encoder" not in moved and "quantile:n_quantiles" not in moved
    assert moved["model"] == "knn" and moved["scaler"] == small["scaler"].default_value
    assert is_valid(small, moved) is None
    assert project(build_space("binary", exclude=["knn"]), full) is None  # the model is the point
