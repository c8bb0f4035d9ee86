"""From result lines to comparisons, as the AutoML Benchmark (AMLB) does it. Pure functions.

* **Failures count as the constant predictor.** A run that failed or timed out gets the score of the
  constant predictor (class priors / training mean) on the same split, as AMLB imputes them, so a
  system cannot improve its average by failing on hard datasets. ``not_installed`` is not a failure
  of the system: such systems are left out of the comparison and listed separately.
* **Per-dataset score** = mean over seeds and folds of the (imputed) oriented main-metric score
  (AUC, −log loss, −RMSE: higher is better).
* **Normalized score** per dataset: ``(score − constant) / (best − constant)``; the constant predictor
  is 0 and the best system 1 (below 0: worse than predicting the prior). A dataset on which no system
  beats the constant predictor has no scale; its normalized scores are NaN and it is left out of ranks
  and means (and named in the report).
* **Ties**: two systems tie on a dataset when their normalized scores differ by at most
  ``TIE_TOLERANCE`` (0.001 = 0.1 % of the gap between the constant predictor and the best system), so
  that metric noise in the fourth decimal is not counted as a win.
* **Average rank**: per dataset, ``1 + (#systems better beyond the tolerance) + ½ (#systems tied)``,
  which is the usual average rank when ties are exact, then the mean over datasets.

Only datasets on which every compared system has a result are compared (a partial run would
otherwise compare systems on different datasets).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TIE_TOLERANCE = 1e-3
FAILED = ("failed", "timeout")


def to_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Result lines as a DataFrame, the last line of each (system, dataset, seed, fold, budget) kept."""
    if not records:
        return pd.DataFrame(columns=["system", "dataset", "seed", "fold", "budget", "status", "score",
                                     "constant_score"])
    df = pd.DataFrame.from_records(records)
    df = df.drop_duplicates(["system", "dataset", "seed", "fold", "budget"], keep="last")
    for col in ("score", "constant_score", "fit_time", "predict_time_per_1k", "model_size_bytes",
                "peak_memory_mb", "overrun", "wall_time"):
        if col in df:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    return df.reset_index(drop=True)


def impute_failures(df: pd.DataFrame) -> pd.DataFrame:
    """Adds ``failed`` and ``imputed_score`` (failures → constant predictor's score); drops not-installed
    rows. A run marked ok whose score is missing (e.g. AUC on a one-class test set) is imputed too."""
    df = df[df["status"] != "not_installed"].copy()
    df["failed"] = df["status"].isin(FAILED)
    df["imputed_score"] = df["score"].where(~df["failed"] & df["score"].notna(), df["constant_score"])
    return df


def dataset_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Dataset × system table of mean imputed scores, only datasets every system has results for."""
    df = impute_failures(df) if "imputed_score" not in df else df
    table = df.pivot_table(index="dataset", columns="system", values="imputed_score", aggfunc="mean")
    return table.dropna(axis=0, how="any")


def constant_scores(df: pd.DataFrame) -> pd.Series:
    """Per dataset, the constant predictor's mean score over the same seeds and folds."""
    per_split = df.drop_duplicates(["dataset", "seed", "fold"])
    return per_split.groupby("dataset")["constant_score"].mean()


def normalized_scores(scores: pd.DataFrame, constant: pd.Series) -> pd.DataFrame:
    """``(score − constant) / (best − constant)`` per dataset (row); NaN rows where nobody beats constant."""
    constant = constant.reindex(scores.index)
    best = scores.max(axis=1)
    gap = best - constant
    degenerate = gap <= 1e-12 * np.maximum(1.0, constant.abs())
    norm = scores.sub(constant, axis=0).div(gap.where(~degenerate), axis=0)
    return norm


def _better_tied(norm: pd.DataFrame, tol: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per dataset and system: how many others are better beyond ``tol``, and how many tie."""
    values = norm.to_numpy(dtype=float)
    diff = values[:, None, :] - values[:, :, None]  # [d, i, j] = score_j - score_i
    better = (diff > tol).sum(axis=2)
    tied = (np.abs(diff) <= tol).sum(axis=2) - 1  # minus self
    return (pd.DataFrame(better, index=norm.index, columns=norm.columns),
            pd.DataFrame(tied, index=norm.index, columns=norm.columns))


def ranks(norm: pd.DataFrame, tol: float = TIE_TOLERANCE) -> pd.DataFrame:
    """Per-dataset ranks (1 = best), ties within ``tol`` sharing the average rank; degenerate rows dropped."""
    norm = norm.dropna(axis=0, how="any")
    better, tied = _better_tied(norm, tol)
    return 1.0 + better + 0.5 * tied


def average_ranks(norm: pd.DataFrame, tol: float = TIE_TOLERANCE) -> pd.Series:
    """Mean rank of each system over the datasets (lower is better), best first."""
    return ranks(norm, tol).mean(axis=0).sort_values()


def win_tie_loss(norm: pd.DataFrame, tol: float = TIE_TOLERANCE) -> dict[tuple[str, str], tuple[int, int, int]]:
    """For each ordered pair (a, b): datasets on which a beats b, ties with b, loses to b."""
    norm = norm.dropna(axis=0, how="any")
    out: dict[tuple[str, str], tuple[int, int, int]] = {}
    for a in norm.columns:
        for b in norm.columns:
            if a == b:
                continue
            d = norm[a] - norm[b]
            out[(a, b)] = (int((d > tol).sum()), int((d.abs() <= tol).sum()), int((d < -tol).sum()))
    return out


def wtl_table(wtl: dict[tuple[str, str], tuple[int, int, int]], systems: list[str]) -> pd.DataFrame:
    """Win/tie/loss as a system × system table of ``"w/t/l"`` strings (row against column)."""
    table = pd.DataFrame("", index=systems, columns=systems)
    for (a, b), counts in wtl.items():
        table.loc[a, b] = "/".join(str(c) for c in counts)
    return table


def critical_difference(n_systems: int, n_datasets: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of mean ranks (Demšar 2006): ranks closer than this are not
    significantly different at ``alpha``."""
    from scipy.stats import studentized_range

    if n_systems < 2 or n_datasets < 1:
        return float("nan")
    q = studentized_range.ppf(1 - alpha, n_systems, np.inf) / np.sqrt(2.0)
    return float(q * np.sqrt(n_systems * (n_systems + 1) / (6.0 * n_datasets)))


def summary(df: pd.DataFrame, tol: float = TIE_TOLERANCE) -> pd.DataFrame:
    """One row per system: datasets compared, failures, mean normalized score, mean rank, costs."""
    imputed = impute_failures(df)
    scores = dataset_scores(imputed)
    norm = normalized_scores(scores, constant_scores(imputed))
    rank = average_ranks(norm, tol)
    valid = norm.dropna(axis=0, how="any")
    rows = []
    for system, group in imputed.groupby("system"):
        rows.append({
            "system": system,
            "version": _mode(group.get("version")),
            "runs": len(group),
            "failures": int(group["failed"].sum()),
            "datasets": int(valid.shape[0]) if system in valid else 0,
            "mean_normalized": float(valid[system].mean()) if system in valid else np.nan,
            "mean_rank": float(rank.get(system, np.nan)),
            "mean_fit_time": float(group["fit_time"].mean()) if "fit_time" in group else np.nan,
            "max_overrun": float(group["overrun"].max()) if "overrun" in group else np.nan,
            "median_predict_per_1k": float(group["predict_time_per_1k"].median())
            if "predict_time_per_1k" in group else np.nan,
            "median_model_mb": float(group["model_size_bytes"].median() / 2**20)
            if "model_size_bytes" in group else np.nan,
            "median_peak_memory_mb": float(group["peak_memory_mb"].median()) if "peak_memory_mb" in group else np.nan,
        })
    return pd.DataFrame(rows).sort_values(["mean_rank", "system"]).reset_index(drop=True)


def _mode(values: pd.Series | None) -> str:
    if values is None:
        return ""
    values = values.dropna().astype(str)
    values = values[values != ""]
    return str(values.mode().iloc[0]) if len(values) else ""
