"""The Evaluator's own duties beyond fitting: what a trial prints and what it records."""

from __future__ import annotations

import warnings

import pandas as pd
from sklearn.datasets import make_classification

from autolearn.data.types import infer_schema
from autolearn.evaluation.evaluate import Evaluator, TaskData, save_task_data
from autolearn.evaluation.metrics import get_metric
from autolearn.evaluation.resampling import Resampling, make_splits
from autolearn.records import TrialSpec
from autolearn.space import build_space
from autolearn.strategy import with_model


def test_model_warnings_go_to_the_trial_record_not_the_console(tmp_path):
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    schema = infer_schema(X)
    splits = make_splits(y, "binary", Resampling("cv", 2), 0)
    data = TaskData(X, y, "binary", schema, get_metric(None, "binary"), 2, splits)
    evaluator = Evaluator(save_task_data(data, tmp_path / "data.pkl"))
    config = with_model(build_space("binary", schema=schema, seed=0), "mlp")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        outcome = evaluator(TrialSpec(0, config, budget=1 / 9, seed=0))  # 1/9 of the epochs: no convergence
    assert not shown, [str(w.message) for w in shown]
    assert any(m.startswith("ConvergenceWarning") for m in outcome.info["warnings"])
    assert len(outcome.info["warnings"]) == len(set(outcome.info["warnings"])) <= 5
