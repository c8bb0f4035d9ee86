"""Plots of configurations against scores: importance, parallel coordinates, one slice per hyperparameter.

Spaces are conditional (``knn:n_neighbors`` exists only when ``model == "knn"``), so a hyperparameter
that was inactive in a trial is drawn on a separate "n/a" level below its axis instead of being
dropped: every line of the parallel-coordinates plot still reaches the score axis. Numeric axes whose
values span more than two decades are drawn on a log scale, as such hyperparameters are sampled.
Only trials at one budget are used (scores at different fidelities are not comparable): the highest with
at least five successes, see :meth:`~autolearn.report.run_data.RunData.comparable`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from autolearn.report._figures import new_figure, shorten
from autolearn.report.hyperparameter_importance import hyperparameter_importance
from autolearn.report.run_data import NoDataError, RunData, RunSource, load_run

INACTIVE = -0.15  # where "n/a" sits on a normalized [0, 1] axis
_LABEL_BOX = {"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.5}


def plot_hyperparameter_importance(source: RunSource, *, top: int = 15, method: str = "impurity",
                                   importance: pd.DataFrame | None = None, study: str | None = None) -> Figure:
    """The ``top`` hyperparameters by surrogate importance (see
    :func:`~autolearn.report.hyperparameter_importance.hyperparameter_importance`; pass ``importance`` to
    reuse a computed one), with the surrogate's out-of-bag R² in the title so a reader knows how much to
    trust the ranking."""
    frame = importance if importance is not None else hyperparameter_importance(source, method=method, study=study)
    frame = frame[frame["importance"] > 0].head(top).iloc[::-1]  # the rest never split a tree: noise to show
    if frame.empty:
        raise NoDataError("no hyperparameter explains any of the score variation")
    fig, ax = new_figure(size=(8, 1.0 + 0.35 * len(frame)))
    ax.barh(range(len(frame)), frame["importance"], xerr=frame["std"], color="#4C72B0", alpha=0.85,
            error_kw={"elinewidth": 0.8, "alpha": 0.6})
    ax.set_yticks(range(len(frame)), [shorten(h, 40) for h in frame["hyperparameter"]])
    ax.set_xlabel("share of the loss variation explained")
    ax.set_xlim(left=0)
    r2 = frame.attrs.get("oob_r2", math.nan)
    fit = f", surrogate OOB R² {r2:.2f}" if isinstance(r2, float) and math.isfinite(r2) else ""
    ax.set_title(f"Hyperparameter importance ({frame.attrs['method']}, {frame.attrs['n_trials']} trials{fit})",
                 fontsize=10)
    return fig


def _top_trials(run: RunData) -> list:
    trials = run.comparable()
    if len(trials) < 2:
        raise NoDataError("at least two successful trials are needed to compare configurations")
    return trials


def _default_params(run: RunData, configs: list[dict[str, Any]], top: int) -> list[str]:
    """The most important hyperparameters, or (too few trials for a surrogate) the most often varied."""
    try:
        return list(hyperparameter_importance(run)["hyperparameter"].head(top))
    except NoDataError:
        pass
    counts: dict[str, int] = {}
    for name in {k for c in configs for k in c}:
        values = [c[name] for c in configs if name in c]
        if len({str(v) for v in values}) > 1:
            counts[name] = len(values)
    return sorted(counts, key=lambda n: (-counts[n], n))[:top]


class _Axis:
    """One hyperparameter mapped to [0, 1] (NaN where inactive), with tick positions and labels."""

    def __init__(self, name: str, values: Sequence[Any]) -> None:
        self.name = name
        present = [v for v in values if v is not None]
        self.numeric = bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
        self.log = False
        if self.numeric:
            arr = np.array([math.nan if v is None else float(v) for v in values])
            lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
            self.log = lo > 0 and hi / lo > 100
            t = np.log10 if self.log else (lambda x: x)
            a, b = t(lo), t(hi)
            self.positions = (t(arr) - a) / (b - a) if b > a else np.where(np.isnan(arr), np.nan, 0.5)
            self.raw = arr
            self.ticks = [(0.0, lo), (1.0, hi)] if b > a else [(0.5, lo)]
            self.tick_labels = [f"{v:.3g}" for _, v in self.ticks]
            self.ticks = [p for p, _ in self.ticks]
        else:
            cats = sorted({v for v in present}, key=lambda v: (type(v).__name__, str(v)))
            code = {v: i for i, v in enumerate(cats)}
            n = max(len(cats) - 1, 1)
            self.positions = np.array([math.nan if v is None else (code[v] / n if len(cats) > 1 else 0.5)
                                       for v in values])
            self.ticks = [i / n if len(cats) > 1 else 0.5 for i in range(len(cats))]
            self.tick_labels = [shorten(str(c), 18) for c in cats]
            self.raw = np.array([math.nan if v is None else code[v] for v in values], dtype=float)


def _score_colors(run: RunData, scores: np.ndarray) -> tuple[Any, Any]:
    """A colormap where better is darker, and its normalization."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    cmap = colormaps["viridis_r" if run.best_is_max() else "viridis"]
    return cmap, Normalize(float(np.nanmin(scores)), float(np.nanmax(scores)))


def plot_parallel_coordinates(source: RunSource, *, params: Sequence[str] | None = None, top: int = 6,
                              study: str | None = None) -> Figure:
    """One vertical axis per hyperparameter (default: the ``top`` most important) and a last one for the
    score; one line per trial, coloured by score, the best drawn on top. Bands of dark lines show the
    ranges that worked; "n/a" holds trials where the hyperparameter was inactive."""
    run = load_run(source, study)
    trials = _top_trials(run)
    configs = [dict(r.spec.config) for r in trials]
    names = list(params) if params is not None else _default_params(run, configs, top)
    if not names:
        raise NoDataError("no hyperparameter took more than one value")
    axes = [_Axis(n, [c.get(n) for c in configs]) for n in names]
    scores = np.array([run.score(r.result.loss) for r in trials])
    lo, hi = float(scores.min()), float(scores.max())
    score_pos = (scores - lo) / (hi - lo) if hi > lo else np.full(len(scores), 0.5)
    cmap, norm = _score_colors(run, scores)
    fig, ax = new_figure(size=(max(7.0, 1.6 * (len(axes) + 1)), 5))
    order = np.argsort(scores if run.best_is_max() else -scores)  # best last, on top
    xs = np.arange(len(axes) + 1)
    for i in order:
        ys = [a.positions[i] if not math.isnan(a.positions[i]) else INACTIVE for a in axes] + [score_pos[i]]
        ax.plot(xs, ys, color=cmap(norm(scores[i])), alpha=0.6, lw=1.0)
    for x, a in enumerate(axes):
        ax.axvline(x, color="black", lw=0.8)
        for pos, label in zip(a.ticks, a.tick_labels):
            ax.text(x - 0.04, pos, label, ha="right", va="center", fontsize=7, bbox=_LABEL_BOX)
        if any(math.isnan(p) for p in a.positions):
            ax.text(x - 0.04, INACTIVE, "n/a", ha="right", va="center", fontsize=7, color="#777777")
    ax.axvline(len(axes), color="black", lw=0.8)
    for pos, value in ((0.0, lo), (1.0, hi)):
        ax.text(len(axes) + 0.04, pos, f"{value:.4g}", ha="left", va="center", fontsize=7)
    conditional = any(np.isnan(a.positions).any() for a in axes)
    if conditional:
        ax.axhspan(INACTIVE - 0.05, INACTIVE + 0.05, color="#F2F2F2", zorder=0)
    ax.set_xticks(xs, [shorten(a.name, 24) + (" (log)" if a.log else "") for a in axes] + [run.metric],
                  rotation=20, ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(INACTIVE - 0.1 if conditional else -0.08, 1.08)
    ax.set_xlim(-0.6, len(axes) + 0.4)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    from matplotlib.cm import ScalarMappable

    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=run.metric, fraction=0.03)
    ax.set_title(f"Parallel coordinates of {len(trials)} trials")
    return fig


def plot_slice(source: RunSource, *, params: Sequence[str] | None = None, top: int = 6, ncols: int = 3,
               study: str | None = None) -> Figure:
    """One panel per hyperparameter: score against its value in the trials where it was active, dots
    coloured by trial number (later = darker) to show where the optimizer moved."""
    run = load_run(source, study)
    trials = _top_trials(run)
    configs = [dict(r.spec.config) for r in trials]
    names = list(params) if params is not None else _default_params(run, configs, top)
    if not names:
        raise NoDataError("no hyperparameter took more than one value")
    scores = np.array([run.score(r.result.loss) for r in trials])
    ids = np.array([r.spec.trial_id for r in trials], dtype=float)
    ncols = min(ncols, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axs = new_figure(nrows, ncols, size=(3.6 * ncols, 3.0 * nrows), sharey=True)
    axs = np.atleast_1d(axs).ravel()
    rng = np.random.default_rng(0)
    for ax, name in zip(axs, names):
        a = _Axis(name, [c.get(name) for c in configs])
        active = ~np.isnan(a.raw)
        x = a.raw[active]
        if not a.numeric:
            x = x + rng.uniform(-0.12, 0.12, len(x))
            ax.set_xticks(range(len(a.tick_labels)), a.tick_labels, rotation=30, ha="right", fontsize=7)
            ax.set_xlim(-0.5, len(a.tick_labels) - 0.5)
        elif a.log:
            ax.set_xscale("log")
        ax.scatter(x, scores[active], c=ids[active], cmap="Blues", vmin=ids.min() - 0.3 * np.ptp(ids) - 1,
                   vmax=ids.max(), s=16, edgecolors="#333333", linewidths=0.3)
        ax.set_title(f"{shorten(name, 34)} ({int(active.sum())})", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axs[len(names):]:
        ax.set_axis_off()
    for ax in axs[::ncols]:
        ax.set_ylabel(run.metric)
    fig.suptitle("Score against each hyperparameter (trials where it was active, in brackets)", fontsize=10)
    return fig


__all__ = ["plot_hyperparameter_importance", "plot_parallel_coordinates", "plot_slice"]
