"""``report.md`` and PNG plots next to ``results.jsonl``.

    python -m benchmarks.automl.report benchmarks/results/automl-60s

Plots: mean rank with the Nemenyi critical difference (a critical-difference-like view: systems whose
bars overlap are not significantly different), per-dataset normalized scores, and normalized score
against inference time. One section per budget when a results file holds several.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.automl import aggregate as agg
from benchmarks.automl.results import read_results


def _fmt(value: object, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a GitHub Markdown table (no tabulate dependency)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(_fmt(v, digits) for v in row.tolist()) + " |")
    return "\n".join(lines)


def _plots(norm: pd.DataFrame, summary: pd.DataFrame, out: Path, suffix: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    valid = norm.dropna(axis=0, how="any")
    if valid.shape[0] >= 1 and valid.shape[1] >= 2:
        rank = agg.average_ranks(valid)
        cd = agg.critical_difference(valid.shape[1], valid.shape[0])
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(rank) + 1.5))
        y = np.arange(len(rank))[::-1]
        ax.errorbar(rank.values, y, xerr=cd / 2 if math.isfinite(cd) else None, fmt="o", capsize=4)
        ax.set_yticks(y, rank.index)
        ax.set_xlabel(f"mean rank over {valid.shape[0]} datasets (lower is better); bars: ± CD/2 = {cd / 2:.2f}")
        ax.set_title("Average rank (Nemenyi critical difference, α = 0.05)")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        files.append(f"rank{suffix}.png")
        fig.savefig(out / files[-1], dpi=110)
        plt.close(fig)
    if norm.shape[0] >= 1:
        fig, ax = plt.subplots(figsize=(9.5, 0.3 * norm.shape[0] + 1.8))
        order = norm.mean(axis=1).sort_values().index
        for i, system in enumerate(norm.columns):
            ax.scatter(norm.loc[order, system].clip(lower=-1), np.arange(len(order)), label=system,
                       marker="os^Dv<>pPX*"[i % 11], alpha=0.8)
        ax.set_yticks(np.arange(len(order)), order, fontsize=7)
        ax.axvline(0, color="grey", lw=0.8)
        ax.axvline(1, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("normalized score (constant predictor = 0, best = 1; clipped at −1)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        files.append(f"normalized_scores{suffix}.png")
        fig.savefig(out / files[-1], dpi=110)
        plt.close(fig)
    points = summary.dropna(subset=["mean_normalized", "median_predict_per_1k"])
    if len(points):
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.scatter(points["median_predict_per_1k"].clip(lower=1e-4), points["mean_normalized"])
        for _, r in points.iterrows():
            ax.annotate(r["system"], (max(r["median_predict_per_1k"], 1e-4), r["mean_normalized"]), fontsize=8,
                        xytext=(4, 2), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("median prediction time per 1,000 rows (s, log scale)")
        ax.set_ylabel("mean normalized score")
        ax.set_title("Score vs inference time")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        files.append(f"score_vs_inference{suffix}.png")
        fig.savefig(out / files[-1], dpi=110)
        plt.close(fig)
    return files


def budget_section(df: pd.DataFrame, out: Path, suffix: str) -> list[str]:
    """Markdown lines (and plots) for the results of one budget."""
    lines: list[str] = []
    installed = df[df["status"] != "not_installed"]
    if installed.empty:
        return ["No system produced results."]
    imputed = agg.impute_failures(installed)
    scores = agg.dataset_scores(imputed)
    norm = agg.normalized_scores(scores, agg.constant_scores(imputed))
    summary = agg.summary(installed)
    n_all = installed["dataset"].nunique()
    lines += [f"{scores.shape[0]} of {n_all} datasets have results from every system and are compared; "
              f"failures and timeouts count as the constant predictor (AMLB); ties within "
              f"{agg.TIE_TOLERANCE} normalized score.", ""]
    degenerate = norm.index[norm.isna().any(axis=1)].tolist()
    if degenerate:
        lines += [f"No system beat the constant predictor on (left out of ranks): {', '.join(degenerate)}.", ""]
    cols = {"system": "system", "version": "version", "datasets": "datasets", "failures": "failures",
            "mean_normalized": "mean norm. score", "mean_rank": "mean rank", "mean_fit_time": "mean fit s",
            "max_overrun": "max overrun s", "median_predict_per_1k": "predict s/1k rows",
            "median_model_mb": "model MB", "median_peak_memory_mb": "peak memory MB"}
    lines += ["### Summary", "", markdown_table(summary[list(cols)].rename(columns=cols)), ""]
    files = _plots(norm, summary, out, suffix)
    lines += [f"![{f}]({f})" for f in files] + [""]
    if norm.shape[1] >= 2:
        systems = list(summary["system"])
        wtl = agg.wtl_table(agg.win_tie_loss(norm[systems]), systems)
        lines += ["### Win / tie / loss (row against column, per dataset)", "",
                  markdown_table(wtl.reset_index(names="system")), ""]
    metric = installed.groupby("dataset")["metric"].first()
    natural = installed.assign(value=np.where(installed["metric"].isin(["logloss", "rmse"]), -installed["score"],
                                              installed["score"]))
    per = natural.pivot_table(index="dataset", columns="system", values="value", aggfunc="mean", dropna=False)
    per.insert(0, "metric", metric.reindex(per.index))
    lines += ["### Main metric per dataset (mean over seeds/folds; failed runs left blank)", "",
              "AUC for binary (higher is better), log loss for multiclass and RMSE for regression "
              "(lower is better).", "", markdown_table(per.reset_index(), digits=4), ""]
    bad = df[df["status"] != "ok"]
    if len(bad):
        lines += ["### Failures, timeouts and missing peers", ""]
        table = bad[["system", "dataset", "seed", "fold", "status", "reason"]].copy()
        table["reason"] = table["reason"].fillna("").map(lambda r: r.splitlines()[0][:160] if r else "")
        lines += [markdown_table(table), ""]
    return lines


def write_report(out: Path) -> Path:
    """Write ``out/report.md`` (and plots) from ``out/results.jsonl``; returns the report's path."""
    out = Path(out)
    df = agg.to_frame(read_results(out / "results.jsonl"))
    lines = ["# AutoML benchmark report", "", f"Results: `{out / 'results.jsonl'}` ({len(df)} runs).", ""]
    runs = out / "runs.jsonl"
    if runs.exists():
        last = json.loads(runs.read_text().splitlines()[-1])
        git = last.get("git", {})
        lines += [f"Last invocation: `{' '.join(last.get('argv', []))}` on {last.get('machine', '')}, "
                  f"{last.get('cpu_count')} CPUs, {last.get('memory_gb')} GB, Python {last.get('python')}, "
                  f"commit {git.get('commit', '?')[:10]}{' (dirty tree)' if git.get('dirty') else ''}.", ""]
    if df.empty:
        lines.append("No results yet.")
    budgets = sorted(df["budget"].unique()) if len(df) else []
    for budget in budgets:
        lines += [f"## Budget {budget:g} s", ""]
        suffix = "" if len(budgets) == 1 else f"-{budget:g}s"
        lines += budget_section(df[df["budget"] == budget], out, suffix)
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="results folder holding results.jsonl")
    print(write_report(parser.parse_args().out))


if __name__ == "__main__":
    main()
