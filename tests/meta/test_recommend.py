"""Recommendations: portfolio arithmetic, nearest datasets, knn / rank / portfolio, warm starts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from autolearn.meta import MetaDatabase, TaskTable, load_metadb, recommend, using_database, warm_start_configs
from autolearn.meta._configs import is_valid, key
from autolearn.meta.candidates import candidates
from autolearn.meta.portfolio import greedy_portfolio, portfolio_loss
from autolearn.meta.similarity import RobustScaler, distances, learn_weights, nearest
from autolearn.space import build_space

# -- the greedy portfolio ---------------------------------------------------------------------------
PERF = np.array([
    [0.0, 0.5, 1.0, 0.2],
    [1.0, 0.0, 0.5, 0.2],
    [1.0, 1.0, 0.0, 0.2],
])


def test_greedy_portfolio_by_hand() -> None:
    # step 1: column means .667 .5 .5 .2 -> config 3
    # step 2: adding 0, 1 or 2 all give mean(min) = .4/3; tie -> lowest mean loss (.5: 1 and 2) -> lowest index 1
    # step 3: adding 0 -> [0, 0, .2], adding 2 -> [.2, 0, 0]: tie at .2/3; mean loss .5 < .667 -> 2
    # step 4: 0 is all that is left
    assert greedy_portfolio(PERF, 4) == [3, 1, 2, 0]
    assert greedy_portfolio(PERF, 2) == [3, 1]
    assert greedy_portfolio(PERF, 10) == [3, 1, 2, 0]
    assert portfolio_loss(PERF, [3, 1]) == pytest.approx(0.4 / 3)
    assert portfolio_loss(PERF, [3, 1, 2]) == pytest.approx(0.2 / 3)
    assert portfolio_loss(PERF, [0, 1, 2]) == 0.0


def test_greedy_portfolio_with_costs_takes_the_largest_gain_per_unit_of_cost() -> None:
    cost = np.array([[1.0, 1.0, 1.0, 8.0]] * 3)
    # step 1, gains from 1: 1/3, 1/2, 1/2, .8 per cost 1, 1, 1, 8 -> 1 (tie with 2 -> lower mean loss, index)
    # step 2 from [.5, 0, 1]: 0 gains .5/3, 2 gains .5/3 (-> [.5, 0, 0]), 3 gains .5/3 at cost 8 -> 2
    # step 3 from [.5, 0, 0]: 0 gains .5/3 at cost 1, 3 gains .3/3 at cost 8 -> 0, then 3
    assert greedy_portfolio(PERF, 4, cost=cost) == [1, 2, 0, 3]
    assert greedy_portfolio(PERF, 4) == [3, 1, 2, 0]  # without costs the expensive all-rounder comes first
    unknown = cost.copy()
    unknown[:, 1] = np.nan  # unknown cost counts as the most expensive known
    assert greedy_portfolio(PERF, 1, cost=unknown) == [2]
    with pytest.raises(ValueError, match="positive"):
        greedy_portfolio(PERF, 2, cost=np.zeros_like(PERF))
    with pytest.raises(ValueError, match="shape"):
        greedy_portfolio(PERF, 2, cost=np.ones((2, 4)))


def test_greedy_portfolio_counts_missing_as_worst() -> None:
    perf = np.array([[np.nan, 0.1], [np.nan, 0.1]])
    assert greedy_portfolio(perf, 1) == [1]
    assert greedy_portfolio(np.empty((0, 3)), 2) == [0, 1]


# -- similarity -------------------------------------------------------------------------------------
def test_distances_use_only_shared_features() -> None:
    ref = np.array([[0.0, 0.0, 0.0], [3.0, np.nan, 4.0], [np.nan, np.nan, np.nan]])
    q = np.array([0.0, 10.0, 0.0])
    d = distances(q, ref, "euclidean")
    assert d[0] == pytest.approx(np.sqrt(100 / 3))
    assert d[1] == pytest.approx(np.sqrt(25 / 2))  # the NaN feature is ignored, RMS over the two shared
    assert np.isinf(d[2])
    assert distances(q, ref, "manhattan")[1] == pytest.approx(3.5)
    assert distances(np.array([1.0, 0.0]), np.array([[2.0, 0.0], [0.0, 1.0]]), "cosine") == pytest.approx([0.0, 1.0])
    weighted = distances(q, ref, "euclidean", weights=np.array([1.0, 0.0, 1.0]))
    assert weighted[0] == 0.0
    with pytest.raises(ValueError, match="distance"):
        distances(q, ref, "chebyshev")


def test_robust_scaler_handles_constant_infinite_and_missing_features() -> None:
    frame = pd.DataFrame({"rows": [100, 1000, 10_000, 1e6], "const": [1.0, 1.0, 1.0, 1.0],
                          "ratio": [0.1, np.inf, 0.3, np.nan]})
    scaler = RobustScaler.fit(frame)
    z = scaler.transform(frame)
    assert not scaler.usable[1]  # constant: carries no information
    assert np.nanmax(np.abs(z)) <= 5.0 and z[1, 2] == 5.0 and np.isnan(z[3, 2])


def test_nearest_orders_by_distance_and_learned_weights_are_nonnegative() -> None:
    table = _table()
    query = table.metafeatures.loc["d2"].copy()
    found = nearest(query, table, k=2)
    assert found[0] == ("d2", 0.0) and len(found) == 2
    w = learn_weights(table)
    assert (w >= 0).all() and set(w.index) == set(table.metafeatures.columns)
    assert nearest(query, table, k=1, weights="learned")[0][0] == "d2"


# -- recommend on a hand-made database ----------------------------------------------------------------
def _table(n_datasets: int = 6, n_configs: int = 8) -> TaskTable:
    """Dataset i's best configuration is i (then i+1, ...); meta-features far apart."""
    names = [f"d{i}" for i in range(n_datasets)]
    perf = np.ones((n_datasets, n_configs))
    for i in range(n_datasets):
        for rank in range(4):
            perf[i, (i + rank) % n_configs] = rank / 4
    mf = pd.DataFrame({"a": np.arange(n_datasets) * 10.0, "b": np.arange(n_datasets) ** 2.0,
                       "c": np.r_[np.nan, np.ones(n_datasets - 1)]}, index=names)
    configs = tuple(c for _, c in candidates("binary", n_configs))
    return TaskTable("binary", configs, tuple(names), mf, perf)


def _query(table: TaskTable, name: str) -> pd.Series:
    mf = table.metafeatures.loc[name].copy()
    mf.attrs["task"] = table.task
    return mf


def test_knn_returns_the_datasets_own_best_configs_unless_masked() -> None:
    table = _table()
    db = MetaDatabase({"binary": table})
    own = [table.configs[i] for i in table.best_configs("d3", 3)]
    assert recommend(n=3, meta_features=_query(table, "d3"), database=db, k=1) == own
    assert recommend(n=3, meta_features=_query(table, "d3"), database=db)[0] == own[0]  # round-robin: own best first
    masked = recommend(n=3, meta_features=_query(table, "d3"), database=db, k=1, exclude_dataset="d3")
    assert masked[0] != own[0]
    (neighbour, _), = nearest(_query(table, "d3"), table.without("d3"), k=1)
    assert neighbour in ("d2", "d4")
    assert masked == [table.configs[i] for i in table.best_configs(neighbour, 3)]


def test_rank_and_portfolio_methods() -> None:
    table = _table()
    db = MetaDatabase({"binary": table})
    ranked = recommend(n=4, method="rank", meta_features=_query(table, "d0"), database=db, k=2)
    assert ranked[0] == table.configs[0] and len(ranked) == 4
    portfolio = recommend(n=3, method="portfolio", task="binary", database=db)
    assert [key(c) for c in portfolio] == [key(table.configs[i]) for i in greedy_portfolio(table.performance, 3)]
    cost = np.ones_like(table.performance)
    cost[:, 3] = 50.0  # the loss-only portfolio's first, expensive everywhere: it moves back
    timed = recommend(n=8, method="portfolio", task="binary",
                      database=MetaDatabase({"binary": dataclasses.replace(table, cost=cost)}))
    assert [key(c) for c in timed] == [key(table.configs[i]) for i in greedy_portfolio(table.performance, 8, cost)]
    untimed = recommend(n=8, method="portfolio", task="binary", database=db)
    assert untimed[0] == table.configs[3] and timed.index(table.configs[3]) > 0
    with pytest.raises(ValueError, match="method"):
        recommend(n=3, method="magic", task="binary", database=db)


def test_recommend_fills_from_the_portfolio_when_neighbours_run_out() -> None:
    table = _table()
    db = MetaDatabase({"binary": table})
    out = recommend(n=8, meta_features=_query(table, "d1"), database=db, k=1)
    assert len(out) == 8 and len({key(c) for c in out}) == 8  # 4 useful from d1, then the portfolio


def test_using_database_sets_the_default() -> None:
    table = _table()
    with using_database(MetaDatabase({"binary": table})):
        assert recommend(n=2, method="portfolio", task="binary")[0] in table.configs


# -- the shipped database on real data ----------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 4)), columns=list("abcd"))
    X["colour"] = rng.choice(["red", "blue"], size=80)
    y = (X["a"] + rng.normal(scale=0.5, size=80) > 0).astype(int).to_numpy()
    return X, y


@pytest.mark.parametrize("method", ["knn", "rank", "portfolio"])
def test_recommend_on_a_tiny_dataset_returns_n_valid_configurations(tiny, method: str) -> None:
    X, y = tiny
    configs = recommend(X, y, n=5, method=method, time_limit=5)
    space = build_space("binary")
    assert len(configs) == 5 and len({key(c) for c in configs}) == 5
    assert all(is_valid(space, c) is None for c in configs)


def test_knn_on_the_shipped_database_finds_a_dataset_itself() -> None:
    db = load_metadb()
    task, table = next(iter(db.tables.items()))
    name = table.datasets[0]
    query = _query(table, name)
    assert nearest(query, table, k=1)[0] == (name, 0.0)
    own_best = table.configs[table.best_configs(name, 1)[0]]
    assert recommend(n=1, meta_features=query, task=task, database=db)[0] == own_best
    assert name not in [n for n, _ in nearest(query, db.without(name)[task], k=len(table))]


@pytest.mark.parametrize("method", ["portfolio", "knn"])
def test_warm_start_configs_fit_a_restricted_space(tiny, method: str) -> None:
    from autolearn.data import infer_schema

    X, y = tiny
    numeric = X.drop(columns="colour")
    space = build_space("binary", schema=infer_schema(numeric), exclude=["lightgbm", "quantile"])
    configs = warm_start_configs(numeric, y, "binary", space, n=6, method=method, time_limit=5)
    assert 0 < len(configs) <= 6 and len({key(c) for c in configs}) == len(configs)
    assert all(is_valid(space, c) is None for c in configs)
    assert all(c["model"] != "lightgbm" and "encoder" not in c for c in configs)
    from autolearn.tune.optimizers import make_optimizer

    optimizer = make_optimizer("random", space, seed=0)
    optimizer.enqueue(configs, origin="meta")  # the hook the estimators use (after the default config)
    asked = [optimizer.ask() for _ in range(len(configs) + 1)]
    assert [s.config for s in asked if s.origin == "meta"] == configs


def test_warm_start_degrades_to_nothing_without_a_database(tiny, tmp_path) -> None:
    X, y = tiny
    with pytest.warns(RuntimeWarning, match="warm start"):
        assert warm_start_configs(X, y, "binary", build_space("binary"), database=tmp_path / "missing.json.gz") == []


def test_meta_command_prints_neighbours_and_recommendations(tmp_path, capsys) -> None:
    import argparse
    import json

    from autolearn.meta.cli import add_meta_parser

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame["label"] = np.where(frame["a"] > 0, "yes", "no")
    frame.to_csv(tmp_path / "data.csv", index=False)
    parser = argparse.ArgumentParser()
    add_meta_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["meta", str(tmp_path / "data.csv"), "--target", "label", "--k", "2", "--n", "3",
                              "--json", "--time-limit", "5"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "binary" and out["metafeatures"]["n_instances"] == 60
    assert len(out["neighbours"]) == 2 and len(out["recommendations"]) == 3
    args.json = False
    assert args.func(args) == 0
    assert "nearest datasets" in capsys.readouterr().out
