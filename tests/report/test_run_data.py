"""load_run reads every spelling of a finished search the same way, and never creates a storage."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from autolearn.report.run_data import NoDataError, RunData, load_run, run_leaderboard, run_summary


def test_model_run_dir_sqlite_file_url_and_saved_model_agree(clf_run, tmp_path):
    model, run_dir = clf_run
    path = tmp_path / "model.pkl"
    model.save(path)
    runs = [load_run(model), load_run(model.search_), load_run(run_dir), load_run(str(run_dir / "history.sqlite")),
            load_run(f"sqlite:///{run_dir / 'history.sqlite'}"), load_run(path)]
    ids = [[r.spec.trial_id for r in run.records] for run in runs]
    assert all(i == ids[0] for i in ids)
    assert {run.metric for run in runs} == {"roc_auc"} and {run.task for run in runs} == {"binary"}
    assert runs[0].members and all(run.members == runs[0].members for run in runs)  # the search stores them
    assert sum(m.weight for m in runs[0].members) == pytest.approx(1.0)


def test_score_is_in_the_metrics_orientation(clf_model, reg_model):
    for model in (clf_model, reg_model):
        run = load_run(model)
        for r in run.successes():
            assert run.score(r.result.loss) == pytest.approx(r.result.info["score"])
    assert load_run(clf_model).best_is_max() and not load_run(reg_model).best_is_max()


def test_study_values_keep_the_users_orientation(asha_study, mo_study):
    run = load_run(asha_study)
    assert run.objectives == ("value",) and run.task is None
    trial = next(t for t in asha_study.trials if t.value is not None)
    record = next(r for r in run.records if r.spec.trial_id == trial.number)
    assert run.score(record.result.loss) == pytest.approx(trial.value)
    assert load_run(mo_study).objectives == ("value 0", "value 1")
    assert load_run(asha_study.storage).study == "asha-demo"  # the only study in that storage


def test_missing_locations_raise_and_create_nothing(tmp_path):
    for missing in (tmp_path / "nope", tmp_path / "nope.sqlite", f"sqlite:///{tmp_path / 'nope.sqlite'}"):
        with pytest.raises(FileNotFoundError):
            load_run(missing)
    assert list(tmp_path.iterdir()) == []


def test_unfitted_model_and_unknown_objects_are_refused():
    from autolearn import AutoClassifier

    with pytest.raises(ValueError, match="not fitted"):
        load_run(AutoClassifier())
    with pytest.raises(TypeError, match="cannot read a search"):
        load_run(42)


def test_leaderboard_and_summary(clf_model, clf_run, asha_study):
    board = run_leaderboard(load_run(clf_model))
    assert list(board["rank"]) == list(range(1, len(board) + 1))
    assert "ensemble_weight" in board.columns
    from_history = run_leaderboard(load_run(clf_run[1]))  # the search stored the weights in its run history
    assert from_history.set_index("trial")["ensemble_weight"].equals(board.set_index("trial")["ensemble_weight"])
    summary = run_summary(load_run(clf_model))
    assert summary["trials"] >= 5 and summary["workers"] == 2 and 0 < summary["utilization"] <= 1
    study_board = run_leaderboard(load_run(asha_study), top=5)
    assert len(study_board) == 5 and {"value", "config", "budget"} <= set(study_board.columns)


def test_comparable_trials_share_one_budget(asha_study):
    run = load_run(asha_study)
    trials = run.comparable()
    assert len({r.spec.budget for r in trials}) == 1 and len(trials) >= 5
    assert max(r.spec.budget for r in run.successes()) >= trials[0].spec.budget


def test_no_data_error_is_a_value_error():
    assert issubclass(NoDataError, ValueError)
    assert math.isnan(RunData([], ("v",), (True,), (0.0,)).score(math.inf))


def test_storage_with_several_studies_needs_a_name(tmp_path: Path):
    from autolearn.tune import create_study

    url = str(tmp_path / "two.sqlite")
    for name in ("a", "b"):
        create_study({"x": ("float", 0.0, 1.0)}, optimizer="random", storage=url, name=name, seed=0).optimize(
            lambda t: t["x"], n_trials=3, isolate=False)
    with pytest.raises(ValueError, match="name one"):
        load_run(url)
    assert load_run(url, study="b").study == "b"
