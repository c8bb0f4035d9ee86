"""The meta-learning benchmark's bookkeeping: the random baseline, resuming, and the win count."""

import argparse
import itertools

import numpy as np
import pandas as pd
import pytest

from benchmarks import metalearning as ml


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_expected_best_of_random_matches_enumeration(n):
    losses = np.array([0.3, 0.1, 0.7, 0.1, 0.9])
    subsets = list(itertools.combinations(losses, n))
    assert ml.expected_best_of_random(losses, n) == pytest.approx(np.mean([min(s) for s in subsets]))


def test_finished_rows_keep_every_seed_and_drop_failed_arms(tmp_path):
    path = tmp_path / "metalearning.csv"
    assert ml.finished_rows(path) == []
    pd.DataFrame([
        {"dataset": "a", "arm": "cold@30", "seed": 0, "test_loss": 0.2},
        {"dataset": "a", "arm": "warm@30", "seed": 0, "error": "MemoryError: x"},
        {"dataset": "b", "arm": "cold@30", "seed": 1, "test_loss": 0.3},
    ]).to_csv(path, index=False)
    rows = ml.finished_rows(path)
    assert [(r["dataset"], r["arm"], r["seed"]) for r in rows] == [("a", "cold@30", 0), ("b", "cold@30", 1)]
    assert "error" not in rows[0]


def test_summarize_averages_the_seeds_both_arms_finished():
    rows = [{"dataset": "a", "arm": arm, "seed": seed, "test_loss": loss, "trials": 5, "fit_seconds": 30}
            for arm, seed, loss in [("cold@30", 0, 0.30), ("warm@30", 0, 0.32),   # warm loses seed 0 ...
                                    ("cold@30", 1, 0.40), ("warm@30", 1, 0.30),   # ... wins seed 1 by more
                                    ("cold@30", 2, 0.10)]]                        # seed 2: warm missing
    summary = ml.summarize(pd.DataFrame(rows))
    assert summary.loc["warm@30", "wins/ties/losses"] == "1/0/0"  # (0.30 + 0.40) / 2 > (0.32 + 0.30) / 2
    assert summary.loc["cold@30", "seeds"] == 3
    rows[3]["test_loss"] = 0.39  # now the mean over seeds 0 and 1 favours cold; seed 2's 0.10 is not paired
    assert ml.summarize(pd.DataFrame(rows)).loc["warm@30", "wins/ties/losses"] == "0/0/1"


def test_a_dataset_whose_arms_are_all_finished_is_not_loaded(monkeypatch):
    import benchmarks.build_metadb as build

    def no_loading(*args, **kwargs):
        raise AssertionError("a finished dataset was loaded again")

    monkeypatch.setattr(build, "select_datasets", no_loading)
    args = argparse.Namespace(n_jobs=1, seed=0, budgets=[30.0], random_budget=30.0, arms=["warm", "bare"],
                              max_rows=1000)
    assert list(ml.online_dataset("d", "binary", None, args, frozenset({"warm@30", "bare@30"}))) == []
    with pytest.raises(AssertionError, match="loaded again"):
        list(ml.online_dataset("d", "binary", None, args, frozenset({"warm@30"})))


def test_summarize_counts_warm_wins_against_cold_of_the_same_budget():
    rows = []
    for dataset, cold, warm in [("a", 0.5, 0.4), ("b", 0.3, 0.3), ("c", 0.2, 0.25), ("d", 0.6, 0.1)]:
        rows += [{"dataset": dataset, "arm": "cold@30", "test_loss": cold, "trials": 5, "fit_seconds": 30},
                 {"dataset": dataset, "arm": "warm@30", "test_loss": warm, "trials": 6, "fit_seconds": 30}]
    summary = ml.summarize(pd.DataFrame(rows))
    assert summary.loc["warm@30", "vs"] == "cold@30"
    assert summary.loc["warm@30", "wins/ties/losses"] == "2/1/1"
    assert summary.loc["warm@30", "mean_rank"] < summary.loc["cold@30", "mean_rank"]
    assert "validation wins/ties/losses" not in summary  # older rows recorded no validation loss


def test_summarize_counts_warm_wins_against_the_bare_optimizer_too():
    rows = []
    for dataset, (cold, warm, bare) in {"a": (0.5, 0.4, 0.6), "b": (0.3, 0.3, 0.2), "c": (0.2, 0.1, 0.3)}.items():
        rows += [{"dataset": dataset, "arm": arm, "test_loss": loss, "trials": 5, "fit_seconds": 30}
                 for arm, loss in (("cold@30", cold), ("warm@30", warm), ("bare@30", bare))]
    summary = ml.summarize(pd.DataFrame(rows))
    assert summary.loc["warm@30", "vs"] == "cold@30"
    assert summary.loc["warm@30", "wins/ties/losses"] == "2/1/0"
    assert summary.loc["warm@30", "vs bare: wins/ties/losses"] == "2/0/1"


def test_summarize_also_counts_wins_on_the_best_validation_loss():
    rows = []
    for dataset, (cold, warm) in {"a": (0.5, 0.4), "b": (0.3, 0.2), "c": (0.2, 0.25)}.items():
        rows += [{"dataset": dataset, "arm": "cold@30", "test_loss": cold, "best_val_loss": cold + 0.1,
                  "trials": 5, "fit_seconds": 30},
                 {"dataset": dataset, "arm": "warm@30", "test_loss": warm, "best_val_loss": cold,
                  "trials": 6, "fit_seconds": 30}]
    summary = ml.summarize(pd.DataFrame(rows))
    assert summary.loc["warm@30", "wins/ties/losses"] == "2/0/1"
    assert summary.loc["warm@30", "validation wins/ties/losses"] == "3/0/0"


def test_balanced_sample_takes_tasks_in_turn_and_is_seeded():
    task_of = {**{f"b{i}": "binary" for i in range(5)}, "m0": "multiclass",
               **{f"r{i}": "regression" for i in range(5)}}
    picked = ml.balanced_sample(task_of, 6, seed=3)
    assert [task_of[n] for n in picked] == ["binary", "multiclass", "regression", "binary", "regression", "binary"]
    assert len(set(picked)) == 6
    assert picked == ml.balanced_sample(dict(reversed(task_of.items())), 6, seed=3)  # not the dict's order
    assert sorted(ml.balanced_sample(task_of, 50, seed=0)) == sorted(task_of)  # all when asked for more


def test_main_runs_every_seed_and_keeps_the_rows_of_earlier_runs(tmp_path, monkeypatch):
    db = ml.load_metadb(None)
    name = sorted(db.tables["binary"].datasets)[0]
    calls = []

    def one_arm(dataset, task, database, args, done):  # the searches themselves are not this test's subject
        calls.append((args.seed, done))
        if "warm@30" not in done:
            yield {"dataset": dataset, "task": task, "arm": "warm@30", "seed": args.seed, "test_loss": 0.1,
                   "trials": 1, "fit_seconds": 1.0}

    monkeypatch.setattr(ml, "online_dataset", one_arm)
    common = ["--datasets", name, "--arms", "warm", "--budgets", "30", "--out", str(tmp_path)]
    ml.main([*common, "--seeds", "0", "1"])
    ml.main([*common, "--seeds", "0", "1", "2"])
    assert sorted(pd.read_csv(tmp_path / "metalearning.csv")["seed"]) == [0, 1, 2]
    assert calls[2:] == [(0, frozenset({"warm@30"})), (1, frozenset({"warm@30"})), (2, frozenset())]
