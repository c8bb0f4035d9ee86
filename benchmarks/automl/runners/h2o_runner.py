"""Run H2O AutoML on one task, in its own venv (benchmarks/.venvs/h2o; needs Java).

The H2O server (a JVM) is started by this runner with ``nthreads = cores`` and is a child of it, so
the harness's memory polling and hard kill cover it too; it is shut down at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Task, dir_size, main, timed  # noqa: E402

SORT_METRIC = {"binary": "AUC", "multiclass": "logloss", "regression": "RMSE"}


def import_check() -> str:
    import h2o

    return h2o.__version__


def free_port_pair() -> int:
    """A port p with p + 1 also free: a fresh H2O server of our own, never someone else's running one."""
    import socket

    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                with socket.socket() as b:
                    b.bind(("127.0.0.1", port + 1))
                    return port
            except OSError:
                continue
    raise RuntimeError("no free port pair for H2O")


def saved_size(h2o, leader, folder: Path) -> int:  # noqa: ANN001
    """Bytes of the leader saved with ``h2o.save_model``, plus its base models if it is a stacked
    ensemble (a saved ensemble refers to them rather than containing them). MOJO export, which would
    bundle them, needs the commercial "H2O-3 Secure" build in h2o 3.46."""
    models = [leader]
    if leader.algo == "stackedensemble":
        for base in leader.base_models or []:
            models.append(h2o.get_model(base["name"] if isinstance(base, dict) else str(base)))
    return sum(dir_size(Path(h2o.save_model(m, path=str(folder), force=True))) for m in models)


def fit_predict(task: Task) -> dict:
    import h2o
    from h2o.automl import H2OAutoML

    options = dict(task.options)
    max_mem = options.pop("max_mem_size", "4G")
    h2o.init(nthreads=task.cores, max_mem_size=max_mem, port=options.pop("port", free_port_pair()),
             ice_root=str(task.out_dir), log_dir=str(task.out_dir / "h2o_logs"), verbose=False)
    try:
        h2o.no_progress()
        train = h2o.H2OFrame(task.train)
        test = h2o.H2OFrame(task.test, column_types={c: train.types[c] for c in task.test.columns
                                                      if train.types.get(c) == "enum"})
        if task.is_classification:
            train[task.target] = train[task.target].asfactor()
        aml = H2OAutoML(max_runtime_secs=int(max(1, round(task.budget))), seed=task.seed,
                        sort_metric=SORT_METRIC[task.kind], **options)
        x = [c for c in train.columns if c != task.target]
        _, fit_time = timed(lambda: aml.train(x=x, y=task.target, training_frame=train))
        if aml.leader is None:
            raise RuntimeError("H2O AutoML trained no model within the budget")
        frame, predict_time = timed(lambda: aml.leader.predict(test).as_data_frame(use_multi_thread=False))
        result = {"fit_time": fit_time, "predict_time": predict_time, "info": {"leader": aml.leader.model_id}}
        if task.is_classification:
            cols = [c for c in frame.columns if c != "predict"]
            result.update(classes=[int(c.lstrip("p")) for c in cols], probabilities=frame[cols].to_numpy())
        else:
            result["predictions"] = frame["predict"].to_numpy()
        try:
            result["model_size_bytes"] = saved_size(h2o, aml.leader, task.out_dir / "model")
        except Exception as exc:
            result["model_size_reason"] = f"h2o.save_model failed: {exc}"
        return result
    finally:
        h2o.cluster().shutdown()


if __name__ == "__main__":
    main(fit_predict, import_check)
