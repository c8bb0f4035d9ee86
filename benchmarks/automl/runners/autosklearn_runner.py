"""Run auto-sklearn 0.15 on one task, in its own Python 3.9 venv (benchmarks/.venvs/autosklearn).

auto-sklearn takes numeric arrays plus a ``feat_type`` list, so non-numeric columns are passed as
ordinal codes marked ``Categorical`` (as AMLB's integration does).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Task, dir_size, main, timed  # noqa: E402


def import_check() -> str:
    import autosklearn

    return autosklearn.__version__


def encode(train, test):  # noqa: ANN001, ANN201
    """Ordinal codes for non-numeric columns (categories from the training rows; unseen -> NaN)."""
    import numpy as np
    import pandas as pd

    train, test = train.copy(), test.copy()
    feat_type = []
    for col in train.columns:
        if train[col].dtype.kind in "biuf":
            feat_type.append("Numerical")
            continue
        cats = sorted(train[col].dropna().astype(str).unique())
        for frame in (train, test):
            codes = pd.Categorical(frame[col].astype(object).where(frame[col].isna(), frame[col].astype(str)),
                                   categories=cats).codes.astype(float)
            frame[col] = np.where(codes < 0, np.nan, codes)
        feat_type.append("Categorical")
    return train.to_numpy(dtype=float), test.to_numpy(dtype=float), feat_type  # arrays: feat_type applies


def fit_predict(task: Task) -> dict:
    import autosklearn.classification
    import autosklearn.metrics
    import autosklearn.regression

    metric = {"binary": autosklearn.metrics.roc_auc, "multiclass": autosklearn.metrics.log_loss,
              "regression": autosklearn.metrics.root_mean_squared_error}[task.kind]
    settings = dict(time_left_for_this_task=max(30, int(round(task.budget))), n_jobs=task.cores, seed=task.seed,
                    metric=metric, memory_limit=options_memory(task), tmp_folder=str(task.out_dir / "tmp"))
    settings.update({k: v for k, v in task.options.items() if k != "memory_limit"})
    cls = (autosklearn.classification.AutoSklearnClassifier if task.is_classification
           else autosklearn.regression.AutoSklearnRegressor)
    model = cls(**settings)
    X, test, feat_type = encode(task.X_train, task.test)
    y = task.y_train.to_numpy()
    _, fit_time = timed(lambda: model.fit(X, y, feat_type=feat_type))
    result = {"fit_time": fit_time}
    if task.is_classification:
        proba, predict_time = timed(lambda: model.predict_proba(test))
        import numpy as np

        result.update(classes=[int(c) for c in np.unique(y)], probabilities=proba)
    else:
        pred, predict_time = timed(lambda: model.predict(test))
        result["predictions"] = pred
    result["predict_time"] = predict_time
    path = task.out_dir / "model.pkl"
    with open(path, "wb") as fh:
        pickle.dump(model, fh)
    result["model_size_bytes"] = dir_size(path)
    return result


def options_memory(task: Task) -> int:
    """Memory per auto-sklearn worker (MB): AMLB's default share of a 16 GB machine is ~8 GB / cores."""
    return int(task.options.get("memory_limit", 4096))


if __name__ == "__main__":
    main(fit_predict, import_check)
