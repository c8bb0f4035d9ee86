"""Plots of a search: how it progressed, what it tried, where its time went, what it kept.

Every function takes whatever :func:`~autolearn.report.run_data.load_run` accepts (a fitted model, a
``Study``, a run directory, a storage URL...) and returns a new :class:`matplotlib.figure.Figure` that the
caller owns (save it with ``fig.savefig(path)``; nothing is drawn through pyplot). A plot that does not
apply to a run (a Pareto front of one objective, rungs of a single-fidelity search) raises
:class:`~autolearn.report.run_data.NoDataError` saying what is missing.

Scores are shown in the metric's own orientation (ROC AUC up, RMSE down); validation trials only, the
final refits being unscored, except in the worker timeline where refits took worker time too.
Hyperparameter plots (importance, parallel coordinates, slices) live in
:mod:`autolearn.report.hyperparameter_plots` and are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from autolearn.records import TrialRecord
from autolearn.report._figures import STATUS_COLORS, natural_key, new_figure, shorten
from autolearn.report.hyperparameter_plots import (
    plot_hyperparameter_importance,
    plot_parallel_coordinates,
    plot_slice,
)
from autolearn.report.run_data import REFIT, NoDataError, RunData, RunSource, load_run, worked


def _start_time(run: RunData) -> float:
    times = [r.result.started for r in run.finished(include_refits=True) if r.result and r.result.started > 0]
    return min(times) if times else 0.0


def _budget_colors(budgets: Sequence[float]) -> dict[float, str]:
    distinct = sorted(set(budgets))
    if len(distinct) == 1:
        return {distinct[0]: STATUS_COLORS["success"]}
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return {b: cmap(i / (len(distinct) - 1)) for i, b in enumerate(distinct)}


def plot_optimization_history(source: RunSource, *, study: str | None = None) -> Figure:
    """Every trial's score and the best so far, against wall-clock time (left) and trial number (right).

    With several fidelities the points are coloured by budget and the best-so-far line follows the
    highest budget only, the one whose scores compare with the final model's.
    """
    run = load_run(source, study)
    done = run.successes()
    if not done:
        raise NoDataError("no successful trial yet: no history to draw")
    t0 = _start_time(run)
    top = max(r.spec.budget for r in done)
    colors = _budget_colors([r.spec.budget for r in done])
    fig, (ax_time, ax_trial) = new_figure(1, 2, size=(11, 4), sharey=True)
    by_end = sorted(done, key=lambda r: r.result.started + r.result.duration)  # type: ignore[union-attr]
    for ax, ordered, x_of, label in (
        (ax_time, by_end, lambda r: r.result.started + r.result.duration - t0, "seconds since the first trial started"),
        (ax_trial, sorted(done, key=lambda r: r.spec.trial_id), lambda r: r.spec.trial_id, "trial"),
    ):
        for budget, color in colors.items():
            pts = [r for r in ordered if math.isclose(r.spec.budget, budget)]
            ax.scatter([x_of(r) for r in pts], [run.score(r.result.loss) for r in pts], s=18, color=color,
                       alpha=0.7, label=f"budget {budget:.3g}" if len(colors) > 1 else "trial")
        best_x, best_y, best = [], [], None
        for r in ordered:
            if not math.isclose(r.spec.budget, top):
                continue
            s = run.score(r.result.loss)  # type: ignore[union-attr]
            if best is None or (s > best if run.best_is_max() else s < best):
                best = s
            best_x.append(x_of(r))
            best_y.append(best)
        ax.step(best_x, best_y, where="post", color="black", lw=1.5, label="best so far")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    ax_time.set_ylabel(run.metric)
    ax_trial.legend(loc="best", fontsize=8)
    failed = len(run.finished()) - len(done)
    fig.suptitle(f"Optimization history: {len(done)} successful trials, {failed} without a score")
    return fig


def plot_model_families(source: RunSource, *, by: str = "model", study: str | None = None) -> Figure:
    """Scores per model family (or any categorical hyperparameter ``by``): a box per family and every
    trial as a dot, best family on top, so one sees which families are worth the search's time."""
    run = load_run(source, study)
    groups: dict[str, list[float]] = {}
    for r in run.comparable():
        if by in r.spec.config:
            groups.setdefault(str(r.spec.config[by]), []).append(run.score(r.result.loss))  # type: ignore[union-attr]
    if not groups:
        raise NoDataError(f"no successful trial has a {by!r} hyperparameter")
    sign = -1.0 if run.best_is_max() else 1.0
    names = sorted(groups, key=lambda g: sign * float(np.median(groups[g])), reverse=True)
    fig, ax = new_figure(size=(8, 1.0 + 0.45 * len(names)))
    data = [groups[n] for n in names]
    ax.boxplot(data, orientation="horizontal", tick_labels=[f"{shorten(n, 30)} ({len(groups[n])})" for n in names],
               showfliers=False, widths=0.6)
    rng = np.random.default_rng(0)
    for i, values in enumerate(data, start=1):
        ax.scatter(values, i + rng.uniform(-0.15, 0.15, len(values)), s=12, alpha=0.6, color=STATUS_COLORS["success"])
    ax.set_xlabel(run.metric)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"Scores by {by} (number of trials in brackets)")
    return fig


def plot_pareto_front(source: RunSource, *, objectives: tuple[int, int] = (0, 1), info_key: str | None = None,
                      study: str | None = None) -> Figure:
    """Trials of a multi-objective study in objective space, the non-dominated ones joined.

    For a single-objective run give ``info_key`` (e.g. ``"predict_time_per_row"`` or ``"fit_time"``,
    read from each trial's info, lower is better) to see the score traded against a cost.
    """
    from autolearn.tune.pareto import pareto_front

    run = load_run(source, study)
    done = run.comparable()
    if info_key is None:
        if len(run.objectives) < 2:
            raise NoDataError("a Pareto front needs two objectives; this run has one (pass info_key= to trade the "
                              "score against a cost such as 'predict_time_per_row')")
        i, j = objectives
        pts = [r for r in done if len(r.result.values) > max(i, j)]  # type: ignore[union-attr]
        losses = np.array([[r.result.values[i], r.result.values[j]] for r in pts])  # type: ignore[union-attr]
        xs = np.array([run.score(v, i) for v in losses[:, 0]]) if len(pts) else np.empty(0)
        ys = np.array([run.score(v, j) for v in losses[:, 1]]) if len(pts) else np.empty(0)
        xlabel, ylabel = run.objectives[i], run.objectives[j]
    else:
        pts = [r for r in done if isinstance(r.result.info.get(info_key), (int, float))]  # type: ignore[union-attr]
        losses = np.array([[float(r.result.info[info_key]), r.result.loss] for r in pts])  # type: ignore[union-attr]
        xs = losses[:, 0] if len(pts) else np.empty(0)
        ys = np.array([run.score(v) for v in losses[:, 1]]) if len(pts) else np.empty(0)
        xlabel, ylabel = info_key, run.metric
    if len(pts) < 2:
        raise NoDataError("a Pareto front needs at least two successful trials with both values")
    front = pareto_front(losses)
    fig, ax = new_figure(size=(7, 5))
    ax.scatter(xs[~front], ys[~front], s=16, color="#AAAAAA", label="dominated")
    order = np.argsort(xs[front])
    ax.plot(xs[front][order], ys[front][order], "o-", color="#C44E52", ms=6, label="Pareto front", drawstyle="steps-post")
    if run.is_automl:
        for x, y, r in zip(xs[front], ys[front], [p for p, f in zip(pts, front) if f]):
            ax.annotate(shorten(str(r.spec.config.get("model", r.spec.trial_id)), 20), (x, y), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    if info_key is not None and np.all(xs > 0) and xs.max() / xs.min() > 20:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Pareto front: {int(front.sum())} of {len(pts)} trials non-dominated")
    return fig


def _rung_parents(records: Sequence[TrialRecord]) -> dict[int, TrialRecord]:
    """Each promoted trial's lower-rung trial: the stored ``parent`` or else the same configuration at the
    next lower budget (schedulers that restart a configuration without naming its parent)."""
    from autolearn.tune.space import config_key

    by_id = {r.spec.trial_id: r for r in records}
    by_key: dict[str, list[TrialRecord]] = {}
    for r in records:
        by_key.setdefault(config_key(r.spec.config), []).append(r)
    parents = {}
    for r in records:
        if r.spec.parent is not None and r.spec.parent in by_id:
            parents[r.spec.trial_id] = by_id[r.spec.parent]
            continue
        lower = [o for o in by_key[config_key(r.spec.config)] if o.spec.budget < r.spec.budget
                 and o.spec.trial_id < r.spec.trial_id]
        if lower and r.spec.origin == "promoted":
            parents[r.spec.trial_id] = max(lower, key=lambda o: (o.spec.budget, o.spec.trial_id))
    return parents


def plot_rungs(source: RunSource, *, study: str | None = None) -> Figure:
    """Multi-fidelity rungs: budget on the x axis (log), each trial's score at its budget, and a line from
    each promoted configuration to its result on the next rung; trials without a score are crosses at the
    bottom. Shows whether low-budget scores predicted high-budget ones (crossing lines: they did not)."""
    from matplotlib.transforms import blended_transform_factory

    run = load_run(source, study)
    records = run.finished()
    budgets = sorted({r.spec.budget for r in records})
    if len(budgets) < 2:
        raise NoDataError("one budget only: this run is not multi-fidelity")
    parents = _rung_parents(records)
    promoted = {p.spec.trial_id for p in parents.values()}
    fig, ax = new_figure(size=(8, 5))
    bottom = blended_transform_factory(ax.transData, ax.transAxes)
    for child_id, parent in parents.items():
        child = next(r for r in records if r.spec.trial_id == child_id)
        if not parent.result.ok:  # type: ignore[union-attr]
            continue
        p_score = run.score(parent.result.loss)  # type: ignore[union-attr]
        if child.result.ok:  # type: ignore[union-attr]
            ax.plot([parent.spec.budget, child.spec.budget], [p_score, run.score(child.result.loss)],  # type: ignore[union-attr]
                    color="#4C72B0", alpha=0.6, lw=1)
    ok = [r for r in records if r.result.ok]  # type: ignore[union-attr]
    for flag, color, label in ((True, "#4C72B0", "promoted"), (False, "#AAAAAA", "not promoted")):
        pts = [r for r in ok if (r.spec.trial_id in promoted) is flag]
        ax.scatter([r.spec.budget for r in pts], [run.score(r.result.loss) for r in pts], s=20, color=color,  # type: ignore[union-attr]
                   label=label, zorder=3)
    bad = [r for r in records if not r.result.ok]  # type: ignore[union-attr]
    if bad:
        ax.scatter([r.spec.budget for r in bad], [0.02] * len(bad), marker="x", color=STATUS_COLORS["failed"],
                   transform=bottom, label="no score (failed, timeout, ...)", zorder=3)
    ax.set_xscale("log")
    ax.set_xticks(budgets, [f"{b:.3g}" for b in budgets])
    ax.minorticks_off()
    ax.set_xlabel("budget (fraction of the full fidelity)")
    ax.set_ylabel(run.metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    counts = ", ".join(f"{b:.3g}: {sum(math.isclose(r.spec.budget, b) for r in records)}" for b in budgets)
    ax.set_title(f"Multi-fidelity rungs (trials per budget {counts})", fontsize=10)
    return fig


def _busy_seconds(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of (start, length) intervals."""
    total, end = 0.0, -math.inf
    for start, length in sorted(intervals):
        stop = start + length
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def plot_worker_timeline(source: RunSource, *, study: str | None = None) -> Figure:
    """A Gantt chart: one row per worker, one bar per trial coloured by status (refits in green), grey
    where the worker sat idle; each row's label says how busy it was. Idle stretches show the search
    waiting on a straggler or the optimizer, the cost of synchronous schedulers, or start-up time.
    Trials cancelled before any worker took them (no worker name) are left out: they used no worker time."""
    run = load_run(source, study)
    timed = worked(run)
    if not timed:
        raise NoDataError("no finished trial has a start time")
    t0 = min(r.result.started for r in timed)  # type: ignore[union-attr]
    span = max(r.result.started + r.result.duration for r in timed) - t0  # type: ignore[union-attr]
    workers = sorted({r.result.worker or "main" for r in timed}, key=natural_key)  # type: ignore[union-attr]
    fig, ax = new_figure(size=(11, 1.2 + 0.5 * len(workers)))
    labels, used = [], set()
    for i, worker in enumerate(workers):
        mine = [r for r in timed if (r.result.worker or "main") == worker]  # type: ignore[union-attr]
        bars = [(r.result.started - t0, max(r.result.duration, span * 1e-3)) for r in mine]  # type: ignore[union-attr]
        kinds = ["refit" if r.spec.instance == REFIT else r.result.status.value for r in mine]  # type: ignore[union-attr]
        used.update(kinds)
        ax.broken_barh([(0, span)], (i - 0.4, 0.8), facecolors="#EEEEEE")
        ax.broken_barh(bars, (i - 0.4, 0.8), facecolors=[STATUS_COLORS.get(k, "#333333") for k in kinds],
                       edgecolor="white", linewidth=0.5)
        busy = _busy_seconds([(r.result.started - t0, r.result.duration) for r in mine])  # type: ignore[union-attr]
        labels.append(f"{shorten(worker, 24)}  {busy / span:.0%} busy" if span > 0 else worker)
    ax.set_yticks(range(len(workers)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, span * 1.01 if span > 0 else 1)
    ax.set_xlabel("seconds since the first trial started")
    from matplotlib.patches import Patch

    handles = [Patch(color=STATUS_COLORS.get(k, "#333333"), label=k) for k in STATUS_COLORS if k in used]
    handles.append(Patch(color="#EEEEEE", label="idle"))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"Worker timeline: {len(timed)} trials on {len(workers)} worker(s) over {span:.1f} s")
    return fig


def plot_ensemble_weights(source: RunSource, *, study: str | None = None) -> Figure:
    """The final ensemble: one bar per member (trial number and model), its weight in the average."""
    run = load_run(source, study)
    if not run.members:
        raise NoDataError("the run history records no ensemble weights (the search did not finish); pass the "
                          "fitted model")
    members = sorted(run.members, key=lambda m: m.weight)
    fig, ax = new_figure(size=(7, 1.0 + 0.4 * len(members)))
    labels = [f"#{m.trial_id} {shorten(str(m.config.get('model', '')), 28)}" for m in members]
    ax.barh(range(len(members)), [m.weight for m in members], color=STATUS_COLORS["refit"])
    ax.set_yticks(range(len(members)), labels)
    for i, m in enumerate(members):
        ax.text(m.weight, i, f" {m.weight:.3f}", va="center", fontsize=8)
    ax.set_xlim(0, max(m.weight for m in members) * 1.2)
    ax.set_xlabel("weight")
    ax.set_title(f"Ensemble of {len(members)} model(s)")
    return fig


SEARCH_PLOTS = {
    "history": plot_optimization_history,
    "model_families": plot_model_families,
    "hyperparameter_importance": plot_hyperparameter_importance,
    "parallel_coordinates": plot_parallel_coordinates,
    "slice": plot_slice,
    "pareto_front": plot_pareto_front,
    "rungs": plot_rungs,
    "worker_timeline": plot_worker_timeline,
    "ensemble_weights": plot_ensemble_weights,
}

__all__ = ["SEARCH_PLOTS", "plot_ensemble_weights", "plot_hyperparameter_importance", "plot_model_families",
           "plot_optimization_history", "plot_parallel_coordinates", "plot_pareto_front", "plot_rungs",
           "plot_slice", "plot_worker_timeline"]
