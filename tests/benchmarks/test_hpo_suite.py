"""The HPO benchmark's own correctness: known optima, adapters, results log and report arithmetic.

A wrong optimum or a wrong rank would make every number in the report wrong while looking plausible,
so these are checked on hand-made inputs whose answers are known.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from ConfigSpace import Configuration

from benchmarks.hpo import report, run
from benchmarks.hpo.functions import synthetic_tasks
from benchmarks.hpo.runners import adapters, flatten_hyperopt, hyperopt_space, is_active

TASKS = synthetic_tasks()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_optimum_attained_at_known_minimizer(name):
    task = TASKS[name]
    Configuration(task.space, values=task.minimizer)  # the minimizer is a valid configuration
    assert task.objective(task.minimizer) == pytest.approx(task.optimum, abs=1e-4)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_optimum_is_a_lower_bound_on_random_configurations(name):
    task = TASKS[name]
    task.space.seed(0)
    losses = [task.objective(dict(c)) for c in task.space.sample_configuration(300)]
    assert min(losses) >= task.optimum - 1e-6
    assert min(losses) > task.optimum + 1e-3  # and not found by chance: the benchmark has something to show


def test_mixed_task_has_conditional_branches_and_a_decoy():
    task = TASKS["mixed"]
    assert not task.continuous
    assert is_active(task.space, "v_x", {"branch": "valley"}) and not is_active(task.space, "v_x", {"branch": "smooth"})
    best_smooth = dict(task.minimizer, branch="smooth", s_x=1.5, s_k=13)
    for key in ("v_x", "v_y", "v_depth"):
        best_smooth.pop(key)
    assert task.objective(best_smooth) == pytest.approx(0.5)


@pytest.mark.parametrize("optimizer", ["random", "tpe", "optuna_tpe"])
def test_adapters_run_five_evaluations_on_branin(optimizer):
    if optimizer.startswith("optuna"):
        pytest.importorskip("optuna")  # a bench extra, not a test one
    task = TASKS["branin"]
    result = adapters()[optimizer].run(task, 0, 5)
    assert len(result) == 5
    for loss, overhead in result:
        assert math.isfinite(loss) and loss >= task.optimum - 1e-9
        assert 0.0 <= overhead < 5.0


def test_adapters_are_reproducible_and_seeded():
    task = TASKS["branin"]
    a, b, c = (adapters()["tpe"].run(task, s, 5) for s in (1, 1, 2))
    assert [x for x, _ in a] == [x for x, _ in b] != [x for x, _ in c]


def test_hyperopt_space_round_trips_conditional_configurations():
    pytest.importorskip("hyperopt")
    from hyperopt.pyll.stochastic import sample

    task = TASKS["mixed"]
    space = hyperopt_space(task.space)
    rng = np.random.default_rng(0)
    for _ in range(20):
        config = flatten_hyperopt(sample(space, rng=rng), task.space)
        Configuration(task.space, values=config)  # valid: right branch children, types and bounds
        assert math.isfinite(task.objective(config))


def test_cmaes_is_skipped_on_conditional_spaces_and_resume_skips_done_runs(tmp_path, capsys):
    record = run.run_one("mixed", "cmaes", 0, 3)
    assert record["status"] == "skipped" and "categorical" in record["reason"]
    argv = ["--tasks", "branin", "--optimizers", "random", "--seeds", "2", "--evals", "3", "--out", str(tmp_path)]
    run.main(argv)
    run.main(argv)
    assert "0 runs to do (2 already" in capsys.readouterr().out
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [(r["seed"], r["status"], len(r["losses"])) for r in lines] == [(0, "ok", 3), (1, "ok", 3)]


# -- report arithmetic on hand-made results -----------------------------------------------------------
def _rec(task, opt, seed, losses, optimum=None, kind="real"):
    return {"task": task, "kind": kind, "optimizer": opt, "seed": seed, "n_evals": len(losses), "status": "ok",
            "optimum": optimum, "losses": losses, "overhead_ms": [1.0] * len(losses)}


def test_regret_is_best_so_far_minus_reference():
    assert report.regret_curve([5.0, 3.0, 4.0, 1.0], 1.0).tolist() == [4.0, 2.0, 2.0, 0.0]
    assert report.regret_curve([0.9], 1.0).tolist() == [0.0]  # clipped: a rounded optimum never gives < 0


def test_real_task_reference_is_best_loss_seen_by_any_optimizer_and_seed():
    records = [_rec("t", "a", 0, [0.5, 0.3]), _rec("t", "b", 0, [0.4, 0.35]), _rec("t", "b", 1, [0.2, 0.6]),
               _rec("s", "a", 0, [2.0], optimum=1.0, kind="synthetic")]
    refs = report.references(records)
    assert refs == {"t": 0.2, "s": 1.0}
    assert report.references(records, {"s": 0.5})["s"] == 0.5  # the code's optimum wins over a logged one


def test_ranks_per_seed_with_ties_then_averaged_over_seeds_and_tasks():
    final = {
        "t1": {"a": {0: 0.0, 1: 1.0}, "b": {0: 1.0, 1: 1.0}, "c": {0: 2.0, 1: 0.5}},
        "t2": {"a": {0: 3.0}, "b": {0: 1.0}},  # c did not run t2
    }
    ranks = report.mean_ranks(final)
    # t1 seed 0: a=1, b=2, c=3; seed 1: c=1, a and b tie at 2.5
    assert ranks["t1"] == {"a": 1.75, "b": 2.25, "c": 2.0}
    assert ranks["t2"] == {"a": 2.0, "b": 1.0}
    overall = report.overall_ranks(ranks, ["t1", "t2"])
    assert overall["a"] == (1.875, 2) and overall["b"] == (1.625, 2) and overall["c"] == (2.0, 1)


def test_head_to_head_counts_wins_and_losses_over_shared_seeds():
    final = {"t1": {"a": {0: 0.0, 1: 1.0, 2: 5.0}, "b": {0: 1.0, 1: 1.0, 2: 2.0}}, "t2": {"a": {0: 0.0}}}
    assert report.head_to_head(final, "a", "b", ["t1", "t2"]) == (1, 1, 3)  # seed 1 is a tie; t2 has no b
    assert report.head_to_head(final, "a", "b", ["t2"]) == (0, 0, 0)


def test_build_writes_report_table_csv_and_plots(tmp_path):
    records = [_rec("t", "a", s, [1.0, 0.5, 0.1]) for s in (0, 1)] + \
              [_rec("t", "b", s, [1.0, 0.8, 0.6 + s]) for s in (0, 1)] + \
              [{"task": "t", "optimizer": "c", "seed": 0, "n_evals": 3, "status": "not_installed",
                "reason": "not installed: no module"}]
    (tmp_path / "x.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n{cut sho")
    text = report.build(tmp_path)
    assert "| a | 1.00 [1] |" in text and "| b | 2.00 [1] |" in text
    assert "not installed: no module" in text
    csv = (tmp_path / "summary.csv").read_text().splitlines()
    assert csv[1].startswith("t,real,a,2,0,") and csv[2].startswith("t,real,b,2,0.6,")  # b: regrets 0.5, 0.7
    assert (tmp_path / "regret_t.png").stat().st_size > 1000
