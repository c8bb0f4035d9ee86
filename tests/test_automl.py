"""One search end to end: resume after SIGKILL, run-directory rules, strategies and ensembles."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification

from autolearn import AutoClassifier
from autolearn.evaluation.resampling import Resampling
from autolearn.storage import get_storage

FIT_SCRIPT = """
import sys
from sklearn.datasets import make_classification
from autolearn import AutoClassifier
X, y = make_classification(n_samples=300, n_features=8, random_state=0)
AutoClassifier(time_budget=120, run_dir=sys.argv[1], seed=0, include=sys.argv[2:] or None).fit(X, y)
"""


def _completed(path):
    storage = get_storage(path)
    try:
        return {r.spec.trial_id: r.result for r in storage.trials("automl") if r.result is not None}
    except KeyError:
        return {}
    finally:
        storage.close()


def test_resume_after_sigkill_loses_no_completed_trial(tmp_path):
    run_dir = tmp_path / "run"
    history = run_dir / "history.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", FIT_SCRIPT, str(run_dir), "logistic_regression", "knn"])
    deadline = time.monotonic() + 100
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if history.exists() and len(_completed(history)) >= 4:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _completed(history)
    assert len(before) >= 4

    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    model = AutoClassifier(time_budget=120, run_dir=str(run_dir), seed=0, resume=True, max_trials=len(before) + 3,
                           include=["logistic_regression", "knn"])
    model.fit(X, y)
    after = {r.spec.trial_id: r.result for r in model.search_.records if r.result is not None}
    for tid, result in before.items():  # every completed trial is kept, unchanged
        assert after[tid].status == result.status and after[tid].values == result.values
    validation = model.trials_[model.trials_["kind"] == "validation"]
    assert len(validation) > len(before)
    assert model.predict(X).shape == (300,)


def test_run_dir_is_not_overwritten_without_resume(tmp_path):
    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    AutoClassifier(time_budget=30, max_trials=2, run_dir=str(tmp_path), seed=0).fit(X, y)
    mtime = os.path.getmtime(tmp_path / "history.sqlite")
    with pytest.raises(ValueError, match="already holds a search; pass resume=True"):
        AutoClassifier(time_budget=30, max_trials=2, run_dir=str(tmp_path), seed=0).fit(X, y)
    with pytest.raises(ValueError, match="different data or settings"):
        AutoClassifier(time_budget=30, max_trials=2, run_dir=str(tmp_path), seed=1, resume=True).fit(X, y)
    assert os.path.getmtime(tmp_path / "history.sqlite") == mtime
    with pytest.raises(ValueError, match="no search to resume"):
        AutoClassifier(time_budget=30, run_dir=str(tmp_path / "new"), resume=True).fit(X, y)


@pytest.mark.parametrize("ensemble", ["selection", "stacking", "stacking-lasso", "stacking-elasticnet", None])
def test_every_ensemble_gives_valid_probabilities(ensemble):
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_classes=3, random_state=0)
    model = AutoClassifier(time_budget=60, max_trials=6, seed=0, ensemble=ensemble,
                           include=["logistic_regression", "knn", "decision_tree", "gaussian_nb"]).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (200, 3)
    assert np.all((proba >= 0) & (proba <= 1)) and np.allclose(proba.sum(1), 1)
    members = model.get_models_with_weights()
    assert members and (ensemble is not None or len(members) == 1)


def test_without_a_full_budget_result_the_best_of_the_highest_rung_is_refitted():
    """Three successive-halving trials all run on the lowest rung: none reaches full budget."""
    from autolearn.components import get

    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    model = AutoClassifier(time_budget=120, max_trials=3, strategy="sh", include=["random_forest"], seed=0,
                           n_jobs=1).fit(X, y)
    trials = model.trials_
    searched = trials[trials["kind"] == "validation"]
    assert len(searched) == 3 and (searched["status"] == "success").all() and (searched["budget"] < 1).all()
    assert not model.search_.fallback
    ((weight, member),) = model.get_models_with_weights()
    forest = member.named_steps["model"].estimator
    assert weight == 1.0 and forest.n_estimators == get("random_forest").fidelity.full  # refitted at full budget
    best = searched.loc[searched["loss"].idxmin(), "trial"]
    assert model.leaderboard().set_index("trial").loc[best, "ensemble_weight"] == 1.0
    assert model.score(X, y) > 0.8


def test_refit_costs_are_shares_of_the_time_left_and_infinite_past_the_deadline():
    from autolearn.automl import REFIT_SAFETY, _refit_costs
    from autolearn.execution import Completed
    from autolearn.records import Status, TrialResult, TrialSpec

    def done(fit_time):
        return Completed(TrialSpec(0, {}), TrialResult(0, Status.SUCCESS, (0.1,), info={"fit_time": fit_time}))

    assert _refit_costs(Resampling("holdout", holdout_fraction=0.2), float("inf")) is None
    cost = _refit_costs(Resampling("holdout", holdout_fraction=0.2), time.monotonic() + 100.0)
    assert cost(done(8.0)) == pytest.approx(REFIT_SAFETY * 10.0 / 100.0, rel=0.01)  # 8 s on 80 % of the rows
    assert cost(done(90.0)) == float("inf") and cost(done(0.0)) == 0.0
    cv = _refit_costs(Resampling("cv", n_folds=5), time.monotonic() + 100.0)
    assert cv(done(20.0)) == pytest.approx(REFIT_SAFETY * 5.0 / 100.0, rel=0.01)  # 5 folds of 4/5 the rows


def _fold_average_data():
    return make_classification(n_samples=240, n_features=6, n_informative=4, n_classes=3, random_state=0)


def test_without_refit_members_are_the_fold_models_averaged(tmp_path):
    from autolearn.ensemble.fold_average import FoldAverage
    from autolearn.evaluation.evaluate import FOLD_MODELS

    X, y = _fold_average_data()
    model = AutoClassifier(time_budget=60, max_trials=5, seed=0, n_jobs=1, resampling=4, run_dir=str(tmp_path),
                           refit=False, include=["logistic_regression", "knn", "decision_tree", "gaussian_nb"]
                           ).fit(X, y)
    members = model.get_models_with_weights()
    assert all(isinstance(m, FoldAverage) and len(m.models) == 4 for _, m in members)
    trials = model.trials_
    assert (trials["kind"] == "validation").all()  # nothing was refitted
    proba = model.predict_proba(X)
    assert np.all((proba >= 0) & (proba <= 1)) and np.allclose(proba.sum(1), 1)
    expected = sum(w * m.predict_proba(X) for w, m in members)
    assert np.allclose(proba, expected / expected.sum(1, keepdims=True))
    # only the ensemble candidates keep their fold models on disk
    kept = {int(p.stem) for p in (tmp_path / FOLD_MODELS).glob("*.pkl")}
    assert {t for t in trials["trial"]} >= kept >= {int(t) for t in model.leaderboard().query("ensemble_weight > 0")["trial"]}


@pytest.mark.parametrize(("resampling", "refit"), [(4, "auto"), (4, True), (0.25, True)])
def test_members_are_refitted_on_all_rows_after_cv_by_default_and_always_with_refit_true(resampling, refit):
    from sklearn.pipeline import Pipeline

    X, y = _fold_average_data()
    model = AutoClassifier(time_budget=60, max_trials=4, seed=0, n_jobs=1, resampling=resampling, refit=refit,
                           include=["logistic_regression", "knn", "gaussian_nb"]).fit(X, y)
    assert all(isinstance(m, Pipeline) for _, m in model.get_models_with_weights())
    assert (model.trials_["kind"] == "refit").sum() == len(model.get_models_with_weights())


@pytest.mark.parametrize("refit", ["auto", False])
def test_with_a_holdout_the_default_keeps_the_holdout_model(refit):
    from autolearn.ensemble.fold_average import FoldAverage
    from autolearn.evaluation.resampling import make_splits

    X, y = _fold_average_data()
    model = AutoClassifier(time_budget=60, max_trials=3, seed=0, n_jobs=1, resampling=0.25, refit=refit,
                           include=["logistic_regression", "gaussian_nb"]).fit(X, y)
    members = model.get_models_with_weights()
    assert all(isinstance(m, FoldAverage) and len(m.models) == 1 for _, m in members)
    assert (model.trials_["kind"] == "validation").all()  # nothing was refitted
    # the kept model is the one validated: on the holdout rows it reproduces its trial's validation loss
    search = model.search_
    (_, valid), = make_splits(y, "multiclass", search.resampling, seed=0)
    losses = {r.spec.trial_id: r.result.loss for r in search.records}
    for _, member, tid in search.members:
        assert search.metric.loss(y[valid], member.predict_proba(X[valid])) == pytest.approx(losses[tid])


ALL = {"nn", "lightgbm", "logistic_regression"}


@pytest.mark.parametrize(("refit", "plan", "kept"), [
    ("auto", Resampling("cv", n_folds=5), {"nn"}), ("auto", Resampling("holdout", holdout_fraction=0.2), ALL),
    (True, Resampling("holdout", holdout_fraction=0.2), set()), (False, Resampling("cv", n_folds=5), ALL)])
def test_which_models_keep_their_validated_fits(refit, plan, kept):
    pytest.importorskip("torch", reason='"nn" is registered only where torch is installed')
    from autolearn.automl import models_kept_validated

    assert models_kept_validated(refit, plan, ALL) == kept


def test_refit_must_be_a_bool_or_auto():
    X, y = _fold_average_data()
    with pytest.raises(ValueError, match="refit must be True, False or 'auto', got 'all'"):
        AutoClassifier(time_budget=10, refit="all").fit(X, y)


# -- a refit that is not the model validated --------------------------------------------------------
N_ROWS = 240


class BreaksOnAllRows(ClassifierMixin, BaseEstimator):
    """Logistic regression on every subset, inverted probabilities when fitted on all N_ROWS rows: what a
    refit that diverges looks like from outside."""

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        self.broken_ = len(y) == N_ROWS
        return self

    def predict_proba(self, X):
        proba = self.model_.predict_proba(X)
        return proba[:, ::-1] if self.broken_ else proba


def test_a_refit_worse_on_its_own_rows_than_validated_is_left_out():
    from autolearn.components import Component, get, register

    try:
        name = get("breaks_on_all_rows").name
    except ValueError:
        name = register(Component("breaks_on_all_rows", "model", ("binary",), lambda p, ctx: BreaksOnAllRows(),
                                  default_in_space=False)).name
    X, y = make_classification(n_samples=N_ROWS, n_features=6, n_informative=4, random_state=0)
    model = AutoClassifier(time_budget=60, max_trials=6, seed=0, n_jobs=1, resampling=4, strategy="random", warm_start=False,
                           include=[name, "gaussian_nb", "mean", "no_scaling", "all_features"]).fit(X, y)
    trials = model.trials_
    refits = trials[(trials["kind"] == "refit") & (trials["model"] == name)]
    assert len(refits) >= 1 and (refits["status"] == "failed").all()
    assert refits["error"].str.contains("left out of the final model").all()
    members = model.get_models_with_weights()
    assert [m.named_steps["model"].estimator_.__class__.__name__ for _, m in members] == ["GaussianNB"]
    assert np.allclose(model.predict_proba(X), members[0][1].predict_proba(X))
    assert (model.predict(X) == y).mean() > 0.6  # the inverted logistic regression scores about 0.2
