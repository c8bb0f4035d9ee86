"""See a search: plots of the run and of the model, explanations, a one-file HTML report, a live dashboard.

Everything takes what :func:`load_run` reads: a fitted ``AutoClassifier``/``AutoRegressor``, a ``tune``
``Study``, a run directory, a saved model file or a storage URL. Names are imported on first use, so
``from autolearn.report import serve`` works without matplotlib (only the plots and the report need it:
``pip install autolearn[report]``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_run": "run_data", "RunData": "run_data", "NoDataError": "run_data", "run_leaderboard": "run_data",
    "hyperparameter_importance": "hyperparameter_importance",
    "plot_optimization_history": "search_plots", "plot_model_families": "search_plots",
    "plot_hyperparameter_importance": "search_plots", "plot_parallel_coordinates": "search_plots",
    "plot_slice": "search_plots", "plot_pareto_front": "search_plots", "plot_rungs": "search_plots",
    "plot_worker_timeline": "search_plots", "plot_ensemble_weights": "search_plots",
    "plot_confusion_matrix": "model_plots", "plot_roc_curve": "model_plots", "plot_precision_recall": "model_plots",
    "plot_calibration": "model_plots", "plot_residuals": "model_plots", "plot_predicted_vs_actual": "model_plots",
    "plot_feature_importance": "model_plots", "plot_partial_dependence": "model_plots",
    "partial_dependence": "model_plots",
    "feature_importance": "explain", "explain": "explain",
    "write_report": "html", "render_report": "html",
    "serve": "dashboard", "Dashboard": "dashboard",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'autolearn.report' has no attribute {name!r}")
    return getattr(importlib.import_module(f"autolearn.report.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = sorted(_EXPORTS)  # noqa: PLE0605
