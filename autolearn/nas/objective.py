"""One search trial: train the trial's architecture for its epochs and score it on the validation rows.

Runs in a worker (``autolearn.execution``), so everything it needs comes from files: the task data
(written once per search, as the AutoML evaluator does), the incumbents (best loss so far per epoch
count, rewritten by the search after each result, read here for learning-curve stopping) and the
checkpoints of lower-fidelity trials (a promoted trial continues its parent's network from there).

Outcomes:

* SUCCESS: the validation loss (the search metric; with k-fold CV the mean over the folds, one network
  per fold), info with the epochs run, best epoch, why training stopped and the seconds a refit on all
  rows would take, and the fitted networks (one per split) as the artifact at full budget;
* PRUNED: the learning curve predicted that the run cannot beat the incumbent; values hold the loss
  reached so far and info the extrapolation;
* a DARTS supernet trial (``instance == "supernet"``) reports the holdout loss of the supernet itself
  (the one-shot estimate, not comparable to standalone trials) and the discretized architecture in info.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np

from autolearn.evaluation.evaluate import TaskData, load_task_data, take
from autolearn.evaluation.metrics import widen_proba
from autolearn.nas.curves import LearningCurveRule
from autolearn.nas.spaces import architecture, epochs_for_budget
from autolearn.records import Outcome, Status, TrialSpec

INCUMBENTS = "incumbents.json"
STARTUP_SECONDS = 3.0  # importing torch in a fresh worker; not available for training


def read_incumbent(workdir: str | os.PathLike, epochs: int) -> float | None:
    try:
        data = json.loads((Path(workdir) / INCUMBENTS).read_text())
    except (OSError, ValueError):
        return None
    value = data.get(str(epochs))
    return None if value is None else float(value)


def update_incumbent(workdir: str | os.PathLike, epochs: int, loss: float) -> None:
    """Keep the lowest loss per epoch count; written atomically, workers may read at any time."""
    path = Path(workdir) / INCUMBENTS
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    if math.isfinite(loss) and loss < data.get(str(epochs), math.inf):
        data[str(epochs)] = loss
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)


@dataclass
class NASObjective:
    """``NASObjective(...)(spec)``: the validation loss of ``spec.config`` trained for ``spec.budget``."""

    data_path: str
    workdir: str
    space: str
    max_epochs: int = 50
    patience: int = 10
    curve_stopping: bool = True
    keep_checkpoints: bool = False  # multi-fidelity searches: promoted trials continue from these
    _startup: float = 0.0

    def __call__(self, spec: TrialSpec) -> Outcome:
        cold = "torch" not in sys.modules  # a fresh worker pays the import out of the trial's time
        from autolearn.nas._torch import set_threads

        set_threads()
        self._startup = STARTUP_SECONDS if cold else 0.0
        data = load_task_data(self.data_path)
        if spec.instance == "supernet":
            return self._supernet(data, spec)
        return self._train(data, spec)

    # -- one architecture ----------------------------------------------------------------------
    def _train(self, data: TaskData, spec: TrialSpec) -> Outcome:
        """Train one network per validation split (one for a holdout, k for k-fold CV); the loss is
        their mean, so a small dataset ranks architectures on every row rather than on one noisy fifth."""
        from autolearn.nas.estimators import estimator_for

        epochs = epochs_for_budget(spec.budget, self.max_epochs)
        started, max_time = time.perf_counter(), _training_seconds(spec, self._startup)
        parents = self._checkpoint(spec.parent)
        rule_incumbent = read_incumbent(self.workdir, epochs) if self.curve_stopping else None
        models, losses, seconds, rule = [], [], [], None
        for k, (train, valid) in enumerate(data.splits):
            left = None if max_time is None else max(
                (max_time - (time.perf_counter() - started)) / (len(data.splits) - k), 0.1)
            if parents is not None:
                est = parents[k]
                est.set_params(warm_start=True, epochs=epochs, max_time=left)
            else:
                est = estimator_for(data.task)(architecture(dict(spec.config), self.space), epochs=epochs,
                                               seed=spec.seed, patience=self.patience, max_time=left)
            rule = LearningCurveRule(rule_incumbent) if self.curve_stopping else None
            X_va, y_va = take(data.X, valid), data.y[valid]
            t0 = time.perf_counter()
            est.fit(take(data.X, train), data.y[train], eval_set=(X_va, y_va),
                    eval_loss=lambda y, p, est=est: data.metric.loss(y, self._adapt(est, p, data)), stop_rule=rule)
            seconds.append(time.perf_counter() - t0)
            loss = data.metric.loss(y_va, self._predict(est, X_va, data))
            if not math.isfinite(loss):
                raise ValueError(f"the validation loss is not finite ({loss})")
            models.append(est)
            losses.append(loss)
            if est.stopped_ == "learning_curve":  # one hopeless fold is enough: the others would follow it
                break
        first, pruned = models[0], models[-1].stopped_ == "learning_curve"
        n_train = float(np.mean([len(train) for train, _ in data.splits]))
        best_epoch = max(1, round(float(np.mean([m.best_epoch_ for m in models]))))
        epochs_trained = float(np.mean([m.n_epochs_ for m in models]))
        loss = float(np.mean(losses))
        info: dict[str, Any] = {
            "architecture": dict(first.architecture_), "description": first.architecture_.describe(),
            "score": data.metric.score_from_loss(loss), "epochs": epochs, "epochs_trained": round(epochs_trained),
            "best_epoch": best_epoch, "stopped": models[-1].stopped_, "fit_time": float(np.mean(seconds)),
            "continued": parents is not None, "n_train": round(n_train), "fold_losses": [float(v) for v in losses],
            # training on every row for the best epoch count: time per epoch grows with the rows
            "refit_seconds": float(np.mean(seconds)) * len(data.y) / n_train * best_epoch / max(epochs_trained, 1),
        }
        if pruned and rule is not None:
            info.update(predicted_final=rule.predicted_final, incumbent=rule.incumbent,
                        extrapolations=rule.predictions)
        if self.keep_checkpoints and spec.budget < 1.0 and not pruned:
            self._save_checkpoint(spec.trial_id, models)
        status = Status.PRUNED if pruned else Status.SUCCESS
        keep = status is Status.SUCCESS and spec.budget >= 1.0
        # the validated networks: averaged, they are the search's answer without a refit
        return Outcome(values=(loss,), info=info, artifacts=models if keep else None, status=status)

    @staticmethod
    def _adapt(est: Any, prediction: np.ndarray, data: TaskData) -> np.ndarray:
        if data.task == "regression":
            return prediction
        return widen_proba(prediction, est.classes_, data.n_classes)

    def _predict(self, est: Any, X: Any, data: TaskData) -> np.ndarray:
        if data.task == "regression":
            return est.predict(X)
        return widen_proba(est.predict_proba(X), est.classes_, data.n_classes)

    def _checkpoint(self, trial_id: int | None) -> list[Any] | None:
        """The parent trial's networks, one per validation split, or None for a fresh start."""
        path = Path(self.workdir) / "checkpoints" / f"{trial_id}.pkl"
        if trial_id is None or not path.exists():
            return None
        with open(path, "rb") as fh:
            return cloudpickle.load(fh)

    def _save_checkpoint(self, trial_id: int, models: list[Any]) -> None:
        folder = Path(self.workdir) / "checkpoints"
        folder.mkdir(exist_ok=True)
        tmp = folder / f"{trial_id}.pkl.tmp"
        with open(tmp, "wb") as fh:
            cloudpickle.dump(models, fh)
        tmp.replace(folder / f"{trial_id}.pkl")

    # -- a DARTS supernet ----------------------------------------------------------------------
    def _supernet(self, data: TaskData, spec: TrialSpec) -> Outcome:
        """Search a cell on the training rows; report the supernet's own holdout loss (one-shot)."""
        from autolearn.nas._torch import resolve_device
        from autolearn.nas.darts import search_cell
        from autolearn.nas.features import FeatureCoder

        train, valid = data.splits[0]
        coder = FeatureCoder()
        x_num, x_cat = coder.fit_transform(take(data.X, train))
        y_tr = data.y[train]
        regression = data.task == "regression"
        mean, std = (float(np.mean(y_tr)), float(np.std(y_tr)) or 1.0) if regression else (0.0, 1.0)
        target = ((y_tr - mean) / std).astype(np.float32).reshape(-1, 1) if regression else y_tr.astype(np.int64)
        arch, weights, out, facts = search_cell(
            x_num, x_cat, target, task=data.task, n_outputs=1 if regression else data.n_classes,
            base=architecture(dict(spec.config), "cell"), cardinalities=coder.cardinalities,
            epochs=max(1, self.max_epochs // 2), seed=spec.seed, max_time=_training_seconds(spec, self._startup),
            device=resolve_device("auto"), eval_data=coder.transform(take(data.X, valid)))
        if regression:
            prediction = out.astype(np.float64).ravel() * std + mean
        else:
            z = np.exp(out - out.max(axis=1, keepdims=True))
            prediction = z / z.sum(axis=1, keepdims=True)
        loss = data.metric.loss(data.y[valid], prediction)
        if not math.isfinite(loss):
            raise ValueError(f"the supernet's validation loss is not finite ({loss})")
        info = {"architecture": dict(arch), "description": arch.describe(), "alphas": np.round(weights, 4).tolist(),
                "score": data.metric.score_from_loss(loss), **facts}
        return Outcome(values=(float(loss),), info=info)


def _training_seconds(spec: TrialSpec, startup: float) -> float | None:
    """Seconds training may take so that the trial ends before the runner kills it at its limit."""
    limit = spec.limits.wall_time
    if not limit:
        return None
    return max(0.85 * limit - startup, 0.1)
