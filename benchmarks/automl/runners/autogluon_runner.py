"""Run AutoGluon-Tabular (``TabularPredictor``) on one task, in its own venv (benchmarks/.venvs/autogluon).

Defaults follow AutoGluon's own (preset ``medium_quality``); ``--peer-options autogluon:presets=best_quality``
selects AMLB's choice for long budgets.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Task, dir_size, main, timed  # noqa: E402

METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "root_mean_squared_error"}


def import_check() -> str:
    import autogluon.tabular

    return autogluon.tabular.__version__


def fit_predict(task: Task) -> dict:
    from autogluon.tabular import TabularPredictor

    options = dict(task.options)
    path = task.out_dir / "model"
    predictor = TabularPredictor(label=task.target, problem_type=task.kind, eval_metric=METRIC[task.kind],
                                 path=str(path), verbosity=1)
    fit_kwargs = dict(time_limit=task.budget, num_cpus=task.cores, num_gpus=0)
    fit_kwargs.update(options)
    train = task.train
    _, fit_time = timed(lambda: predictor.fit(train, **fit_kwargs))
    result = {"fit_time": fit_time, "info": {"best_model": str(predictor.model_best)}}
    if task.is_classification:
        proba, predict_time = timed(lambda: predictor.predict_proba(task.test, as_multiclass=True))
        result.update(classes=[int(c) for c in proba.columns], probabilities=proba.to_numpy())
    else:
        pred, predict_time = timed(lambda: predictor.predict(task.test))
        result["predictions"] = pred.to_numpy()
    result["predict_time"] = predict_time
    result["model_size_bytes"] = dir_size(path)  # everything AutoGluon keeps to predict later
    return result


if __name__ == "__main__":
    main(fit_predict, import_check)
