"""``autolearn nas``: parses, searches a CSV and saves a model that loads and predicts."""

from __future__ import annotations

import argparse

import pytest

pytest.importorskip("torch", reason="autolearn.nas needs PyTorch: pip install 'autolearn[nn]'")

from autolearn import nas  # noqa: E402
from autolearn.nas.cli import add_nas_parser  # noqa: E402

from .conftest import table  # noqa: E402


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="autolearn")
    add_nas_parser(root.add_subparsers(dest="command", required=True))
    return root


def test_defaults_and_choices():
    args = parser().parse_args(["nas", "data.csv", "--target", "y"])
    assert (args.strategy, args.space, args.time_budget, args.out) == ("evolution", "residual", 300.0, "model.pkl")
    with pytest.raises(SystemExit):
        parser().parse_args(["nas", "data.csv", "--target", "y", "--strategy", "annealing"])


def test_search_from_a_csv(tmp_path, capsys):
    X, y = table(n=80)
    data = tmp_path / "train.csv"
    X.assign(label=y).to_csv(data, index=False)
    out, history = tmp_path / "net.pkl", tmp_path / "history.csv"
    args = parser().parse_args(["nas", str(data), "--target", "label", "--strategy", "random", "--space", "chain",
                                "--time-budget", "60", "--max-trials", "2", "--max-epochs", "2", "--out", str(out),
                                "--history", str(history), "--quiet"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "best (roc_auc" in printed and "model saved" in printed and history.exists()
    model = nas.load(out)
    assert model.predict(X).shape == (80,)
