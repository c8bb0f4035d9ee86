"""Plots of a fitted model on held-out data: how good, how calibrated, which features, which shape.

Each function takes a fitted estimator (an ``AutoClassifier`` / ``AutoRegressor`` or any scikit-learn
estimator with ``predict`` / ``predict_proba`` and ``classes_``) and held-out ``X, y`` — never the
training rows, which flatter every model — and returns a new :class:`matplotlib.figure.Figure`.
scikit-learn's display classes draw the curves: they accept our estimators because these follow the
scikit-learn contract (``is_classifier``, fitted attributes ending in ``_``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from autolearn.report._figures import new_figure, shorten
from autolearn.report.explain import _as_frame, feature_importance

MAX_CLASS_CURVES = 10  # one-vs-rest curves beyond this are unreadable


def _is_classifier(model: Any) -> bool:
    return hasattr(model, "predict_proba") and hasattr(model, "classes_")


def _check_classifier(model: Any, what: str) -> None:
    if not _is_classifier(model):
        raise TypeError(f"{what} needs a classifier (predict_proba and classes_), got {type(model).__name__}")


def _label(value: Any) -> str:
    return str(value.item() if isinstance(value, np.generic) else value)


def _class_curves(model: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Labels, probabilities and the class indices to draw (positive class for binary, else the most
    frequent classes up to MAX_CLASS_CURVES)."""
    y = np.asarray(y)
    proba = np.asarray(model.predict_proba(X))
    classes = list(model.classes_)
    if len(classes) == 2:
        return y, proba, [1]
    counts = [(int(np.sum(y == c)), i) for i, c in enumerate(classes)]
    return y, proba, [i for _, i in sorted(counts, reverse=True)[:MAX_CLASS_CURVES]]


def plot_confusion_matrix(model: Any, X: Any, y: Any, *, normalize: str | None = "true") -> Figure:
    """Counts (and, with ``normalize="true"``, the share of each true class) of predicted against true
    labels: which classes the model confuses."""
    from sklearn.metrics import ConfusionMatrixDisplay

    _check_classifier(model, "a confusion matrix")
    classes = list(model.classes_)
    size = min(4.0 + 0.5 * len(classes), 14.0)
    fig, ax = new_figure(size=(size, size * 0.85))
    ConfusionMatrixDisplay.from_predictions(np.asarray(y), model.predict(X), labels=classes, normalize=normalize,
                                            display_labels=[shorten(_label(c), 16) for c in classes], ax=ax,
                                            colorbar=True, values_format=".2f" if normalize else "d")
    ax.tick_params(axis="x", labelrotation=45 if len(classes) > 4 else 0)
    ax.set_title("Confusion matrix" + (" (rows sum to 1)" if normalize == "true" else ""))
    return fig


def plot_roc_curve(model: Any, X: Any, y: Any) -> Figure:
    """ROC curve of the positive class (binary) or one-vs-rest per class (multiclass), AUC in the legend."""
    from sklearn.metrics import RocCurveDisplay

    _check_classifier(model, "a ROC curve")
    y, proba, drawn = _class_curves(model, X, y)
    fig, ax = new_figure(size=(6, 5.5))
    for i in drawn:
        c = model.classes_[i]
        RocCurveDisplay.from_predictions(y == c, proba[:, i], name=f"class {shorten(_label(c), 20)}", ax=ax,
                                         plot_chance_level=i == drawn[-1])
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve" + (" (one vs rest)" if len(model.classes_) > 2 else ""))
    return fig


def plot_precision_recall(model: Any, X: Any, y: Any) -> Figure:
    """Precision against recall of the positive class (binary) or one-vs-rest per class; the curve to
    read when positives are rare, where ROC looks good regardless."""
    from sklearn.metrics import PrecisionRecallDisplay

    _check_classifier(model, "a precision-recall curve")
    y, proba, drawn = _class_curves(model, X, y)
    fig, ax = new_figure(size=(6, 5.5))
    for i in drawn:
        c = model.classes_[i]
        PrecisionRecallDisplay.from_predictions(y == c, proba[:, i], name=f"class {shorten(_label(c), 20)}", ax=ax,
                                                plot_chance_level=len(drawn) == 1)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall curve" + (" (one vs rest)" if len(model.classes_) > 2 else ""))
    return fig


def plot_calibration(model: Any, X: Any, y: Any, *, n_bins: int = 10) -> Figure:
    """Reliability diagram: observed frequency against predicted probability (the diagonal is perfect),
    and below it how many predictions fall in each bin. Binary: the positive class; multiclass: the
    top label (the predicted class's probability against how often the prediction was right)."""
    from sklearn.calibration import CalibrationDisplay

    _check_classifier(model, "a calibration curve")
    y = np.asarray(y)
    proba = np.asarray(model.predict_proba(X))
    if len(model.classes_) == 2:
        hit, confidence, name = y == model.classes_[1], proba[:, 1], f"class {_label(model.classes_[1])}"
    else:
        top = np.argmax(proba, axis=1)
        hit, confidence, name = model.classes_[top] == y, proba.max(axis=1), "top label"
    fig, (ax, ax_hist) = new_figure(2, 1, size=(6, 6.5), height_ratios=(3, 1), sharex=True)
    CalibrationDisplay.from_predictions(hit, confidence, n_bins=n_bins, name=shorten(name, 30), ax=ax)
    ax_hist.hist(confidence, bins=n_bins, range=(0, 1), color="#4C72B0", alpha=0.8)
    ax_hist.set_xlabel("predicted probability")
    ax_hist.set_ylabel("rows")
    ax.set_xlabel("")
    ax.set_ylabel("observed frequency" if len(model.classes_) == 2 else "fraction predicted right")
    ax.set_title("Calibration" + (" (top label)" if len(model.classes_) > 2 else ""))
    return fig


def plot_residuals(model: Any, X: Any, y: Any) -> Figure:
    """Residuals (actual − predicted) against the prediction, and their histogram: a funnel or a curve
    says the errors depend on the size of the prediction."""
    from sklearn.metrics import PredictionErrorDisplay

    y = np.asarray(y, dtype=float)
    pred = np.asarray(model.predict(X), dtype=float)
    fig, (ax, ax_hist) = new_figure(1, 2, size=(10, 4.5), width_ratios=(3, 1))
    PredictionErrorDisplay.from_predictions(y, pred, kind="residual_vs_predicted", ax=ax, subsample=2000,
                                            random_state=0)
    ax_hist.hist(y - pred, bins=30, orientation="horizontal", color="#4C72B0", alpha=0.8)
    ax_hist.set_xlabel("rows")
    ax.set_title(f"Residuals (RMSE {np.sqrt(np.mean((y - pred) ** 2)):.4g})")
    return fig


def plot_predicted_vs_actual(model: Any, X: Any, y: Any) -> Figure:
    """Predicted against actual values, the diagonal being perfect; R² in the title."""
    from sklearn.metrics import PredictionErrorDisplay, r2_score

    y = np.asarray(y, dtype=float)
    pred = np.asarray(model.predict(X), dtype=float)
    fig, ax = new_figure(size=(6, 6))
    PredictionErrorDisplay.from_predictions(y, pred, kind="actual_vs_predicted", ax=ax, subsample=2000,
                                            random_state=0)
    ax.set_title(f"Predicted vs actual (R² {r2_score(y, pred):.4f})")
    return fig


def plot_feature_importance(model: Any, X: Any, y: Any, *, importance: pd.DataFrame | None = None, top: int = 20,
                            n_repeats: int = 5, seed: int = 0) -> Figure:
    """Permutation importance of the ``top`` columns (see
    :func:`~autolearn.report.explain.feature_importance`; pass ``importance`` to reuse a computed one)."""
    frame = importance if importance is not None else feature_importance(model, X, y, n_repeats=n_repeats, seed=seed)
    shown = frame.head(top).iloc[::-1]
    fig, ax = new_figure(size=(8, 1.0 + 0.32 * len(shown)))
    ax.barh(range(len(shown)), shown["importance"], xerr=shown["std"], color="#4C72B0", alpha=0.85,
            error_kw={"elinewidth": 0.8})
    ax.set_yticks(range(len(shown)), [shorten(f, 40) for f in shown["feature"]])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"drop in {frame.attrs.get('metric', 'score')} when the column is shuffled")
    ax.set_title(f"Permutation feature importance (top {len(shown)} of {len(frame)})")
    return fig


def partial_dependence(model: Any, X: Any, feature: Any, *, target: Any = None,
                       grid_resolution: int = 20) -> pd.DataFrame:
    """Average prediction over the rows of ``X`` with ``feature`` set to each grid value in turn.

    Numeric columns: ``grid_resolution`` values evenly spaced between the 5th and 95th percentiles (or
    the distinct values when fewer); other columns: each distinct value. The same quantity as
    ``sklearn.inspection.partial_dependence(method="brute")``, which works on our estimators too, but
    with the whole grid predicted in one call instead of one call per grid value: an ensemble's
    per-call overhead made that ~10x slower. Classification: the probability of ``target`` (default:
    the positive class, or the last class).
    """
    frame = _as_frame(X)
    column = frame[feature]
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    values = column.dropna().unique()
    if numeric and len(values) > grid_resolution:
        lo, hi = np.nanpercentile(column.to_numpy(dtype=float), [5, 95])
        grid: Any = np.linspace(lo, hi, grid_resolution)
    else:
        grid = np.sort(values) if numeric else values[:50]
    position = list(frame.columns).index(feature)
    copies = []
    for value in grid:
        copy = frame.copy(deep=False)
        copy.isetitem(position, pd.Series([value] * len(frame), index=frame.index).astype(column.dtype))
        copies.append(copy)
    stacked = pd.concat(copies, ignore_index=True)
    if _is_classifier(model):
        classes = list(model.classes_)
        k = classes.index(target) if target is not None else len(classes) - 1
        out = np.asarray(model.predict_proba(stacked))[:, k]
    else:
        out = np.asarray(model.predict(stacked), dtype=float)
    average = out.reshape(len(grid), len(frame)).mean(axis=1)
    return pd.DataFrame({"value": list(grid), "average": average})


def plot_partial_dependence(model: Any, X: Any, features: Sequence[Any] | None = None, *, y: Any = None,
                            importance: pd.DataFrame | None = None, top: int = 4, target: Any = None,
                            grid_resolution: int = 20, max_rows: int = 300, seed: int = 0) -> Figure:
    """Average prediction as one feature varies, the others as in ``X`` (see :func:`partial_dependence`),
    for ``features`` or else the ``top`` most important (from ``importance``, or computed with ``y``;
    without either, the first columns). Categorical columns get one bar per value; datetime and
    free-text columns are skipped. Classification: the probability of ``target`` (default: the
    positive class, or the class predicted most often). ``X`` is subsampled to ``max_rows`` rows.
    """
    frame = _as_frame(X)
    if len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=seed)
    usable = [c for c in frame.columns if _plottable(frame[c])]
    if features is None:
        if importance is None and y is not None:
            importance = feature_importance(model, X, y, n_repeats=3, seed=seed)
        ranked = list(importance["feature"]) if importance is not None else [str(c) for c in frame.columns]
        by_name = {str(c): c for c in usable}
        features = [by_name[f] for f in ranked if f in by_name][:top]
    if not features:
        raise ValueError("no numeric or categorical column to draw partial dependence for")
    if _is_classifier(model) and target is None:
        target = model.classes_[1] if len(model.classes_) == 2 else pd.Series(model.predict(frame)).mode().iloc[0]
    ncols = 2 if len(features) == 4 else min(3, len(features))
    nrows = -(-len(features) // ncols)
    fig, axs = new_figure(nrows, ncols, size=(3.8 * ncols, 3.2 * nrows), sharey=True)
    axs = np.atleast_1d(axs).ravel()
    for ax, feature in zip(axs, features):
        pdp = partial_dependence(model, frame, feature, target=target, grid_resolution=grid_resolution)
        column = frame[feature]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            ax.plot(pdp["value"], pdp["average"], color="#4C72B0", lw=2)
            deciles = np.nanpercentile(column.to_numpy(dtype=float), np.arange(10, 100, 10))
            ax.plot(deciles, np.zeros_like(deciles), "|", color="black", ms=10,
                    transform=ax.get_xaxis_transform())
        else:
            ax.bar(range(len(pdp)), pdp["average"], color="#4C72B0", alpha=0.85)
            ax.set_xticks(range(len(pdp)), [shorten(_label(v), 12) for v in pdp["value"]], rotation=30, ha="right")
        ax.set_xlabel(shorten(str(feature), 36))
        ax.grid(alpha=0.3)
    for ax in axs[len(features):]:
        ax.set_axis_off()
    what = "predicted value" if not _is_classifier(model) else f"P(class {shorten(_label(target), 20)})"
    axs[0].set_ylabel(what)
    fig.suptitle(f"Partial dependence of the {what} (ticks: deciles of the column)", fontsize=10)
    return fig


def _plottable(column: pd.Series) -> bool:
    """Numeric, boolean or categorical with few values: what partial dependence can vary."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    return column.nunique() <= 30  # many distinct strings: free text or ids, not categories


MODEL_PLOTS = {
    "classification": {"confusion_matrix": plot_confusion_matrix, "roc_curve": plot_roc_curve,
                       "precision_recall": plot_precision_recall, "calibration": plot_calibration},
    "regression": {"residuals": plot_residuals, "predicted_vs_actual": plot_predicted_vs_actual},
}

__all__ = ["MODEL_PLOTS", "partial_dependence", "plot_calibration", "plot_confusion_matrix", "plot_feature_importance",
           "plot_partial_dependence", "plot_precision_recall", "plot_predicted_vs_actual", "plot_residuals",
           "plot_roc_curve"]
