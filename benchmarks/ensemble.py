"""Ensembles: is the default ensemble (selection) at least as good as the best single model, and what do
the stacking variants (ridge, lasso, elastic net) add, at what prediction time and model size?

    python benchmarks/ensemble.py --budget 120 --suite main20.txt --seed 0 --out benchmarks/results/ensemble
    python benchmarks/ensemble.py --quick            # 2 small datasets (suites/small.txt), 15 s
    python benchmarks/ensemble.py --report-only --out OUT0 --sources OUT1 --report-seeds 0 1   # mean over seeds

**One search per dataset serves every variant.** Each dataset is split as the AutoML harness splits it
(``benchmarks.automl``: same loader, same seeded 75/25 split, same Parquet task files), then
``AutoClassifier`` / ``AutoRegressor(time_budget=B, n_jobs=2, seed=s, run_dir=..., ensemble="selection")``
is fitted once. From what the run directory keeps (``history.sqlite``, study "automl"; the validation
predictions ``oof/<trial_id>.npy``; the task data ``data.pkl``) the other variants are built post hoc with
autolearn's own functions (``autolearn.automl._choose_ensemble`` and ``_final_model``), so each uses
exactly the candidates, penalty rule and seeds the search would have used with that ``ensemble=`` value:

* ``single``: the best full-budget trial (lowest validation loss), i.e. what ``ensemble=None`` gives;
* ``selection``: the fitted model itself (with the default ``refit="auto"``: members refitted by the
  search within its budget after cross-validation, the holdout models kept after a holdout; with
  ``--fold-models`` the search runs with ``refit=False`` and its members are their averaged fold models);
* ``selection-refit``: the same weights with every member refitted on all rows (the same model as
  ``selection`` where the search cross-validated, unless ``--fold-models`` was given);
* ``selection-cv``: ensemble selection with its size chosen by 5-fold cross-validation over the
  validation rows (``ensemble_selection(size_cv=5)``), members refitted on all rows;
* ``stacking`` / ``stacking-lasso`` / ``stacking-elasticnet``: ``fit_stacker`` with ridge (CV),
  lasso (BIC) and elastic net (CV) on the same candidates.

Members are what the search's own final model would hold: the kept fold (or holdout) models averaged, or
refitted on all training rows, in this process, with ``build_pipeline`` and the seed the
search's refit would use, *without* a time limit: members the selection ensemble already holds are reused;
a refit that fails, or that the search's own check calls broken (``autolearn.evaluation.evaluate.broken_refit``),
is left out and the variant re-weighted over the rest, as the search does (``info.refit_failures``).
So the post-hoc variants never lose a member to the refit deadline, while ``selection`` may have (``info.selection_refit_failures`` counts it): the comparison slightly favours
stacking. As a check that the post-hoc candidate set is the search's, ensemble selection is replayed from
the stored predictions and compared with the fitted model's weights (``info.selection_replayed``).

Scored on the held-out test rows with the task's AMLB metric (``autolearn.evaluation.metrics.get_metric``:
ROC AUC binary, log loss multiclass, RMSE regression). **Relative change** vs the best single model:
``(value − single) / |single|``, sign flipped for log loss and RMSE, so positive is better. A variant
*beats* the single model when the change is above ``--tie-tolerance`` (default 0.001 = 0.1 %), *ties*
within it, *loses* below it; a failed variant loses. Target (selection): at least as good (beats + ties)
on ≥ 75 % of datasets and never more than 1 % worse. Prediction time: ``measure_predict_time`` (one
warm-up, minimum of 3 calls) on the first 1,000 test rows (all when fewer), validated input, reported per
1,000 rows. Model size: bytes of the pickled (cloudpickle) model that predicts, i.e. the ``Ensemble``
(without the search's trial records, which a saved estimator also carries).

Output in ``--out``: ``results.jsonl`` (one line per dataset × variant in the AutoML harness's format,
appended and fsynced per dataset; a rerun skips finished datasets), ``report.md``, ``ensemble.csv``
(per dataset × variant, with the relative change), ``ensemble.json`` (the summary). Bulky files (splits,
task files, run directories) go to ``--out/raw/`` (git-ignored); run directories are deleted after each
dataset unless ``--keep-runs``. Time per dataset: the search (budget + up to 5 %) plus the post-hoc part
(refits, stacker fits, measurements): ~5-20 s on small data, about a minute or more on large multiclass
data (the elastic-net stacker is the slowest: 30 s for 3 candidates on shuttle's 8,700 validation rows).
main20.txt (22 datasets) at 120 s on 2 cores: about 1 h 15 min, under 2 h at worst.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import shutil
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autolearn.report.serialize import json_safe  # noqa: E402
from benchmarks.automl import datasets as ds  # noqa: E402
from benchmarks.automl.metrics import (  # noqa: E402
    HIGHER_IS_BETTER,
    MAIN_METRIC,
    align_proba,
    constant_score,
    outcome,
    relative_change,
)
from benchmarks.automl.report import markdown_table  # noqa: E402
from benchmarks.automl.results import FINAL, ResultsLog, latest, read_results, utc_now  # noqa: E402
from benchmarks.automl.run import record_run  # noqa: E402
from benchmarks.automl.splits import TARGET, encode_target, load_or_make_splits, write_task_files  # noqa: E402

VARIANTS = ("single", "selection", "selection-refit", "selection-cv", "stacking", "stacking-lasso",
            "stacking-elasticnet")
COMPARED = VARIANTS[1:]
STACKING = VARIANTS[4:]
SELECTION_CV_FOLDS = 5
TIE_TOLERANCE = 1e-3
TARGET_SHARE, TARGET_WORST = 0.75, -0.01
PREDICT_ROWS = 1000
QUICK_SUITE, QUICK_BUDGET = "small.txt", 15.0


# -- one dataset ---------------------------------------------------------------------------------------
def search(X: pd.DataFrame, y: np.ndarray, task: str, budget: float, seed: int, n_jobs: int, run_dir: Path,
           refit: bool | str = "auto") -> Any:
    """The one search of a dataset, with the default ensemble, keeping its run directory."""
    from autolearn import AutoClassifier, AutoRegressor

    shutil.rmtree(run_dir, ignore_errors=True)  # a search killed half-way left a history that cannot be reused
    options = dict(time_budget=budget, n_jobs=n_jobs, seed=seed, run_dir=str(run_dir), ensemble="selection",
                   refit=refit)
    if task == "regression":
        return AutoRegressor(**options).fit(X, y)
    return AutoClassifier(**options).fit(X, y, task=task)


def build_variants(model: Any, run_dir: Path, budget: float, seed: int, n_jobs: int) -> tuple[dict, dict, dict]:
    """``({variant: predicting model or exception}, {variant: info}, dataset info)`` from one search."""
    from autolearn.automl import (
        STUDY,
        Settings,
        _choose_ensemble,
        _final_model,
        _fold_averages,
        _member_weights,
        prediction_memory_mb,
    )
    from autolearn.ensemble import PredictionStore
    from autolearn.ensemble.fold_average import FoldAverage
    from autolearn.evaluation.evaluate import (
        REFIT,
        broken_refit,
        fold_model_store,
        load_task_data,
        train_folds,
        training_losses,
    )
    from autolearn.evaluation.resampling import validation_rows
    from autolearn.evaluation.time_cap import refit_budget
    from autolearn.execution import Completed
    from autolearn.pipeline import build_pipeline
    from autolearn.storage import get_storage
    from autolearn.tune.loop import trial_seed

    data = load_task_data(str(run_dir / "data.pkl"))  # the validated X, encoded y and splits the search used
    storage = get_storage(run_dir / "history.sqlite")
    trials = storage.trials(STUDY)
    storage.close()
    settings = Settings(task=data.task, time_budget=budget, n_jobs=n_jobs, seed=seed)
    y_valid = data.y[validation_rows(data.splits)]

    # The prediction store as the search filled it: full-budget successes, in the order they finished
    # (the store breaks ties of equal losses by insertion order).
    searched = [r for r in trials if r.result is not None and r.spec.instance != REFIT]
    searched.sort(key=lambda r: (r.result.started + r.result.duration, r.spec.trial_id))
    store = PredictionStore(prediction_memory_mb(), run_dir / "posthoc-predictions")
    records: dict[int, Completed] = {}
    for r in searched:
        records[r.spec.trial_id] = Completed(r.spec, r.result)
        oof = run_dir / "oof" / f"{r.spec.trial_id}.npy"
        if r.result.ok and r.spec.budget >= 1.0 and oof.exists():
            store.add(r.spec.trial_id, str(r.spec.config.get("model", "")), r.result.loss, np.load(oof))
    refits = [r for r in trials if r.spec.instance == REFIT and r.result is not None]
    dataset_info = {"n_trials": len(searched), "n_full_budget": len(store),
                    "selection_refit_failures": sum(not r.result.ok for r in refits),
                    "fallback": bool(model.search_.fallback), "fit_time": float(model.fit_time_)}
    refit_seconds = {int(r.spec.parent): float(r.result.info.get("fit_time", math.nan)) for r in refits if r.result.ok}

    combiners: dict[str, Any] = {}
    info: dict[str, dict] = {v: {} for v in VARIANTS}
    for variant in ("single", "selection", "selection-cv", *STACKING):
        try:
            t0 = time.perf_counter()
            ensemble = {"single": None, "selection-cv": "selection"}.get(variant, variant)
            chosen = _choose_ensemble(store, records, y_valid, data.metric, dataclasses.replace(settings, ensemble=ensemble),
                                      selection={"size_cv": SELECTION_CV_FOLDS} if variant == "selection-cv" else None)
            info[variant]["build_seconds"] = time.perf_counter() - t0
            if not chosen[0]:
                raise RuntimeError("no full-budget trial finished: nothing to ensemble")
            combiners[variant] = chosen
            info[variant]["n_candidates"] = len(chosen[0])
        except Exception as exc:  # one variant failing must not cost the others
            combiners[variant] = exc
    dataset_info["n_candidates"] = info["selection"].get("n_candidates", 0)

    # Members as the search's own final model holds them: fold (holdout) models where it kept them,
    # else refitted on all rows (reusing the search's refits).
    shipped_members = {tid: m for _, m, tid in model.search_.members if tid >= 0}
    replay = combiners.pop("selection")
    if not isinstance(replay, Exception):
        replayed = _member_weights(*replay)
        shipped = {tid: w for w, _, tid in model.search_.members}
        dataset_info["selection_replayed"] = bool(
            replayed.keys() == shipped.keys()
            and np.allclose([replayed[t] / sum(replayed.values()) for t in shipped], list(shipped.values())))
        combiners["selection-refit"] = replay
    needed = list(dict.fromkeys(t for c in combiners.values() if not isinstance(c, Exception)
                                for t in _member_weights(*c)))
    averaged = _fold_averages(dict.fromkeys(needed, 1.0), records, fold_model_store(run_dir), train_folds(data.splits))
    refitted = {t: m for t, m in shipped_members.items() if not isinstance(m, FoldAverage)}
    for tid in needed:
        if tid in refitted:
            continue
        pipeline = build_pipeline(dict(records[tid].spec.config), task=data.task, schema=data.schema,
                                  seed=trial_seed(seed, tid), budget=refit_budget(records[tid].result.info),
                                  n_rows=len(data.y), n_classes=data.n_classes or None)
        t0 = time.perf_counter()
        try:
            refitted[tid] = pipeline.fit(data.X, data.y)
        except Exception as exc:  # left out, as the search leaves out a refit that failed
            refitted[tid] = exc
        refit_seconds[tid] = time.perf_counter() - t0
        broken = None if isinstance(refitted[tid], Exception) else broken_refit(
            training_losses(refitted[tid], data, trial_seed(seed, tid)), records[tid].result.loss)
        if broken is not None:  # the search's own check on a refit (autolearn.automl._refit)
            refitted[tid] = RuntimeError(broken)
            dataset_info["broken_refits"] = dataset_info.get("broken_refits", 0) + 1
    dataset_info["fold_averaged"] = bool(averaged)

    models: dict[str, Any] = {"selection": model.search_.model}
    info["selection"] = {"n_members": len(model.search_.members),
                         "build_seconds": float(model.search_.timings.get("ensemble", math.nan)),
                         "refit_seconds": sum(refit_seconds.get(t, math.nan) for _, _, t in model.search_.members)}
    for variant, chosen in combiners.items():
        if isinstance(chosen, Exception):
            models[variant] = chosen
            continue
        members = list(_member_weights(*chosen))
        fitted = refitted if variant == "selection-refit" else {**refitted, **averaged}
        ready = {t: fitted[t] for t in members if not isinstance(fitted[t], Exception)}
        if not ready:
            models[variant] = RuntimeError(f"every member failed to refit: {fitted[members[0]]!r}")
            continue
        # members that failed to refit are left out and the rest re-weighted, as the search does
        models[variant], kept = _final_model(*chosen, ready, store, y_valid, data.metric,
                                             dataclasses.replace(settings, ensemble=variant), data.n_classes)
        info[variant].update(n_members=len(kept), refit_seconds=sum(refit_seconds.get(t, math.nan) for t in members),
                             refit_failures=len(members) - len(ready),
                             posthoc_refits=sum(t not in {m for _, _, m in model.search_.members} for t in members))
        stacker = chosen[1]
        if hasattr(stacker, "lam_"):
            info[variant].update(lam=float(stacker.lam_), l1_ratio=float(stacker.l1_ratio_))
    store.close()
    return models, info, dataset_info


def measure(model: Any, X_test: Any, y_test: np.ndarray, classes: np.ndarray | None, task: str,
            n_classes: int) -> dict[str, Any]:
    """Test metric, prediction time per 1,000 rows and pickled size of one predicting model."""
    from autolearn.ensemble import measure_predict_time
    from autolearn.evaluation.metrics import get_metric

    metric = get_metric(None, task)
    name = MAIN_METRIC[task]
    if task == "regression":
        value = metric.score(y_test, np.asarray(model.predict(X_test), dtype=float))
    else:
        proba = align_proba(model.predict_proba(X_test), [int(c) for c in classes], n_classes)
        value = metric.score(y_test, proba)
    sample = X_test.iloc[:PREDICT_ROWS] if hasattr(X_test, "iloc") else X_test[:PREDICT_ROWS]
    per_row = measure_predict_time(model, sample, method="predict" if task == "regression" else "predict_proba")
    return {"metric": name, name: value, "score": value if HIGHER_IS_BETTER[name] else -value,
            "predict_time_per_1k": per_row * 1000.0, "model_size_bytes": len(cloudpickle.dumps(model))}


def run_dataset(spec: ds.DatasetSpec, args: argparse.Namespace, log: Any = print) -> list[dict[str, Any]]:
    """Split, search once, build the variants, score them: one harness-style record per variant."""
    import autolearn
    from autolearn.data.validation import check_X

    base = {"version": autolearn.__version__, "dataset": spec.name, "collection": spec.collection,
            "seed": args.seed, "fold": 0, "budget": float(args.budget), "cores": args.n_jobs, "started_at": utc_now()}
    refit = False if args.fold_models else "auto"
    records = {v: dict(base, system=v, options={"ensemble": v, "refit": refit},
                      status="failed", reason="") for v in VARIANTS}
    run_dir = args.out / "raw" / "runs" / spec.name / f"seed{args.seed}"
    try:
        data = ds.load(spec)
        y_enc, class_names = encode_target(data.y, data.task)
        n_classes = len(class_names)
        (split,) = load_or_make_splits(args.out / "raw" / "splits" / spec.name / f"seed{args.seed}.npz", spec.name,
                                       data.y, data.task, args.seed, 1)
        meta = {"dataset": spec.name, "task": data.task, "n_classes": n_classes, "classes": class_names,
                "seed": args.seed}
        task_dir = write_task_files(args.out / "raw" / "tasks" / spec.name / f"seed{args.seed}_fold0", data.X,
                                    y_enc, split, meta)
        train, test = pd.read_parquet(task_dir / "train.parquet"), pd.read_parquet(task_dir / "test.parquet")
        y_train, y_test = train.pop(TARGET).to_numpy(), y_enc[split.test]
        for r in records.values():
            r.update(task=data.task, metric=MAIN_METRIC[data.task], n_train=len(split.train), n_test=len(split.test),
                     n_features=data.X.shape[1], n_classes=n_classes, split_fingerprint=split.fingerprint,
                     constant_score=constant_score(data.task, y_train, y_test, n_classes))
        log(f"   {spec.name}: {data.task}, {len(split.train)} train / {len(split.test)} test rows, "
            f"{data.X.shape[1]} features; searching {args.budget:g} s")
        model = search(train, y_train, data.task, args.budget, args.seed, args.n_jobs, run_dir, refit)
        t0 = time.perf_counter()
        models, info, dataset_info = build_variants(model, run_dir, args.budget, args.seed, args.n_jobs)
        X_test = check_X(test, fit=False, schema=model.search_.schema)
        classes = getattr(model, "classes_", None)
        for variant, fitted in models.items():
            record = records[variant]
            record["info"] = dict(info.get(variant, {}))
            record["fit_time"] = dataset_info["fit_time"]
            if isinstance(fitted, Exception):
                record["reason"] = f"{type(fitted).__name__}: {fitted}"
                continue
            try:
                record.update(measure(fitted, X_test, y_test, classes, data.task, n_classes), status="ok")
            except Exception as exc:
                record["reason"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        dataset_info["posthoc_seconds"] = time.perf_counter() - t0  # variants built, refitted and measured
        for record in records.values():
            record["info"].update(dataset_info)
    except Exception as exc:  # a broken dataset or search must not stop the others
        for r in records.values():
            r["reason"] = r["reason"] or f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    finally:
        if not args.keep_runs:
            shutil.rmtree(run_dir, ignore_errors=True)
            with contextlib.suppress(OSError):
                run_dir.parent.rmdir()  # only when no other seed's run is kept there
    for r in records.values():
        r["finished_at"] = utc_now()
    return [records[v] for v in VARIANTS]


# -- comparison ----------------------------------------------------------------------------------------
def comparison_frame(records: list[dict[str, Any]], tol: float = TIE_TOLERANCE) -> pd.DataFrame:
    """One row per (dataset, variant) with the metric value, its change vs ``single`` and the outcome."""
    df = pd.DataFrame.from_records(records)
    if df.empty:
        return df
    df = df.drop_duplicates(["system", "dataset", "seed", "fold", "budget"], keep="last")
    df["value"] = [r.get(r["metric"]) if isinstance(r.get("metric"), str) and r["status"] == "ok" else math.nan
                   for r in df.to_dict("records")]
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    single = df[df["system"] == "single"].set_index("dataset")["value"]
    df["single_value"] = df["dataset"].map(single)
    df["change"] = [relative_change(v, s, HIGHER_IS_BETTER[m]) if isinstance(m, str) else math.nan
                    for v, s, m in zip(df["value"], df["single_value"], df["metric"])]
    df["outcome"] = [outcome(c, tol) if math.isfinite(s) else "no reference"
                     for c, s in zip(df["change"], df["single_value"])]
    df["n_members"] = [(i or {}).get("n_members", math.nan) if isinstance(i, dict) else math.nan
                       for i in df.get("info", pd.Series([None] * len(df)))]
    return df.reset_index(drop=True)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Per variant: wins / ties / losses against the best single model, worst change, costs."""
    rows = []
    for variant in VARIANTS:
        group = df[(df["system"] == variant) & (df["outcome"] != "no reference")]
        ok = group[group["status"] == "ok"]
        counts = group["outcome"].value_counts()
        worst = group.loc[group["change"].idxmin()] if group["change"].notna().any() else None
        n = len(group)
        good = int(counts.get("beats", 0) + counts.get("ties", 0))
        rows.append({
            "variant": variant, "datasets": n, "beats": int(counts.get("beats", 0)),
            "ties": int(counts.get("ties", 0)), "loses": int(counts.get("loses", 0)),
            "failed": int(counts.get("failed", 0)), "at_least_as_good": good / n if n else math.nan,
            "worst_change": float(worst["change"]) if worst is not None else math.nan,
            "worst_dataset": str(worst["dataset"]) if worst is not None else "",
            "mean_change": float(ok["change"].mean()) if len(ok) else math.nan,
            "mean_predict_ms_per_1k": float(ok["predict_time_per_1k"].mean() * 1000) if len(ok) else math.nan,
            "median_predict_ms_per_1k": float(ok["predict_time_per_1k"].median() * 1000) if len(ok) else math.nan,
            "mean_size_mb": float(ok["model_size_bytes"].mean() / 2**20) if len(ok) else math.nan,
            "mean_members": float(ok["n_members"].mean()) if len(ok) else math.nan,
        })
    return pd.DataFrame(rows)


def target_verdict(summary: pd.DataFrame) -> dict[str, Any]:
    row = summary.set_index("variant").loc["selection"]
    met = bool(row["datasets"] > 0 and row["at_least_as_good"] >= TARGET_SHARE and row["worst_change"] >= TARGET_WORST)
    return {"at_least_as_good": row["at_least_as_good"], "worst_change": row["worst_change"],
            "worst_dataset": row["worst_dataset"], "datasets": int(row["datasets"]), "met": met}


def _pct(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value * 100:+.2f} %"


def seed_means(records: list[dict[str, Any]], seeds: list[int]) -> list[dict[str, Any]]:
    """One record per (dataset, variant): test metric and costs averaged over ``seeds``.

    A single split's test rows decide a near-zero log loss by a handful of rows (shuttle swung from +47 % to
    −63 % between seeds), so the comparison is also made on the mean over seeds. Only datasets that every
    seed finished count; a variant that failed on any seed fails.
    """
    by_key: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for r in latest(records).values():
        by_key.setdefault((r["dataset"], r["system"]), {})[int(r["seed"])] = r
    incomplete = {d for (d, _), per_seed in by_key.items() if not set(per_seed) >= set(seeds)}
    label = "+".join(map(str, seeds))
    averaged = []
    for (dataset, _), per_seed in by_key.items():
        if dataset in incomplete:
            continue
        runs = [per_seed[s] for s in seeds]
        mean = dict(runs[0], seed=label, info={**(runs[0].get("info") or {}), "n_members": float(np.mean(
            [(r.get("info") or {}).get("n_members", math.nan) for r in runs]))})
        if any(r["status"] != "ok" for r in runs):
            mean.update(status="failed", reason=next(r["reason"] for r in runs if r["status"] != "ok"))
        else:
            for key in (mean["metric"], "score", "predict_time_per_1k", "model_size_bytes", "fit_time"):
                mean[key] = float(np.mean([r.get(key, math.nan) for r in runs]))
        averaged.append(mean)
    return averaged


def write_report(out: Path, budget: float, seeds: list[int], tol: float = TIE_TOLERANCE,
                 sources: Sequence[Path] = ()) -> str:
    """``report.md``, ``ensemble.csv`` and ``ensemble.json`` from ``results.jsonl`` (of ``out`` and of the
    ``sources`` folders); with several seeds, per dataset on the mean over seeds. Returns the Markdown."""
    records = [r for folder in (out, *sources) for r in read_results(folder / "results.jsonl")
               if float(r.get("budget", -1)) == float(budget) and int(r.get("seed", -1)) in seeds]
    if len(seeds) > 1:
        records = seed_means(records, list(seeds))
    seed = ", ".join(map(str, seeds)) + (" (test metric averaged over the seeds per dataset)" if len(seeds) > 1 else "")
    df = comparison_frame(records, tol)
    if df.empty:
        text = f"# Ensembles vs the best single model\n\nNo results for budget {budget:g} s, seed {seed} yet.\n"
        (out / "report.md").write_text(text)
        return text
    summary = summarize(df)
    verdict = target_verdict(summary)
    table = summary.assign(
        at_least_as_good=[f"{v:.0%}" if math.isfinite(v) else "–" for v in summary["at_least_as_good"]],
        worst_change=[f"{_pct(c)} ({d})" if d else "–" for c, d in zip(summary["worst_change"],
                                                                         summary["worst_dataset"])],
        mean_change=summary["mean_change"].map(_pct),
    ).drop(columns="worst_dataset").astype(object)
    table.loc[table["variant"] == "single", ["beats", "ties", "loses", "at_least_as_good", "worst_change",
                                             "mean_change"]] = "(reference)"
    values = df.pivot_table(index="dataset", columns="system", values="value", aggfunc="first", dropna=False)
    changes = df.pivot_table(index="dataset", columns="system", values="change", aggfunc="first", dropna=False)
    per = pd.DataFrame({"metric": df.groupby("dataset")["metric"].first()})
    for v in VARIANTS:
        val = values.get(v, pd.Series(math.nan, index=values.index))
        chg = changes.get(v, pd.Series(math.nan, index=values.index))
        per[v] = [f"{x:.4f}" + (f" ({_pct(c)})" if v != "single" and math.isfinite(c) else "")
                  if math.isfinite(x) else "failed" for x, c in zip(val, chg)]
    cost = df.assign(cell=[f"{t * 1e3:.1f} ms · {b / 2**20:.2f} MB · {m:g}" if s == "ok" else "failed"
                           for t, b, m, s in zip(df["predict_time_per_1k"].astype(float),
                                                 df["model_size_bytes"].astype(float), df["n_members"], df["status"])])
    cost = cost.pivot_table(index="dataset", columns="system", values="cell", aggfunc="first")
    cost = cost[[v for v in VARIANTS if v in cost]]
    first = df.drop_duplicates("dataset").set_index("dataset").get("info", pd.Series(dtype=object))
    checks = pd.DataFrame({"dataset": first.index,
                           "trials": [i.get("n_trials") if isinstance(i, dict) else None for i in first],
                           "candidates": [i.get("n_candidates") if isinstance(i, dict) else None for i in first],
                           "selection replayed": [i.get("selection_replayed") if isinstance(i, dict) else None
                                                  for i in first],
                           "selection refit failures": [i.get("selection_refit_failures") if isinstance(i, dict)
                                                        else None for i in first]})
    files = ", ".join(f"`{folder / 'results.jsonl'}`" for folder in (out, *sources)
                      if (folder / "results.jsonl").exists())
    lines = [
        "# Ensembles vs the best single model", "",
        f"Budget {budget:g} s per search, seed {seed}, {df['dataset'].nunique()} dataset(s) "
        f"({files}). One search per dataset (`ensemble=\"selection\"`); `single` and the "
        "stacking variants are built from its stored validation predictions (see `benchmarks/ensemble.py`).", "",
        f"Change = relative difference of the test metric to the best single model, positive = better (AUC "
        f"higher, log loss / RMSE lower); beats / ties / loses at a tolerance of {tol:.1%}; failures lose.", "",
        f"**Target** (selection at least as good on ≥ {TARGET_SHARE:.0%} of datasets, never more than "
        f"{-TARGET_WORST:.0%} worse): **{'met' if verdict['met'] else 'NOT met'}** — at least as good on "
        f"{verdict['at_least_as_good']:.0%} of {verdict['datasets']}, worst {_pct(verdict['worst_change'])} "
        f"({verdict['worst_dataset'] or '–'}).", "",
        "## Summary", "", markdown_table(table, digits=2), "",
        "## Test metric per dataset (change vs single)", "",
        "AUC (binary, higher is better), log loss (multiclass) and RMSE (regression, lower is better).", "",
        markdown_table(per.reset_index(), digits=4), "",
        "## Prediction time per 1,000 rows · pickled size · distinct members", "",
        markdown_table(cost.reset_index(), digits=2), "",
        "## Search", "", markdown_table(checks), "",
    ]
    bad = df[df["status"] != "ok"]
    if len(bad):
        reasons = bad[["dataset", "system", "reason"]].copy()
        reasons["reason"] = reasons["reason"].fillna("").map(lambda r: r.splitlines()[0][:160] if r else "")
        lines += ["## Failures", "", markdown_table(reasons), ""]
    text = "\n".join(lines)
    (out / "report.md").write_text(text + "\n")
    columns = ["dataset", "task", "system", "status", "metric", "value", "single_value", "change", "outcome",
               "predict_time_per_1k", "model_size_bytes", "n_members", "fit_time", "constant_score", "n_train",
               "n_test", "reason"]
    df[[c for c in columns if c in df]].to_csv(out / "ensemble.csv", index=False)
    runs = out / "runs.jsonl"
    meta = json.loads(runs.read_text().splitlines()[-1]) if runs.exists() else {}
    (out / "ensemble.json").write_text(json.dumps(json_safe(
        {"budget": budget, "seeds": list(seeds), "tie_tolerance": tol, "target": verdict, "last_run": meta,
         "summary": summary.to_dict("records")}), indent=1) + "\n")
    return text


# -- command line --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, help="seconds per search (default 120; 15 with --quick)")
    p.add_argument("--suite", default="main20.txt", help="suite file (benchmarks/automl/suites/)")
    p.add_argument("--datasets", nargs="+", help="names, suite files or paths instead of --suite")
    p.add_argument("--data-root", type=Path, help="folder with index.csv (default ../shared/datasets)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--out", type=Path, help="default benchmarks/results/ensemble (-quick with --quick)")
    p.add_argument("--tie-tolerance", type=float, default=TIE_TOLERANCE, help="relative; default 0.001")
    p.add_argument("--retry-failed", action="store_true", help="redo datasets whose search failed")
    p.add_argument("--keep-runs", action="store_true", help="keep the run directories under OUT/raw/runs")
    p.add_argument("--fold-models", action="store_true",
                   help="search with refit=False: members are the averaged fold models (selection-refit refits them); "
                        "default refit='auto'")
    p.add_argument("--report-only", action="store_true", help="rebuild the report from results.jsonl")
    p.add_argument("--report-seeds", type=int, nargs="+",
                   help="with --report-only: compare on the mean over these seeds (default: --seed alone)")
    p.add_argument("--sources", type=Path, nargs="+", default=[],
                   help="with --report-only: more OUT folders whose results.jsonl is read too (other seeds' runs)")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_SUITE} (2 small datasets), {QUICK_BUDGET:g} s")
    args = p.parse_args(argv)
    if args.quick:
        args.budget = args.budget or QUICK_BUDGET
        args.datasets = args.datasets or [QUICK_SUITE]
    args.budget = args.budget or 120.0
    args.datasets = args.datasets or [args.suite]
    args.out = args.out or Path("benchmarks/results/ensemble" + ("-quick" if args.quick else ""))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        specs = ds.resolve(args.datasets, args.data_root)
        log = ResultsLog(args.out / "results.jsonl")
        final = tuple(s for s in FINAL if not (args.retry_failed and s == "failed"))
        finished = {(r["dataset"], r["system"]) for r in latest(read_results(log.path)).values()
                    if r.get("status") in final and float(r["budget"]) == args.budget and int(r["seed"]) == args.seed}
        done = {s.name for s in specs if all((s.name, v) in finished for v in VARIANTS)}
        todo = [s for s in specs if s.name not in done]
        record_run(args.out, sys.argv[1:] if argv is None else argv)
        print(f"{len(specs)} datasets, {len(specs) - len(todo)} done, {len(todo)} to run at {args.budget:g} s "
              f"-> {args.out}")
        start = time.perf_counter()
        for i, spec in enumerate(todo, 1):
            t0 = time.perf_counter()
            print(f"[{i}/{len(todo)}] {spec.name}", flush=True)
            records = run_dataset(spec, args)
            for record in records:
                log.append(record)  # a dataset counts as done once all its variants are written
            for r in records:
                what = f"{r['metric']}={r[r['metric']]:.4f}" if r["status"] == "ok" else \
                    f"failed: {(r['reason'] or '').splitlines()[0][:100]}"
                cost = f", {r['predict_time_per_1k'] * 1e3:.1f} ms/1k rows, {r['model_size_bytes'] / 2**20:.2f} MB" \
                    if r["status"] == "ok" else ""
                print(f"      {r['system']:<20} {what}{cost}", flush=True)
            info = records[0].get("info") or {}
            print(f"    done in {time.perf_counter() - t0:.0f} s (search {info.get('fit_time', math.nan):.0f} s, "
                  f"{info.get('n_trials', 0)} trials, {info.get('n_candidates', 0)} candidates, post hoc "
                  f"{info.get('posthoc_seconds', math.nan):.0f} s)", flush=True)
        print(f"{len(todo)} datasets in {time.perf_counter() - start:.0f} s")
    print(write_report(args.out, args.budget, args.report_seeds or [args.seed], args.tie_tolerance, args.sources))
    print(f"report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
