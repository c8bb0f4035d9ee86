"""Run mljar-supervised (``supervised.AutoML``) on one task, in its own venv (benchmarks/.venvs/mljar).

Mode ``Compete`` as in AMLB (the default ``Explain`` mode spends the budget on explanations).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Task, dir_size, main, timed  # noqa: E402

ML_TASK = {"binary": "binary_classification", "multiclass": "multiclass_classification", "regression": "regression"}
METRIC = {"binary": "auc", "multiclass": "logloss", "regression": "rmse"}


def import_check() -> str:
    from importlib.metadata import version

    import supervised  # noqa: F401

    return version("mljar-supervised")


def fit_predict(task: Task) -> dict:
    from supervised.automl import AutoML

    path = task.out_dir / "model"
    settings = dict(mode="Compete", ml_task=ML_TASK[task.kind], eval_metric=METRIC[task.kind],
                    total_time_limit=max(10, int(round(task.budget))), n_jobs=task.cores,
                    random_state=task.seed, results_path=str(path), verbose=0)
    settings.update(task.options)
    automl = AutoML(**settings)
    y = task.y_train
    if task.is_classification:
        y = y.astype(str)  # mljar treats integer labels of few values as classes only when asked
    _, fit_time = timed(lambda: automl.fit(task.X_train, y))
    result = {"fit_time": fit_time}
    if task.is_classification:
        frame, predict_time = timed(lambda: automl.predict_all(task.test))
        cols = [c for c in frame.columns if c.startswith("prediction_")]
        result.update(classes=[int(c[len("prediction_"):]) for c in cols], probabilities=frame[cols].to_numpy())
    else:
        pred, predict_time = timed(lambda: automl.predict(task.test))
        result["predictions"] = pred
    result["predict_time"] = predict_time
    result["model_size_bytes"] = dir_size(path)
    return result


if __name__ == "__main__":
    main(fit_predict, import_check)
