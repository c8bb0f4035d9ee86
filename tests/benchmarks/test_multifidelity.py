"""The multi-fidelity benchmark's rules on hand-made curves and trial records."""

import math

import pytest

from autolearn.records import Status, TrialRecord, TrialResult, TrialSpec
from benchmarks import multifidelity as mf
from benchmarks.automl.results import ResultsLog

INF = math.inf


def record(trial_id, budget, loss, started, duration, status=Status.SUCCESS, instance=None):
    spec = TrialSpec(trial_id, {"model": "m"}, budget, instance)
    values = (loss,) if status is Status.SUCCESS else ()
    return TrialRecord(spec, TrialResult(trial_id, status, values, duration=duration, started=started))


def test_anytime_curve_keeps_strict_improvements_in_time_order():
    points = [(5.0, 0.4), (1.0, 0.5), (3.0, 0.5), (2.0, INF), (9.0, 0.3), (7.0, 0.45)]
    assert mf.anytime_curve(points) == [(1.0, 0.5), (5.0, 0.4), (9.0, 0.3)]
    assert mf.anytime_curve([]) == []
    assert mf.anytime_curve([(1.0, math.nan), (2.0, INF)]) == []


def test_full_budget_points_use_finish_time_and_skip_partial_budgets_refits_and_failures():
    start = 1000.0
    records = [
        record(1, 1.0, 0.5, started=1002.0, duration=3.0),                  # finishes at 5 s
        record(2, 1 / 3, 0.1, started=1001.0, duration=1.0),                # lower rung: not what the ensemble uses
        record(3, 1.0, 0.2, started=1010.0, duration=2.0, status=Status.TIMEOUT),
        record(4, 1.0, 0.3, started=1020.0, duration=5.0, instance="refit"),
        record(5, 1.0, 0.4, started=1006.0, duration=1.5),                  # finishes at 7.5 s
        TrialRecord(TrialSpec(6, {"model": "m"}, 1.0)),                     # still running
    ]
    points = mf.full_budget_points(records, start)
    assert points == [(5.0, 0.5), (7.5, 0.4)]
    assert mf.anytime_curve(points) == [(5.0, 0.5), (7.5, 0.4)]


def test_time_to_target_is_the_first_time_at_or_below_it():
    curve = [(2.0, 0.5), (10.0, 0.31), (40.0, 0.3)]
    assert mf.time_to_target(curve, 0.3) == 40.0
    assert mf.time_to_target(curve, 0.31) == 10.0
    assert mf.time_to_target(curve, 0.3 - 1e-12) == 40.0  # float noise counts as reached
    assert mf.time_to_target(curve, 0.29) == INF
    assert mf.time_to_target([], 0.3) == INF
    assert mf.time_to_target(curve, math.nan) == INF


def test_time_ratio_rules():
    assert mf.time_ratio(10.0, 40.0) == 0.25
    assert mf.time_ratio(INF, 40.0) == INF  # never reached: slower than random
    assert math.isnan(mf.time_ratio(10.0, INF))  # no reference: no ratio


def test_median_ratio_counts_misses_as_infinite_and_drops_pairs_without_target():
    assert mf.median_ratio([0.2, 0.4, INF]) == 0.4
    assert mf.median_ratio([0.2, 0.4, INF, math.nan]) == 0.4
    assert mf.median_ratio([0.2, 0.4, 0.6, INF]) == pytest.approx(0.5)
    assert mf.median_ratio([0.2, INF, INF]) == INF
    assert mf.median_ratio([0.2, 0.4, INF, INF]) == INF  # the middle pair holds an inf: inf, not NaN
    assert math.isnan(mf.median_ratio([math.nan]))


def test_best_at_steps():
    curve = [(2.0, 0.5), (10.0, 0.3)]
    assert math.isnan(mf.best_at(curve, 1.0))
    assert mf.best_at(curve, 2.0) == 0.5 and mf.best_at(curve, 9.9) == 0.5 and mf.best_at(curve, 50.0) == 0.3


def run(system, dataset, seed, curve, status="ok", auc=0.9):
    return {"system": system, "dataset": dataset, "seed": seed, "fold": 0, "budget": 60.0, "status": status,
            "reason": "" if status == "ok" else "Traceback\nValueError: boom", "task": "binary", "metric": "auc",
            "auc": auc if status == "ok" else None, "score": auc if status == "ok" else None, "curve": curve,
            "n_trials": 10, "n_full_budget": 5, "n_warm_started": 2}


def runs():
    """d1: random's final loss 0.3 at 40 s; asha reaches it at 10 s (ratio 0.25), auto at 20 s (0.5).
    d2: random reaches 0.2 at 30 s; asha never (inf), auto at 3 s (0.1); asha fails on seed 1 of d2.
    d3: random failed: no target."""
    return [
        run("random", "d1", 0, [[5.0, 0.5], [40.0, 0.3]]),
        run("asha", "d1", 0, [[2.0, 0.4], [10.0, 0.29]], auc=0.95),
        run("auto", "d1", 0, [[20.0, 0.3]], auc=0.92),
        run("random", "d2", 0, [[30.0, 0.2]]),
        run("asha", "d2", 0, [[10.0, 0.25]]),
        run("auto", "d2", 0, [[3.0, 0.1]]),
        run("random", "d2", 1, [[15.0, 0.2]]),
        run("asha", "d2", 1, None, status="failed"),
        run("auto", "d2", 1, [[30.0, 0.2]]),
        run("random", "d3", 0, None, status="failed"),
        run("auto", "d3", 0, [[1.0, 0.1]]),
    ]


def test_compare_and_summary():
    df = mf.compare(runs()).set_index(["dataset", "seed", "strategy"])
    assert df.loc[("d1", 0, "asha"), "ratio"] == 0.25
    assert df.loc[("d1", 0, "random"), "ratio"] == 1.0
    assert df.loc[("d2", 0, "asha"), "ratio"] == INF
    assert df.loc[("d2", 1, "asha"), "ratio"] == INF  # failed: counts as never reaching
    assert df.loc[("d2", 1, "auto"), "ratio"] == 2.0
    assert math.isnan(df.loc[("d3", 0, "auto"), "ratio"])
    summary = mf.summarize(df.reset_index(), ["random", "asha", "auto"]).set_index("strategy")
    assert summary.loc["auto", "pairs"] == 3  # d3 has no target
    assert summary.loc["auto", "median_ratio"] == 0.5  # 0.5, 0.1, 2.0
    assert summary.loc["asha", "median_ratio"] == INF  # 0.25, inf, inf
    assert summary.loc["asha", "reached"] == pytest.approx(1 / 3)
    assert summary.loc["asha", "failed"] == 1


def test_report_resume_keys_and_files(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    for r in runs():
        log.append(r)
    assert ("asha", "d2", 1, 0, 60.0) in log.done()
    assert ("asha", "d2", 1, 0, 60.0) not in log.done(retry=("failed",))
    text = mf.write_report(tmp_path, 60.0, ["random", "asha", "auto"])
    assert "NOT met" in text  # auto's median ratio is 0.5 > 1/3
    assert "d2 / asha / seed 1: ValueError: boom" in text
    assert (tmp_path / "runs.csv").read_text().count("\n") == 12  # header + 11 runs
    assert (tmp_path / "reached.png").exists() and (tmp_path / "anytime_d1.png").exists()


def test_quick_options():
    args = mf.parse_args(["--quick", "--out", "/tmp/x"])
    assert (args.budget, args.seeds, args.strategies) == (20.0, [0], ["random", "asha", "auto"])
    args = mf.parse_args(["--strategies", "asha", "auto"])
    assert args.strategies == ["random", "asha", "auto"] and args.budget == 300.0 and args.seeds == [0, 1, 2]


def test_only_the_automl_default_is_warm_started():
    assert mf.warm_start_for(mf.DEFAULT)
    assert not any(mf.warm_start_for(s) for s in mf.STRATEGIES if s != mf.DEFAULT)
