"""The ``autolearn`` command end to end: fit → leaderboard → predict on CSV and Parquet files."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification


def autolearn(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autolearn.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    X, y = make_classification(n_samples=160, n_features=5, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    frame["label"] = np.where(y == 1, "spam", "ham")
    frame.to_csv(folder / "train.csv", index=False)
    frame.drop(columns="label").to_parquet(folder / "test.parquet")
    return folder


def test_fit_leaderboard_predict(table):
    fit = autolearn("fit", str(table / "train.csv"), "--target", "label", "--time", "60", "--max-trials", "3",
                    "--out", str(table / "model.pkl"), "--quiet")
    assert fit.returncode == 0, fit.stderr
    assert "leaderboard" in fit.stdout and "model saved to" in fit.stdout
    board = autolearn("leaderboard", str(table / "model.pkl"))
    assert board.returncode == 0 and "roc_auc" in board.stdout
    pred = autolearn("predict", str(table / "model.pkl"), str(table / "test.parquet"), "--out",
                     str(table / "pred.csv"), "--proba")
    assert pred.returncode == 0, pred.stderr
    out = pd.read_csv(table / "pred.csv")
    assert list(out.columns) == ["proba_ham", "proba_spam"] and len(out) == 160
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


def test_fit_resume_from_run_dir(table):
    run_dir = table / "run"
    first = autolearn("fit", str(table / "train.csv"), "--target", "label", "--time", "60", "--max-trials", "2",
                      "--run-dir", str(run_dir), "--out", str(table / "m1.pkl"), "--quiet")
    assert first.returncode == 0, first.stderr
    again = autolearn("fit", "--resume", str(run_dir), "--max-trials", "4", "--out", str(table / "m2.pkl"), "--quiet")
    assert again.returncode == 0, again.stderr
    assert (table / "m2.pkl").exists()


@pytest.mark.parametrize("args, message", [
    (["fit", "missing.csv", "--target", "y"], "missing.csv"),
    (["fit", "{train}", "--target", "labl"], "labl"),
    (["fit", "--resume", "{nowhere}"], "is not a run directory"),
    (["predict", "{nowhere}/model.pkl", "{train}", "--out", "p.csv"], "no saved model"),
])
def test_errors_are_one_clear_line(table, args, message):
    args = [a.format(train=table / "train.csv", nowhere=table / "nowhere") for a in args]
    out = autolearn(*args, cwd=table)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
