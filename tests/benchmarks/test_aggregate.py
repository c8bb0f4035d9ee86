"""Normalization, ranks and win/tie/loss on hand-made results (AMLB conventions, see aggregate.py)."""

import math

import pandas as pd
import pytest

from benchmarks.automl import aggregate as agg


def rec(system, dataset, score, constant, status="ok", fold=0):
    return {"system": system, "dataset": dataset, "seed": 0, "fold": fold, "budget": 60.0, "status": status,
            "score": score if status == "ok" else None, "constant_score": constant, "fit_time": 1.0,
            "predict_time_per_1k": 0.1, "model_size_bytes": 1e6, "peak_memory_mb": 100.0, "overrun": 0.0,
            "version": "1"}


@pytest.fixture
def frame() -> pd.DataFrame:
    records = [
        # d1 (AUC, constant 0.5): C fails -> counted as the constant predictor
        rec("A", "d1", 0.9, 0.5), rec("B", "d1", 0.8, 0.5), rec("C", "d1", None, 0.5, status="failed"),
        # d2 (-RMSE, constant -10): B and C tie within the tolerance
        rec("A", "d2", -4.0, -10.0), rec("B", "d2", -2.0, -10.0), rec("C", "d2", -2.0005, -10.0),
        # d3, two folds: A's mean equals B's
        rec("A", "d3", 0.7, 0.5, fold=0), rec("A", "d3", 0.9, 0.5, fold=1),
        rec("B", "d3", 0.8, 0.5, fold=0), rec("B", "d3", 0.8, 0.5, fold=1),
        rec("C", "d3", 0.6, 0.5, fold=0), rec("C", "d3", 0.6, 0.5, status="timeout", fold=1),
        # a peer that is not installed is left out, not counted as failing
        rec("D", "d1", None, 0.5, status="not_installed"),
        # d4: nobody beats the constant predictor -> no scale, left out of ranks
        rec("A", "d4", 0.5, 0.5), rec("B", "d4", 0.5, 0.5), rec("C", "d4", 0.4, 0.5),
        # d5: only A has a result so far -> not compared
        rec("A", "d5", 0.9, 0.5),
    ]
    return agg.to_frame(records)


def norm_of(frame):
    imputed = agg.impute_failures(frame)
    return agg.normalized_scores(agg.dataset_scores(imputed), agg.constant_scores(imputed))


def test_failures_count_as_constant_and_missing_peers_are_dropped(frame):
    imputed = agg.impute_failures(frame)
    assert "D" not in set(imputed["system"])
    c_d1 = imputed[(imputed.system == "C") & (imputed.dataset == "d1")]
    assert c_d1["failed"].all() and c_d1["imputed_score"].iloc[0] == 0.5
    scores = agg.dataset_scores(imputed)
    assert scores.loc["d3", "C"] == pytest.approx(0.55)  # fold 1 timed out -> 0.5
    assert "d5" not in scores.index  # incomplete datasets are not compared


def test_normalized_scores(frame):
    norm = norm_of(frame)
    assert norm.loc["d1"].to_dict() == pytest.approx({"A": 1.0, "B": 0.75, "C": 0.0})
    assert norm.loc["d2", "A"] == pytest.approx(0.75) and norm.loc["d2", "B"] == 1.0
    assert norm.loc["d2", "C"] == pytest.approx(7.9995 / 8)
    assert norm.loc["d3"].to_dict() == pytest.approx({"A": 1.0, "B": 1.0, "C": 0.05 / 0.3})
    assert norm.loc["d4"].isna().all()


def test_ranks_share_ties_within_tolerance(frame):
    norm = norm_of(frame)
    r = agg.ranks(norm)
    assert "d4" not in r.index
    assert r.loc["d1"].to_dict() == {"A": 1.0, "B": 2.0, "C": 3.0}
    assert r.loc["d2"].to_dict() == {"A": 3.0, "B": 1.5, "C": 1.5}
    assert r.loc["d3"].to_dict() == {"A": 1.5, "B": 1.5, "C": 3.0}
    mean = agg.average_ranks(norm)
    assert list(mean.index) == ["B", "A", "C"]
    assert mean["A"] == pytest.approx(5.5 / 3) and mean["C"] == pytest.approx(2.5)
    assert r.sum(axis=1).tolist() == [6.0, 6.0, 6.0]  # ranks of 3 systems always add up to 1+2+3


def test_win_tie_loss(frame):
    wtl = agg.win_tie_loss(norm_of(frame))
    assert wtl[("A", "B")] == (1, 1, 1)
    assert wtl[("B", "A")] == (1, 1, 1)
    assert wtl[("B", "C")] == (2, 1, 0)
    assert wtl[("A", "C")] == (2, 0, 1)
    assert wtl[("C", "A")] == (1, 0, 2)
    table = agg.wtl_table(wtl, ["A", "B", "C"])
    assert table.loc["B", "C"] == "2/1/0" and table.loc["A", "A"] == ""


def test_tolerance_is_configurable(frame):
    norm = norm_of(frame)
    assert agg.win_tie_loss(norm, tol=0.0)[("B", "C")] == (3, 0, 0)


def test_summary_counts_failures_and_ranks(frame):
    s = agg.summary(frame).set_index("system")
    assert list(s.index) == ["B", "A", "C"]
    assert s.loc["C", "failures"] == 2 and s.loc["A", "failures"] == 0
    assert s.loc["A", "datasets"] == 3  # d1, d2, d3 (d4 degenerate, d5 incomplete)
    assert s.loc["A", "mean_normalized"] == pytest.approx((1 + 0.75 + 1) / 3)


def test_critical_difference_matches_demsar_table():
    # Demšar (2006): q_0.05 for k = 3 is 2.343; CD = q * sqrt(k(k+1)/(6N)).
    assert agg.critical_difference(3, 10) == pytest.approx(2.343 * math.sqrt(12 / 60), rel=1e-3)


def test_later_line_replaces_earlier(frame):
    records = [rec("A", "d1", 0.6, 0.5, status="failed"), rec("A", "d1", 0.7, 0.5)]
    df = agg.to_frame(records)
    assert len(df) == 1 and df["status"].iloc[0] == "ok"
