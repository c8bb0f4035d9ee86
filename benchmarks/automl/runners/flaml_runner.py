"""Run FLAML (``flaml.AutoML``) on one task, in its own venv (benchmarks/.venvs/flaml)."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Task, dir_size, main, timed  # noqa: E402

METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}  # AMLB's main metrics


def import_check() -> str:
    import flaml

    return flaml.__version__


def fit_predict(task: Task) -> dict:
    from flaml import AutoML

    automl = AutoML()
    settings = dict(task="classification" if task.is_classification else "regression",
                    metric=METRIC[task.kind], time_budget=task.budget, n_jobs=task.cores, seed=task.seed,
                    log_file_name=str(task.out_dir / "flaml.log"), verbose=1)
    settings.update(task.options)
    X = task.X_train
    for col in X.columns:  # FLAML treats pandas categoricals as categorical features
        if X[col].dtype.kind not in "biuf":
            X[col] = X[col].astype("category")
    test = task.test.copy()
    for col in test.columns:
        if str(X[col].dtype) == "category":
            test[col] = test[col].astype("category")
    _, fit_time = timed(lambda: automl.fit(X, task.y_train, **settings))
    result = {"fit_time": fit_time, "info": {"best_estimator": str(automl.best_estimator)}}
    if task.is_classification:
        proba, predict_time = timed(lambda: automl.predict_proba(test))
        result.update(classes=[int(c) for c in automl.classes_], probabilities=proba)
    else:
        pred, predict_time = timed(lambda: automl.predict(test))
        result["predictions"] = pred
    result["predict_time"] = predict_time
    path = task.out_dir / "model.pkl"
    with open(path, "wb") as fh:
        pickle.dump(automl, fh)
    result["model_size_bytes"] = dir_size(path)
    return result


if __name__ == "__main__":
    main(fit_predict, import_check)
