"""Warm-started continuation: a promoted trial trains its parent's fold models on instead of anew.

Multi-fidelity schedulers run many configurations with few trees, rounds or epochs and promote the
best to more (``TrialSpec.origin == "promoted"``, ``parent`` = the lower-rung trial). Fitting the
promoted configuration from scratch would pay the parent's units again; continuing the parent's fitted
models pays only the added ones. So:

* a trial below full budget whose model declares a ``Fidelity.warm_start`` hook (iterations or epochs,
  not rows) leaves its fitted fold pipelines in ``<run dir>/continuation/<trial_id>.pkl``
  (cloudpickle; written to a temporary name and renamed, so a reader never sees half a file);
* a promoted trial loads its parent's file, checks that it holds the same configuration fitted on the
  same training rows with fewer units, reuses the fitted preprocessing as it is (it does not depend on
  the fidelity) and lets the hook train the model on; anything missing or different (another worker
  machine, a deleted or pruned file, a rows-subsampled parent) means training from scratch, silently;
* a continued model carries the parent's seed: it is the model a fit from scratch with that seed gives.

Disk use is bounded two ways, both simple: the parent's file is deleted once its promoted child has
finished with it (a configuration is promoted out of a rung once), and after every write the directory
is pruned to the ``MAX_ENTRIES`` most recent files and ``MAX_MB`` megabytes, oldest first (promotions
happen soon after a rung's results come in, so the newest entries are the ones still wanted); a single
trial's models larger than a quarter of ``MAX_MB`` are not kept at all. Trials at full budget without
a parent never touch any of this.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline

from autolearn.components.registry import Fidelity
from autolearn.records import TrialSpec

DIRECTORY = "continuation"
MAX_ENTRIES = 64
MAX_MB = 2048.0
STALE_TEMP_SECONDS = 600.0  # a temporary file this old belongs to a worker killed while writing


@dataclass
class FoldModels:
    """What a trial leaves for its promoted child, and what the child checks before using it."""

    config: dict[str, Any]
    folds: str  # fingerprint of every fold's training rows (see ``folds_fingerprint``)
    value: int  # fidelity units the models were trained to
    fit_time: float  # seconds fitting them from scratch took, summed over folds
    pipelines: list[Pipeline] = field(default_factory=list)


def folds_fingerprint(train_rows: Sequence[np.ndarray]) -> str:
    """A digest of the training rows of every fold: models fitted on other rows are not continued."""
    digest = hashlib.sha1()
    for rows in train_rows:
        digest.update(np.ascontiguousarray(rows, dtype=np.int64).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


class ContinuationStore:
    """The saved fold models of one run directory, one file per trial, pruned as described above."""

    def __init__(self, directory: str | os.PathLike, max_entries: int = MAX_ENTRIES, max_mb: float = MAX_MB) -> None:
        self.directory = Path(directory)
        self.max_entries = max_entries
        self.max_bytes = max_mb * 2**20

    def path(self, trial_id: int) -> Path:
        return self.directory / f"{int(trial_id)}.pkl"

    def save(self, trial_id: int, models: FoldModels) -> bool:
        """Write ``models`` for ``trial_id``; False when they were too large to keep."""
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.path(trial_id)
        temp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
        with open(temp, "wb") as fh:
            cloudpickle.dump(models, fh)
        if temp.stat().st_size > self.max_bytes / 4:
            temp.unlink()
            return False
        os.replace(temp, final)
        self.prune()
        return True

    def load(self, trial_id: int, config: dict[str, Any], folds: str, value: int) -> FoldModels | None:
        """The models saved by ``trial_id`` if they fit ``config`` on the rows ``folds`` with at most
        ``value`` units; None otherwise (missing, pruned, unreadable or fitted on something else)."""
        try:
            with open(self.path(trial_id), "rb") as fh:
                models = cloudpickle.load(fh)
        except (OSError, EOFError, ValueError, AttributeError, ImportError, cloudpickle.pickle.UnpicklingError):
            return None
        ok = (isinstance(models, FoldModels) and models.config == config and models.folds == folds
              and models.value <= value)
        return models if ok else None

    def discard(self, trial_id: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(trial_id).unlink()

    def prune(self) -> None:
        """Delete the oldest files until at most ``max_entries`` files and ``max_bytes`` bytes are left.

        Several workers may prune at once: a file another one deleted first is simply gone.
        """
        entries = []
        for path in self.directory.iterdir():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.suffix == ".tmp":
                if stat.st_mtime < time.time() - STALE_TEMP_SECONDS:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
        entries.sort(key=lambda e: (-e[0], e[2].name))  # newest first
        kept = total = 0
        for _, size, path in entries:
            if kept < self.max_entries and total + size <= self.max_bytes:
                kept, total = kept + 1, total + size
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


def _inner_model(step: Any) -> Any:
    """The estimator a component built, fitted, inside the pipeline's class-completing or
    target-scaling wrapper; None when nothing was trained (a classifier that saw a single class
    predicts it without a model)."""
    from autolearn.pipeline import AllClassesClassifier

    if isinstance(step, AllClassesClassifier):
        return step.estimator_
    if isinstance(step, TransformedTargetRegressor):
        return step.regressor_
    return step


def _inner_target(step: Any, y: np.ndarray) -> np.ndarray:
    """The target the inner estimator was fitted on, as the wrapper derived it from ``y``."""
    from autolearn.pipeline import AllClassesClassifier

    if isinstance(step, AllClassesClassifier):
        return np.asarray(y).astype(int)
    if isinstance(step, TransformedTargetRegressor):
        y_2d = np.asarray(y).reshape(-1, 1) if np.ndim(y) == 1 else np.asarray(y)
        y_inner = step.transformer_.transform(y_2d)
        return y_inner.ravel() if y_inner.ndim == 2 and y_inner.shape[1] == 1 else y_inner
    return y


def _set_inner_model(pipeline: Pipeline, model: Any) -> None:
    """Put the continued model where ``_inner_model`` found its parent (a hook may return a new object)."""
    from autolearn.pipeline import AllClassesClassifier

    name, step = pipeline.steps[-1]
    if isinstance(step, AllClassesClassifier):
        step.estimator_ = model
    elif isinstance(step, TransformedTargetRegressor):
        step.regressor_ = model
    else:
        pipeline.steps[-1] = (name, model)


def can_continue(pipeline: Pipeline, fidelity: Fidelity) -> bool:
    """Whether ``pipeline``'s fitted model could be trained on by ``fidelity.warm_start``."""
    model = _inner_model(pipeline.steps[-1][1])
    return fidelity.warm_start is not None and (model is None or fidelity.warm_start.can_continue(model))


def continue_pipeline(pipeline: Pipeline, fidelity: Fidelity, value: int, X: Any, y: np.ndarray) -> Pipeline | None:
    """``pipeline`` (fitted on ``X, y`` with fewer units) with its model trained on to ``value`` units.

    The fitted preprocessing steps are reused unchanged; only the model trains. None when the model
    cannot be continued (the caller then fits from scratch).
    """
    if not can_continue(pipeline, fidelity):
        return None
    step = pipeline.steps[-1][1]
    model = _inner_model(step)
    if model is None:
        return pipeline
    Xt = X
    for _, transformer in pipeline.steps[:-1]:  # not pipeline[:-1]: a slice may not count as fitted
        if transformer is not None and transformer != "passthrough":
            Xt = transformer.transform(Xt)
    continued = fidelity.warm_start.continue_fit(model, value, Xt, _inner_target(step, y))
    if continued is None:
        return None
    _set_inner_model(pipeline, continued)
    return pipeline


@dataclass
class TrialContinuation:
    """One trial's part in continuation: the parent's models it continues and the models it leaves.

    ``fit(fold, X, y, build)`` returns the fold's fitted pipeline (continued where possible, else
    ``build()`` fitted); ``finish(fit_time)`` saves this trial's models for its own promotion, deletes
    the parent's once used, and returns what goes into the result's ``info``.
    """

    store: ContinuationStore
    spec: TrialSpec
    fidelity: Fidelity
    folds: str
    n_folds: int
    parent: FoldModels | None = None
    fitted: list[Pipeline] = field(default_factory=list)
    continued: int = 0

    @classmethod
    def start(cls, store: ContinuationStore, spec: TrialSpec, fidelity: Fidelity,
              train_rows: Sequence[np.ndarray]) -> TrialContinuation:
        folds = folds_fingerprint(train_rows)
        value = fidelity.value(spec.budget)
        parent = None if spec.parent is None else store.load(spec.parent, dict(spec.config), folds, value)
        if parent is not None and len(parent.pipelines) != len(train_rows):
            parent = None
        return cls(store, spec, fidelity, folds, len(train_rows), parent)

    @property
    def value(self) -> int:
        return self.fidelity.value(self.spec.budget)

    def fit(self, fold: int, X: Any, y: np.ndarray, build: Callable[[], Pipeline]) -> Pipeline:
        pipeline = None
        if self.parent is not None:
            parent = self.parent.pipelines[fold]
            # the same units (budgets that round to one value): the parent's model is this trial's model
            same = self.parent.value == self.value and can_continue(parent, self.fidelity)
            pipeline = parent if same else continue_pipeline(parent, self.fidelity, self.value, X, y)
            self.continued += pipeline is not None
        if pipeline is None:
            pipeline = build().fit(X, y)
        if self.spec.budget < 1.0:
            self.fitted.append(pipeline)
        return pipeline

    def finish(self, fit_time: float) -> dict[str, Any]:
        inherited = self.parent.fit_time * self.continued / self.n_folds if self.parent is not None else 0.0
        cumulative = inherited + fit_time
        if self.fitted and all(can_continue(p, self.fidelity) for p in self.fitted):
            self.store.save(self.spec.trial_id, FoldModels(dict(self.spec.config), self.folds, self.value,
                                                           cumulative, self.fitted))
        info: dict[str, Any] = {}
        if self.spec.parent is not None:
            info["warm_started"] = self.continued > 0
            if self.continued:
                self.store.discard(self.spec.parent)
                info["cumulative_fit_time"] = cumulative
                if self.continued < self.n_folds:
                    info["warm_started_folds"] = self.continued
        return info
