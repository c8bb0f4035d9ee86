"""One self-contained HTML file about a search and its model, to keep, mail or attach to a ticket.

Self-contained means: plots embedded as base64 PNG, styles inline, no script, no font, nothing fetched
from anywhere; a Content-Security-Policy in the page makes the browser refuse any request even if some
markup slipped through. Every string that comes from users or their data (column names, class labels,
file names, model names, configurations, error messages) is escaped with :func:`html.escape`.

A plot that does not apply (a Pareto front of one objective, rungs of a single-fidelity run) is left out
with the reason; a plot that fails is left out with its error, so one broken plot never costs the whole
report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autolearn.report import _html as H
from autolearn.report._figures import figure_data_uri
from autolearn.report.run_data import REFIT, NoDataError, RunData, RunSource, load_run, run_leaderboard, run_summary

LEADERBOARD_ROWS = 50
DPI = 90


def _section(title: str, body: str) -> str:
    return f"<section><h2>{H.esc(title)}</h2>{body}</section>"


def _plot(make: Callable[[], Any], alt: str, caption: str) -> str:
    """A figure, or a note saying why there is none."""
    try:
        fig = make()
    except NoDataError as e:
        return f'<p class="note">{H.esc(alt)}: not shown — {H.esc(e)}</p>'
    except Exception as e:  # noqa: BLE001 - one broken plot must not cost the whole report
        return f'<p class="error">{H.esc(alt)}: failed — {H.esc(type(e).__name__)}: {H.esc(e)}</p>'
    return H.figure(figure_data_uri(fig, DPI), alt, caption)


def _summary(run: RunData, model: Any) -> str:
    facts = run_summary(run)
    statuses = facts["statuses"]
    items: dict[str, Any] = {
        "task": run.task or "study",
        f"best validation {run.metric}": facts["best_score"] if facts["best_score"] is not None else "n/a",
        "trials": facts["trials"],
        "successful": statuses.get("success", 0),
        "without a score": facts["trials"] - statuses.get("success", 0) - facts["running"],
        "workers": facts["workers"],
        "busy workers": f"{facts['utilization']:.0%}" if facts["utilization"] is not None else "n/a",
        "trials' wall time": f"{facts['span_seconds']:.1f} s",
    }
    if model is not None and hasattr(model, "fit_time_"):
        items["fit time"] = f"{model.fit_time_:.1f} s"
    return H.cards(items)


def _leaderboard(run: RunData) -> str:
    board = run_leaderboard(run)
    shown = board.head(LEADERBOARD_ROWS)
    members = {m.trial_id for m in run.members}
    marked = [i for i, t in enumerate(shown.get("trial", [])) if t in members]
    more = f'<p class="note">{len(board) - len(shown)} more rows not shown.</p>' if len(board) > len(shown) else ""
    legend = '<p class="note">Green rows are members of the final ensemble.</p>' if marked else ""
    return legend + f'<div class="scroll">{H.table(shown, highlight=marked)}</div>' + more


def _final_model(run: RunData, model: Any) -> str:
    by_id = {r.spec.trial_id: r for r in run.records}
    if not run.members:
        refits = [r.spec.parent for r in run.records if r.spec.instance == REFIT and r.spec.parent is not None]
        if not refits:
            return '<p class="note">No final model is recorded for this run.</p>'
        parts = ['<p class="note">The run history records no ensemble weights (the search did not finish); '
                 "these trials were refitted on all rows for its final model:</p>"]
        for tid in refits:
            config = dict(by_id[tid].spec.config) if tid in by_id else {}
            parts.append(f"<details><summary>trial {H.esc(tid)}: {H.esc(config.get('model', ''))}</summary>"
                         f"{H.key_values(config)}</details>")
        return "".join(parts)
    rows = []
    for m in run.members:
        record = by_id.get(m.trial_id)
        loss = record.result.loss if record is not None and record.result is not None else float("nan")
        rows.append({"weight": round(m.weight, 4), "trial": m.trial_id, "model": m.config.get("model", ""),
                     f"validation {run.metric}": run.score(loss)})
    import pandas as pd

    parts = [H.table(pd.DataFrame(rows))]
    pipelines = {t: p for _, p, t in getattr(getattr(model, "search_", None), "members", [])}
    for i, m in enumerate(run.members):
        opened = " open" if i == 0 else ""
        body = H.key_values(dict(m.config))
        if m.trial_id in pipelines:
            body += f"<details><summary>fitted pipeline</summary><pre>{H.esc(pipelines[m.trial_id])}</pre></details>"
        parts.append(f"<details{opened}><summary>trial {H.esc(m.trial_id)}: {H.esc(m.config.get('model', ''))}, "
                     f"weight {m.weight:.4f}</summary>{body}</details>")
    return "".join(parts)


def _search_plots(run: RunData) -> str:
    from autolearn.report import search_plots as sp
    from autolearn.report.hyperparameter_importance import hyperparameter_importance

    try:  # one surrogate for the three plots that rank hyperparameters
        importance = hyperparameter_importance(run)
        ranked: list[str] | None = list(importance["hyperparameter"][importance["importance"] > 0].head(6))
    except NoDataError:
        importance, ranked = None, None
    plots = [
        (lambda: sp.plot_optimization_history(run), "Optimization history",
         "Each trial's validation score and the best so far, against time and trial number."),
        (lambda: sp.plot_model_families(run), "Scores by model family", "Which model families scored well."),
        (lambda: sp.plot_hyperparameter_importance(run, importance=importance), "Hyperparameter importance",
         "Share of the score variation each hyperparameter explains (random-forest surrogate)."),
        (lambda: sp.plot_parallel_coordinates(run, params=ranked or None), "Parallel coordinates",
         "Each line is a trial; darker is better; n/a where the hyperparameter was inactive."),
        (lambda: sp.plot_slice(run, params=ranked or None), "Slice plots",
         "Score against each important hyperparameter."),
        (lambda: sp.plot_rungs(run), "Multi-fidelity rungs",
         "Scores per budget; lines join a configuration to its promotion."),
    ]
    if len(run.objectives) > 1:
        plots.append((lambda: sp.plot_pareto_front(run), "Pareto front", "Trials no other trial beats on both."))
    elif run.is_automl:
        plots.append((lambda: sp.plot_pareto_front(run, info_key="predict_time_per_row"),
                      "Score against prediction time", "The fastest models for each level of score."))
    plots += [
        (lambda: sp.plot_worker_timeline(run), "Worker timeline",
         "Trials per worker over time; grey is idle time."),
        (lambda: sp.plot_ensemble_weights(run), "Ensemble weights", "Weight of each member of the final model."),
    ]
    return "".join(_plot(make, alt, caption) for make, alt, caption in plots)


def _test_scores(model: Any, X: Any, y: Any) -> dict[str, Any]:
    scores: dict[str, Any] = {"rows": len(y)}
    if hasattr(model, "classes_"):
        scores["classes"] = ", ".join(str(c) for c in model.classes_)
    search = getattr(model, "search_", None)
    if search is not None:
        from autolearn.report.explain import _metric_score

        predict, score = _metric_score(model, y)  # type: ignore[misc]
        sign = 1.0 if search.metric.greater_is_better else -1.0
        scores[f"test {search.metric.name}"] = sign * score(predict(X))
    scores["test accuracy" if hasattr(model, "predict_proba") else "test R²"] = float(model.score(X, y))
    return scores


def _model_plots(model: Any, X: Any, y: Any) -> str:
    from autolearn.report import model_plots as mp
    from autolearn.report.explain import feature_importance

    kind = "classification" if hasattr(model, "predict_proba") and hasattr(model, "classes_") else "regression"
    parts = [H.key_values(_test_scores(model, X, y))]
    captions = {"confusion_matrix": "Predicted against true classes on the test rows.",
                "roc_curve": "True against false positive rate.", "precision_recall": "Precision against recall.",
                "calibration": "Observed frequency against predicted probability.",
                "residuals": "Errors against predictions.", "predicted_vs_actual": "Predictions against truth."}
    for name, fn in mp.MODEL_PLOTS[kind].items():
        parts.append(_plot(lambda fn=fn: fn(model, X, y), name.replace("_", " ").capitalize(), captions[name]))
    try:
        importance = feature_importance(model, X, y)
    except Exception as e:  # noqa: BLE001
        importance = None
        parts.append(f'<p class="error">feature importance failed — {H.esc(type(e).__name__)}: {H.esc(e)}</p>')
    if importance is not None:
        parts.append(_plot(lambda: mp.plot_feature_importance(model, X, y, importance=importance),
                           "Permutation feature importance", "Drop of the test score when a column is shuffled."))
        parts.append(_plot(lambda: mp.plot_partial_dependence(model, X, importance=importance),
                           "Partial dependence", "Average prediction as one of the most important features varies."))
    return "".join(parts)


def _timings(run: RunData, model: Any) -> str:
    items: dict[str, Any] = {f"{phase} (s)": round(seconds, 2) for phase, seconds in run.timings.items()}
    if model is not None and hasattr(model, "fit_time_"):
        items["whole fit (s)"] = round(model.fit_time_, 2)
    finished = run.finished(include_refits=True)
    trial_time = sum(r.result.duration for r in finished if r.spec.instance != REFIT)  # type: ignore[union-attr]
    refit_time = sum(r.result.duration for r in finished if r.spec.instance == REFIT)  # type: ignore[union-attr]
    items["trial time summed over workers (s)"] = round(trial_time, 2)
    items["refit time summed over workers (s)"] = round(refit_time, 2)
    facts = run_summary(run)
    items["first trial start to last trial end (s)"] = round(facts["span_seconds"], 2)
    return H.key_values(items)


def render_report(source: RunSource, X_test: Any = None, y_test: Any = None, *, study: str | None = None,
                  title: str | None = None) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix in (".pkl", ".pickle"):
        from autolearn import load

        source = load(source)
    run = load_run(source, study)
    model = source if hasattr(source, "predict") and hasattr(source, "search_") else None
    if model is None and hasattr(source, "predict") and X_test is not None:
        model = source
    body = [_section("Summary", _summary(run, model)), _section("Leaderboard", _leaderboard(run)),
            _section("Final model", _final_model(run, model)), _section("Search", _search_plots(run))]
    if model is not None and X_test is not None and y_test is not None:
        body.append(_section("Model on test data", _model_plots(model, X_test, np.asarray(y_test))))
    elif X_test is not None or y_test is not None:
        body.append(_section("Model on test data", '<p class="note">Needs a fitted model and both X_test and '
                                                   "y_test.</p>"))
    body.append(_section("Timings", _timings(run, model)))
    heading = title or ("autolearn report" + (f": {run.task}, {run.metric}" if run.is_automl else f": {run.study}"))
    return H.page(heading, f"source: {run.source}", "".join(body))


def write_report(model_or_run: RunSource, path: str | os.PathLike[str], X_test: Any = None, y_test: Any = None,
                 *, study: str | None = None, title: str | None = None) -> Path:
    """Write one self-contained HTML report about a search (and, with ``X_test``/``y_test``, its model).

    ``model_or_run`` is a fitted AutoClassifier/AutoRegressor, a saved model file, a run directory, a
    storage URL, a ``Study``... (anything :func:`~autolearn.report.run_data.load_run` reads). Contents:
    summary, leaderboard, the final ensemble (each member's configuration and weight), the search plots,
    the test-set plots when test data is given, and the run's timings. Returns the path written.
    """
    path = Path(path)
    text = render_report(model_or_run, X_test, y_test, study=study, title=title)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a report being rewritten is never seen half-written
    return path


__all__ = ["render_report", "write_report"]
