"""The NAS benchmark's comparison rules and resumable run order on hand-made records."""

import math

import pytest

from benchmarks import nas as nb
from benchmarks.automl.results import ResultsLog, read_results


def rec(system, dataset, seed, metric, value, status="ok"):
    return {"system": system, "dataset": dataset, "seed": seed, "fold": 0, "budget": 300.0, "status": status,
            "reason": "" if status == "ok" else "Traceback\nRuntimeError: boom",
            "task": "binary" if metric == "auc" else "regression", "metric": metric,
            metric: value if status == "ok" else None, "fit_time": 10.0}


def records():
    """nas vs mlp: beats on d1 (AUC), loses on d2 (RMSE higher), ties on d3; automl_nn is 1 % worse on d2."""
    rows = []
    for seed in (0, 1):
        rows += [rec("nas", "d1", seed, "auc", 0.90), rec("mlp_sklearn", "d1", seed, "auc", 0.85),
                 rec("nas", "d2", seed, "rmse", 1.10), rec("mlp_sklearn", "d2", seed, "rmse", 1.00),
                 rec("nas", "d3", seed, "auc", 0.80 + 1e-5), rec("mlp_sklearn", "d3", seed, "auc", 0.80),
                 rec("automl", "d1", seed, "auc", 0.95), rec("automl_nn", "d1", seed, "auc", 0.95),
                 rec("automl", "d2", seed, "rmse", 1.00), rec("automl_nn", "d2", seed, "rmse", 1.01)]
    return rows


def test_paired_change_averages_over_shared_seeds_and_orients_the_metric():
    pairs = nb.paired_change(records(), "nas", "mlp_sklearn").set_index("dataset")
    assert pairs.loc["d1", "change"] == pytest.approx(0.05 / 0.85)
    assert pairs.loc["d2", "change"] == pytest.approx(-0.10)  # higher RMSE is worse
    assert list(pairs["outcome"]) == ["beats", "loses", "ties"]
    assert set(pairs["seeds"]) == {2}


def test_a_seed_only_one_system_finished_is_left_out_of_the_mean():
    rows = records() + [rec("mlp_sklearn", "d1", 2, "auc", 0.10)]  # no nas run with seed 2
    pairs = nb.paired_change(rows, "nas", "mlp_sklearn").set_index("dataset")
    assert pairs.loc["d1", "mlp_sklearn"] == pytest.approx(0.85) and pairs.loc["d1", "seeds"] == 2


def test_a_failure_on_any_seed_loses():
    rows = records() + [rec("nas", "d1", 2, "auc", None, status="failed"), rec("mlp_sklearn", "d1", 2, "auc", 0.8)]
    pairs = nb.paired_change(rows, "nas", "mlp_sklearn").set_index("dataset")
    assert pairs.loc["d1", "outcome"] == "failed" and math.isnan(pairs.loc["d1", "change"])
    v = nb.verdict(pairs.reset_index(), "share", 0.8)
    assert v["worst_dataset"] == "d1" and v["worst_change"] == -math.inf and not v["met"]


def test_verdicts_of_both_targets():
    share = nb.verdict(nb.paired_change(records(), "nas", "mlp_sklearn"), "share", 0.8)
    assert share["share_beats"] == pytest.approx(1 / 3) and not share["met"]
    assert nb.verdict(nb.paired_change(records(), "nas", "mlp_sklearn"), "share", 0.3)["met"]
    worst = nb.verdict(nb.paired_change(records(), "automl_nn", "automl"), "worst", -0.005)
    assert worst["worst_dataset"] == "d2" and worst["worst_change"] == pytest.approx(-0.01) and not worst["met"]
    assert nb.verdict(nb.paired_change(records(), "automl_nn", "automl"), "worst", -0.02)["met"]


def test_report_is_interim_until_every_run_finished(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    for r in records():
        log.append(r)
    systems = ["nas", "mlp_sklearn", "automl", "automl_nn"]
    interim = nb.write_report(tmp_path, 300.0, systems, expected=100)
    assert "**interim**" in interim and "fails so far" in interim and "**NOT met**" not in interim
    final = nb.write_report(tmp_path, 300.0, systems, expected=len(records()))
    assert "**interim**" not in final and final.count("**NOT met**") == 2
    assert "-1.00 % (d2)" in final
    means = (tmp_path / "nas.csv").read_text().splitlines()
    assert len(means) == 1 + 3 * 2 + 2 * 2  # header + (dataset, system) pairs


def test_main_runs_seed_by_seed_and_skips_finished_runs(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    (root / "index.csv").write_text("name,collection,path,target,task\n")
    done = rec("nas", "synthetic_binary", 0, "auc", 0.9)
    ResultsLog(tmp_path / "out" / "results.jsonl").append(done)
    calls = []

    def fake_run(spec, system, seed, args):  # the fits themselves are covered by the quick run
        calls.append((spec.name, seed, system))
        return rec(system, spec.name, seed, "auc", 0.8)

    monkeypatch.setattr(nb, "run_one", fake_run)
    nb.main(["--datasets", "synthetic:binary", "synthetic:regression", "--seeds", "0", "1", "--systems", "nas",
             "mlp_sklearn", "--data-root", str(root), "--out", str(tmp_path / "out")])
    assert calls[:3] == [("synthetic_binary", 0, "mlp_sklearn"), ("synthetic_regression", 0, "nas"),
                         ("synthetic_regression", 0, "mlp_sklearn")]
    assert ("synthetic_binary", 0, "nas") not in calls and len(calls) == 7
    assert len(read_results(tmp_path / "out" / "results.jsonl")) == 8
    assert "**interim**" not in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path):
    assert nb.main(["--quick", "--datasets", "synthetic:binary", "--budget", "15", "--out", str(tmp_path)]) == 0
    rows = read_results(tmp_path / "results.jsonl")
    assert {r["system"] for r in rows} == set(nb.SYSTEMS) and all(r["status"] == "ok" for r in rows)
