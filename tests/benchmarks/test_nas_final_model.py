"""The final-network benchmark: runs on small tables, resumes, and counts wins with the metric's orientation."""

import json

import pytest

from benchmarks import nas_final_model as fm


def test_report_orients_each_metric():
    rows = [{"dataset": "a", "seed": 0, "metric": "auc", "refit": 0.80, "average": 0.82, "fold0": 0.81},
            {"dataset": "r", "seed": 0, "metric": "rmse", "refit": 1.00, "average": 1.10, "fold0": 1.05},
            {"dataset": "m", "seed": 0, "metric": "logloss", "refit": 0.30, "average": 0.27, "fold0": 0.31},
            {"dataset": "m", "seed": 1, "metric": "logloss", "refit": 0.30, "average": 0.29, "fold0": 0.31}]
    text = fm.report(rows)
    assert "average better than refit on 2 of 3 datasets" in text
    assert "+2.50 %" in text and "-10.00 %" in text and "+6.67 %" in text  # m: mean 0.28 vs 0.30


def test_runs_on_small_tables_and_resumes(tmp_path, capsys):
    pytest.importorskip("torch")
    argv = ["--datasets", "synthetic:binary", "synthetic:regression", "--seeds", "0", "--max-epochs", "2",
            "--out", str(tmp_path)]
    assert fm.main(argv) == 0
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [(r["dataset"], r["metric"]) for r in rows] == [("synthetic_binary", "auc"), ("synthetic_regression", "rmse")]
    assert all(r[final] > 0 for r in rows for final in fm.FINALS)
    assert "2 datasets" in (tmp_path / "report.md").read_text()
    capsys.readouterr()
    assert fm.main(argv) == 0 and len((tmp_path / "results.jsonl").read_text().splitlines()) == 2
    assert "synthetic_binary', 'seed'" not in capsys.readouterr().out  # nothing ran again
