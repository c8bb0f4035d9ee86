"""A configuration of the CASH space, turned into one scikit-learn Pipeline.

Steps, in order: ``columns`` (data-kind conversions, :class:`ColumnKinds`), ``impute_encode`` (the
configured imputer on numeric columns, encoder on categorical ones), ``densify`` (only for models that
cannot take sparse input), ``scale``, ``feature`` and ``model``. The same pipeline accepts a DataFrame
with the schema's columns or, for all-numeric schemas, a scipy sparse matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from autolearn.components import TASKS, BuildContext, Component, Fidelity, get
from autolearn.components.transformers import CategoricalColumns, ColumnKinds, DenseOrSparse, NumericColumns, ToDense
from autolearn.data.schema import Schema
from autolearn.evaluation.metrics import widen_proba
from autolearn.space import PREFERRED_DEFAULTS, config_to_components

# Used when a configuration has no choice for a kind (e.g. a space built without categorical columns).
_FALLBACK = {kind: names[0] for kind, names in PREFERRED_DEFAULTS.items() if kind != "model"}


class AllClassesClassifier(ClassifierMixin, BaseEstimator):
    """Wraps a classifier so that ``predict_proba`` always has one column per class 0..K-1.

    A subsample or CV fold may miss a class; ensembles and metrics still need (n, K) matrices with
    columns that mean the same class in every model. Targets must be encoded as 0..K-1.
    """

    def __init__(self, estimator: Any = None, n_classes: int | None = None) -> None:
        self.estimator = estimator
        self.n_classes = n_classes

    def fit(self, X: Any, y: Any, **fit_params: Any) -> AllClassesClassifier:
        y = np.asarray(y)
        labels = y.astype(int)
        if len(y) and not np.array_equal(labels, y.astype(float)) or (labels < 0).any():
            raise ValueError("classification targets must be encoded as integers 0..K-1")
        k = self.n_classes if self.n_classes is not None else max(2, int(labels.max()) + 1 if len(y) else 2)
        if len(y) and labels.max() >= k:
            raise ValueError(f"target has label {labels.max()} but n_classes={k}")
        self.classes_ = np.arange(k)
        present = np.unique(labels)
        if len(present) < 2:  # a single class seen: predict it with certainty, nothing to learn
            self.estimator_, self.constant_ = None, int(present[0]) if len(present) else 0
            return self
        self.estimator_ = clone(self.estimator).fit(X, labels, **fit_params)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.estimator_ is None:
            out = np.zeros((X.shape[0], len(self.classes_)))
            out[:, self.constant_] = 1.0
            return out
        out = widen_proba(self.estimator_.predict_proba(X), self.estimator_.classes_, len(self.classes_))
        total = out.sum(axis=1, keepdims=True)
        return np.divide(out, total, out=np.full_like(out, 1.0 / out.shape[1]), where=total > 0)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def build_pipeline(
    config: Mapping[str, Any],
    *,
    task: str,
    schema: Schema,
    seed: int = 0,
    budget: float = 1.0,
    n_rows: int | None = None,
    n_classes: int | None = None,
) -> Pipeline:
    """An unfitted Pipeline for ``config`` (a configuration of :func:`autolearn.space.build_space`).

    ``budget`` in (0, 1] scales the model's fidelity parameter (boosting rounds, trees, epochs) when it
    declares one and is ignored otherwise (subsampling rows is the evaluator's job). ``n_classes``
    fixes the width of ``predict_proba`` for classification; pass it for multiclass tasks so that a
    class missing from the training rows still gets its (zero) column. Models that need scaled inputs
    get standard scaling when the configuration says ``no_scaling``.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    parts = config_to_components(config)
    if "model" not in parts:
        raise ValueError(f"the configuration has no 'model' choice: {dict(config)!r}")
    ctx = BuildContext(task=task, seed=seed, n_rows=n_rows, n_features=schema.n_features)

    model_comp, model = _build("model", parts["model"], ctx, budget)
    _, imputer = _build("imputer", parts.get("imputer", (_FALLBACK["imputer"], {})), ctx)
    _, encoder = _build("encoder", parts.get("encoder", (_FALLBACK["encoder"], {})), ctx)
    _, scaler = _build("scaler", parts.get("scaler", (_FALLBACK["scaler"], {})), ctx)
    _, feature = _build("feature", parts.get("feature", (_FALLBACK["feature"], {})), ctx)
    if model_comp.needs_scaling and scaler == "passthrough":
        scaler = DenseOrSparse(StandardScaler(), StandardScaler(with_mean=False))
    if ctx.is_classification:
        model = AllClassesClassifier(model, 2 if task == "binary" else n_classes)

    steps: list[tuple[str, Any]] = [
        ("columns", ColumnKinds(schema, seed=seed)),
        ("impute_encode", ColumnTransformer(
            [("numeric", imputer, NumericColumns()), ("categorical", encoder, CategoricalColumns())],
            sparse_threshold=1.0,  # sparse stays sparse; dense tabular data gives dense encoders only
        )),
    ]
    if not model_comp.handles_sparse:
        steps.append(("densify", ToDense()))
    steps += [("scale", scaler), ("feature", feature), ("model", model)]
    return Pipeline(steps)


def model_fidelity(config: Mapping[str, Any]) -> Fidelity | None:
    """What a budget means for this configuration's model (None: only row subsampling applies)."""
    return get(config_to_components(config)["model"][0]).fidelity


def _build(kind: str, choice: tuple[str, dict[str, Any]], ctx: BuildContext, budget: float = 1.0) -> tuple:
    name, params = choice
    comp: Component = get(name)
    if comp.kind != kind:
        raise ValueError(f"{name!r} is a {comp.kind}, not a {kind}")
    if ctx.task not in comp.tasks:
        raise ValueError(f"{name!r} does not support the task {ctx.task!r} (it supports {comp.tasks})")
    return comp, comp.build(comp.resolve(params, ctx.task, budget), ctx)
