"""Run TPOT 1.x (``TPOTClassifier`` / ``TPOTRegressor``) on one task, in its own venv (benchmarks/.venvs/tpot).

TPOT's own preprocessing (imputation, one-hot encoding of object columns) is switched on, since TPOT's
search space expects numeric, complete input.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Task, dir_size, main, timed  # noqa: E402

SCORER = {"binary": "roc_auc", "multiclass": "neg_log_loss", "regression": "neg_root_mean_squared_error"}


def import_check() -> str:
    import tpot

    return tpot.__version__


def as_objects(X):  # noqa: ANN001, ANN201  (pandas only; keeps this file free of type imports)
    """Non-numeric columns as object dtype: TPOT one-hot encodes exactly the object columns."""
    X = X.copy()
    for col in X.columns:
        if X[col].dtype.kind not in "biuf":
            X[col] = X[col].astype(object).where(X[col].notna(), None)
    return X


def fit_predict(task: Task) -> dict:
    import tpot

    minutes = task.budget / 60.0
    settings = dict(scorers=[SCORER[task.kind]], scorers_weights=[1], max_time_mins=minutes,
                    max_eval_time_mins=max(minutes / 2, 0.1), n_jobs=task.cores, random_state=task.seed,
                    preprocessing=True, verbose=0, cv=5)
    settings.update(task.options)
    cls = tpot.TPOTClassifier if task.is_classification else tpot.TPOTRegressor
    model = cls(**settings)
    X, test = as_objects(task.X_train), as_objects(task.test)
    _, fit_time = timed(lambda: model.fit(X, task.y_train.to_numpy()))
    result = {"fit_time": fit_time}
    if task.is_classification:
        proba, predict_time = timed(lambda: model.predict_proba(test))
        result.update(classes=[int(c) for c in model.classes_], probabilities=proba)
    else:
        pred, predict_time = timed(lambda: model.predict(test))
        result["predictions"] = pred
    result["predict_time"] = predict_time
    path = task.out_dir / "model.pkl"
    try:
        with open(path, "wb") as fh:
            pickle.dump(model.fitted_pipeline_, fh)
        result["model_size_bytes"] = dir_size(path)
    except Exception as exc:
        result["model_size_reason"] = f"could not pickle the fitted pipeline: {exc}"
    return result


if __name__ == "__main__":
    main(fit_predict, import_check)
