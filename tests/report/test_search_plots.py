"""Every search plot on a finished classification, regression, multi-fidelity and multi-objective run:
a figure where the plot applies, NoDataError (saying what is missing) where it does not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from autolearn.report import search_plots as sp
from autolearn.report.hyperparameter_importance import encode_configs, hyperparameter_importance
from autolearn.report.run_data import NoDataError, load_run

RUNS = ["clf_model", "clf_run_dir", "reg_model", "asha_study", "mo_study"]
# (plot, run) pairs that do not apply, and why
NOT_APPLICABLE = {
    ("model_families", "asha_study"), ("model_families", "mo_study"),  # a study has no "model" choice
    ("pareto_front", "clf_model"), ("pareto_front", "clf_run_dir"), ("pareto_front", "reg_model"),
    ("pareto_front", "asha_study"),  # one objective
    ("rungs", "clf_model"), ("rungs", "clf_run_dir"), ("rungs", "reg_model"), ("rungs", "mo_study"),  # one budget
    ("ensemble_weights", "asha_study"), ("ensemble_weights", "mo_study"),  # a study has no ensemble
}


@pytest.fixture
def source(request, clf_run):
    if request.param == "clf_run_dir":
        return clf_run[1]
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("source", RUNS, indirect=True, ids=RUNS)
@pytest.mark.parametrize("name", list(sp.SEARCH_PLOTS))
def test_each_plot_on_each_run(name, source, request):
    run_name = request.node.callspec.id.split("-")[-1]
    fn = sp.SEARCH_PLOTS[name]
    if (name, run_name) in NOT_APPLICABLE:
        with pytest.raises(NoDataError):
            fn(source)
        return
    fig = fn(source)
    assert isinstance(fig, Figure) and fig.axes
    fig.savefig(__import__("io").BytesIO(), format="png")  # it renders


def test_pareto_front_of_a_single_objective_run_against_a_cost(clf_model):
    fig = sp.plot_pareto_front(clf_model, info_key="predict_time_per_row")
    assert "Pareto front" in fig.axes[0].get_title()


def test_pareto_front_marks_the_non_dominated_trials(mo_study):
    fig = sp.plot_pareto_front(mo_study)
    n_front = len(mo_study.pareto_front())
    assert f"{n_front} of" in fig.axes[0].get_title()


def test_rungs_connect_promoted_configurations(asha_study):
    run = load_run(asha_study)
    parents = sp._rung_parents(run.finished())
    assert parents, "ASHA promoted nothing"
    for child, parent in parents.items():
        record = next(r for r in run.records if r.spec.trial_id == child)
        assert parent.spec.budget < record.spec.budget and dict(parent.spec.config) == dict(record.spec.config)
    fig = sp.plot_rungs(asha_study)
    assert len(fig.axes[0].get_lines()) >= len([p for p in parents.values() if p.result.ok])


def test_worker_timeline_reports_busy_share(clf_model):
    fig = sp.plot_worker_timeline(clf_model)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 2 and all("busy" in label for label in labels)


def test_busy_seconds_merges_overlaps():
    assert sp._busy_seconds([(0, 2), (1, 2), (5, 1)]) == pytest.approx(4.0)
    assert sp._busy_seconds([]) == 0.0


def test_history_needs_a_success():
    from autolearn.report.run_data import RunData

    with pytest.raises(NoDataError, match="no successful trial"):
        sp.plot_optimization_history(RunData([], ("v",), (False,), (0.0,)))


def test_encoding_puts_inactive_values_out_of_range():
    configs = [{"model": "a", "a:x": 1.0}, {"model": "a", "a:x": 3.0}, {"model": "b", "b:k": "u"}]
    frame = encode_configs(configs)
    assert frame["a:x"].iloc[2] < 1.0 and frame["b:k"].tolist() == [-1.0, -1.0, 0.0]
    assert frame.attrs["categories"]["model"] == ["a", "b"]


def test_importance_finds_the_hyperparameter_that_matters():
    from autolearn.tune import create_study

    study = create_study({"x": ("float", -2.0, 2.0), "noise": ("float", 0.0, 1.0), "c": ["p", "q"]},
                         optimizer="random", seed=1)
    study.optimize(lambda t: t["x"] ** 2 + 0.01 * t["noise"], n_trials=40, isolate=False)
    for method in ("impurity", "permutation"):
        frame = hyperparameter_importance(study, method=method)
        assert frame["hyperparameter"].iloc[0] == "x"
        assert frame["importance"].sum() == pytest.approx(1.0)
        assert frame.attrs["oob_r2"] > 0.3 and frame.attrs["n_trials"] == 40


def test_importance_needs_enough_trials():
    from autolearn.tune import create_study

    study = create_study({"x": ("float", 0.0, 1.0)}, optimizer="random", seed=0)
    study.optimize(lambda t: t["x"], n_trials=3, isolate=False)
    with pytest.raises(NoDataError, match="at least"):
        hyperparameter_importance(study)
    with pytest.raises(ValueError, match="method"):
        hyperparameter_importance(study, method="shapley")


def test_parallel_coordinates_and_slices_take_chosen_parameters(asha_study):
    fig = sp.plot_parallel_coordinates(asha_study, params=["x", "kind"])
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["x", "kind", "value"]
    fig = sp.plot_slice(asha_study, params=["lr"])
    assert fig.axes[0].get_xscale() == "log" and not math.isnan(np.nanmax(fig.axes[0].collections[0].get_offsets()))
