"""Which features a fitted model relies on (globally) and why it predicted what it did (per row).

:func:`feature_importance` is permutation importance on held-out rows: how much the model's own metric
drops when one column is shuffled. Held-out, because importance measured on training rows rewards
what a model memorized.

:func:`explain` gives per-row feature contributions (Shapley values of the model's output, with features
"removed" by replacing them with values of background rows: the interventional definition). Two
estimators of the same quantity:

* ``"shap"``: the `shap` package's permutation explainer, used when shap is installed and every column
  is numeric (shap's maskers work on numeric arrays). Each row costs about
  ``n_permutations / 2 * (2 * n_features + 1) * n_background`` predictions.
* ``"sampling"`` (no dependency, any column types): Shapley values by permutation sampling (Štrumbelj &
  Kononenko, 2014). For each row x and each of ``n_permutations`` random feature orders (in antithetic
  pairs: an order and its reverse, with the same background row), start from a background row z drawn
  from ``background``, switch the features from z's values to x's one at a time in that order, and
  credit each feature with the change of the model's output at its switch. The contributions of one
  chain add up exactly to f(x) - f(z), so the averaged contributions of a row add up exactly to its
  prediction minus its ``base_value`` (the mean output over the background rows drawn for it). Each row
  costs ``n_permutations * (n_features + 1)`` predictions, batched.

``"auto"`` picks ``"shap"`` where it applies, else ``"sampling"``.

The explained output is the predicted value (regression) or a class probability: by default the
positive class (binary) or, per row, the predicted class (multiclass); ``target=`` names one class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

MAX_BATCH = 20_000  # hybrid rows per predict call: bounds memory while keeping calls few


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if hasattr(X, "tocsr"):
        raise TypeError("explanations need dense input; convert the sparse matrix (X.toarray()) first")
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _metric_score(model: Any, y: Any) -> tuple[Callable[[Any], np.ndarray], Callable[[np.ndarray], float]] | None:
    """(predict, score of predictions for ``y``) from the search's own metric (ROC AUC, log loss, RMSE...),
    greater is better; None for estimators that are not autolearn models."""
    search = getattr(model, "search_", None)
    if search is None:
        return None
    metric = search.metric
    sign = 1.0 if metric.greater_is_better else -1.0
    if search.task == "regression":
        truth = np.asarray(y, dtype=float)
        return (lambda rows: np.asarray(model.predict(rows), dtype=float)), (lambda p: sign * metric.score(truth, p))
    index = {label: i for i, label in enumerate(model.classes_)}
    try:
        codes = np.array([index[label] for label in np.asarray(y)])
    except KeyError as e:
        raise ValueError(f"y holds the label {e.args[0]!r}, which the model never saw") from None
    return (lambda rows: np.asarray(model.predict_proba(rows))), (lambda p: sign * metric.score(codes, p))


def feature_importance(model: Any, X: Any, y: Any, n_repeats: int = 5, seed: int = 0) -> pd.DataFrame:
    """Permutation importance of each column on held-out ``X, y``, most important first.

    ``importance`` is the mean drop of the model's search metric (oriented so that greater is better:
    for log loss or RMSE the drop of minus the loss) over ``n_repeats`` shuffles, ``std`` its standard
    deviation. Near zero or negative: the model does not use the column, or other columns carry the
    same information (correlated columns share, and so hide, their importance). Costs
    ``n_features * n_repeats`` predictions of ``len(X)`` rows; for autolearn models the shuffled copies
    are predicted in batches of up to 20,000 rows, since an ensemble's per-call overhead dominates on
    small test sets. Other estimators go through scikit-learn's ``permutation_importance`` and ``score``.
    """
    frame = _as_frame(X)
    if len(frame) != len(y):
        raise ValueError(f"X has {len(frame)} rows but y has {len(y)}")
    scoring = _metric_score(model, y)
    if scoring is None:
        from sklearn.inspection import permutation_importance

        result = permutation_importance(model, frame, np.asarray(y), n_repeats=n_repeats, random_state=seed)
        drops = result.importances
    else:
        drops = _permutation_drops(frame, *scoring, n_repeats, np.random.default_rng(seed))
    out = pd.DataFrame({"feature": [str(c) for c in frame.columns], "importance": drops.mean(axis=1),
                        "std": drops.std(axis=1)})
    out = out.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    search = getattr(model, "search_", None)
    out.attrs.update(metric=search.metric.name if search is not None else "score", n_repeats=n_repeats)
    return out


def _permutation_drops(frame: pd.DataFrame, predict: Callable[[Any], np.ndarray], score: Callable[[np.ndarray], float],
                       n_repeats: int, rng: np.random.Generator) -> np.ndarray:
    """(n_features, n_repeats) score drops, shuffled copies stacked into few predict calls."""
    n, d = frame.shape
    baseline = score(predict(frame))
    jobs = [(j, r) for j in range(d) for r in range(n_repeats)]
    per_call = max(1, MAX_BATCH // max(n, 1))
    drops = np.zeros((d, n_repeats))
    for start in range(0, len(jobs), per_call):
        chunk = jobs[start:start + per_call]
        copies = []
        for j, _ in chunk:
            copy = frame.copy(deep=False)
            copy.isetitem(j, frame.iloc[:, j].array.take(rng.permutation(n)))  # keeps the dtype (categories)
            copies.append(copy)
        predictions = predict(pd.concat(copies, ignore_index=True))
        for k, (j, r) in enumerate(chunk):
            drops[j, r] = baseline - score(predictions[k * n:(k + 1) * n])
    return drops


def _output_fn(model: Any, frame: pd.DataFrame, target: Any) -> tuple[Callable[[pd.DataFrame, np.ndarray], np.ndarray],
                                                                          np.ndarray, str]:
    """``f(rows, class_index) -> output per row``, the class explained for each row of ``frame``, and a
    description of the output."""
    if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
        return (lambda rows, _: np.asarray(model.predict(rows), dtype=float).ravel(),
                np.zeros(len(frame), dtype=int), "predicted value")
    classes = list(model.classes_)
    if target is not None:
        if target not in classes:
            raise ValueError(f"target {target!r} is not one of the model's classes {classes}")
        cls = np.full(len(frame), classes.index(target))
        what = f"probability of class {_plain(target)!r}"
    elif len(classes) == 2:
        cls = np.ones(len(frame), dtype=int)
        what = f"probability of class {_plain(classes[1])!r}"
    else:
        cls = np.argmax(model.predict_proba(frame), axis=1)
        what = "probability of the predicted class"

    def f(rows: pd.DataFrame, class_index: np.ndarray) -> np.ndarray:
        proba = np.asarray(model.predict_proba(rows), dtype=float)
        return proba[np.arange(len(rows)), class_index]

    return f, cls, what


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _sampling(f: Callable[[pd.DataFrame, np.ndarray], np.ndarray], frame: pd.DataFrame, cls: np.ndarray,
              background: pd.DataFrame, n_permutations: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Permutation-sampling Shapley values (see the module docstring): (contributions, base values)."""
    n, d = frame.shape
    m = max(2, n_permutations + n_permutations % 2)
    phi = np.zeros((n, d))
    base = np.zeros(n)
    chunk = max(1, MAX_BATCH // (m * (d + 1)))
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        k = len(rows)
        perms = np.empty((k, m, d), dtype=int)
        perms[:, 0::2] = np.argsort(rng.random((k, m // 2, d)), axis=2)
        perms[:, 1::2] = perms[:, 0::2, ::-1]  # antithetic: the reverse order, same background row
        bg = np.repeat(rng.integers(len(background), size=(k, m // 2)), 2, axis=1)
        # position of each feature in its order; hybrid j takes from x the features at positions < j
        rank = np.argsort(perms, axis=2)
        mask = rank[:, :, None, :] < np.arange(d + 1)[None, None, :, None]  # (k, m, d+1, d)
        row_idx = np.repeat(rows, m * (d + 1))
        bg_idx = np.repeat(bg.ravel(), d + 1)
        xs = frame.iloc[row_idx].reset_index(drop=True)
        zs = background.iloc[bg_idx].reset_index(drop=True)
        xs.columns = zs.columns = range(d)
        hybrids = xs.where(pd.DataFrame(mask.reshape(-1, d)), zs)
        hybrids.columns = frame.columns
        out = f(hybrids, cls[row_idx]).reshape(k, m, d + 1)
        steps = np.diff(out, axis=2)  # (k, m, d): the change when the feature at each position switches
        np.add.at(phi, (np.repeat(np.arange(start, start + k), m * d), perms.ravel()), steps.ravel())
        base[rows] = out[:, :, 0].mean(axis=1)
    return phi / m, base


def _shap(model: Any, frame: pd.DataFrame, cls: np.ndarray, background: pd.DataFrame, n_permutations: int,
          seed: int) -> tuple[np.ndarray, np.ndarray]:
    import shap

    columns = frame.columns
    classifier = hasattr(model, "predict_proba") and hasattr(model, "classes_")

    def all_outputs(arr: np.ndarray) -> np.ndarray:
        rows = pd.DataFrame(arr, columns=columns).astype(frame.dtypes.to_dict())
        return np.asarray(model.predict_proba(rows) if classifier else model.predict(rows), dtype=float)

    d = frame.shape[1]
    masker = shap.maskers.Independent(background.to_numpy(dtype=float), max_samples=len(background))
    explainer = shap.explainers.PermutationExplainer(all_outputs, masker, seed=seed)
    result = explainer(frame.to_numpy(dtype=float), max_evals=max(1, n_permutations // 2) * (2 * d + 1) + 1,
                       silent=True)
    values, base = np.asarray(result.values), np.asarray(result.base_values)
    if values.ndim == 3:  # (n, d, n_outputs): keep each row's explained class
        values = values[np.arange(len(frame)), :, cls]
        base = base[np.arange(len(frame)), cls]
    return values, base.ravel()


def _shap_applies(frame: pd.DataFrame) -> bool:
    try:
        import shap  # noqa: F401
    except ImportError:
        return False
    return all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in frame.dtypes)


def explain(model: Any, X: Any, *, background: Any = None, target: Any = None, method: str = "auto",
            n_permutations: int = 10, n_background: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Per-row feature contributions to the model's output (Shapley values; see the module docstring).

    Returns a frame with the index of ``X`` and one column per feature; ``frame.attrs`` holds
    ``method`` ("shap" or "sampling"), ``output`` (what is explained), ``base_value`` and
    ``prediction`` (lists, one per row) with ``contributions.sum(axis=1) + base_value ≈ prediction``
    (exact for "sampling"). ``background`` holds the rows that stand in for a "removed" feature (a
    sample of the training rows is best; default ``X`` itself, which then needs at least 10 rows), of
    which ``n_background`` are drawn: default 100 for "sampling" (one background row per permutation
    pair) and 10 for "shap" (which averages over every background row, so its cost grows with them).
    """
    if method not in ("auto", "shap", "sampling"):
        raise ValueError(f"method must be 'auto', 'shap' or 'sampling', got {method!r}")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    frame = _as_frame(X)
    rng = np.random.default_rng(seed)
    if background is None:
        if len(frame) < 10:
            raise ValueError(f"X has {len(frame)} rows, too few to stand in for removed features; pass background= "
                             "(e.g. a few dozen training rows)")
        background = frame
    back = _as_frame(background)
    if list(back.columns) != list(frame.columns):
        back.columns = frame.columns
    f, cls, what = _output_fn(model, frame, target)
    if method == "shap" and not _shap_applies(frame):
        raise ValueError("method='shap' needs the shap package and all-numeric columns; use method='sampling'")
    used = "shap" if method == "shap" or (method == "auto" and _shap_applies(frame)) else "sampling"
    n_background = n_background or (10 if used == "shap" else 100)
    if len(back) > n_background:
        back = back.iloc[rng.choice(len(back), n_background, replace=False)]
    if used == "shap":
        values, base = _shap(model, frame, cls, back, n_permutations, seed)
    else:
        values, base = _sampling(f, frame, cls, back, n_permutations, rng)
    out = pd.DataFrame(values, index=frame.index, columns=frame.columns)
    out.attrs.update(method=used, output=what, base_value=[float(b) for b in base],
                     prediction=[float(p) for p in f(frame, cls)])
    return out


__all__ = ["explain", "feature_importance"]
