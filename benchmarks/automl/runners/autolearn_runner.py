"""Run autolearn on one task (under the harness's own Python, as a separate process like every peer)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Task, dir_size, main, timed  # noqa: E402


def import_check() -> str:
    import autolearn

    return autolearn.__version__


def fit_predict(task: Task) -> dict:
    from autolearn import AutoClassifier, AutoRegressor

    options = dict(task.options)
    options.setdefault("seed", task.seed)
    options.setdefault("n_jobs", task.cores)
    options.setdefault("run_dir", str(task.out_dir / "autolearn_run"))
    if task.is_classification:
        model = AutoClassifier(time_budget=task.budget, **options)
        _, fit_time = timed(lambda: model.fit(task.X_train, task.y_train, task=task.kind))
        proba, predict_time = timed(lambda: model.predict_proba(task.test))
        result = {"classes": [int(c) for c in model.classes_], "probabilities": proba}
    else:
        model = AutoRegressor(time_budget=task.budget, **options)
        _, fit_time = timed(lambda: model.fit(task.X_train, task.y_train))
        pred, predict_time = timed(lambda: model.predict(task.test))
        result = {"predictions": pred}
    path = model.save(task.out_dir / "model.pkl")
    board = model.leaderboard()
    result.update(fit_time=fit_time, predict_time=predict_time, model_size_bytes=dir_size(path),
                  info={"n_trials": int(len(model.trials_)), "best_model": str(board.iloc[0]["model"])
                        if len(board) else ""})
    return result


if __name__ == "__main__":
    main(fit_predict, import_check)
