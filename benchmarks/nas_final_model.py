"""After a cross-validated network search, which network to return: one refit or the fold networks averaged?

    python benchmarks/nas_final_model.py --seeds 0 1 2 --out benchmarks/results/nas-final-model

``autolearn.nas.search`` ranks architectures by k-fold CV under 5,000 rows, training one network per
fold with early stopping on that fold. It can then return either (a) one network of the winning
architecture refitted on all training rows for the folds' mean best epoch (no early stopping: no rows are
left to watch), or (b) the k fold networks it already trained, averaged. This isolates that choice from the
search: on the ``suites/nas.txt`` datasets that get CV (under 5,000 training rows), for each seed, on the
NAS benchmark's seeded 75/25 split, the *default* architecture is trained per fold exactly as a search
trial does (``NASObjective``: same splits, epochs, patience, validation loss), and the test metric of

* ``refit``: the refit of (a), as ``search(refit=True)`` does;
* ``average``: the fold networks averaged, (b), as ``search(refit="auto")`` does after CV;
* ``fold0``: the first fold's network alone (what ``search`` returned without a refit before (b)).

Output in ``--out``: ``results.jsonl`` (one line per dataset × seed; a rerun skips finished ones),
``report.md`` (per dataset: mean metric over seeds; wins of ``average`` over ``refit``). About 1-2 min
per dataset and seed on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.automl import datasets as ds  # noqa: E402
from benchmarks.automl.metrics import HIGHER_IS_BETTER, MAIN_METRIC, n_classes, relative_change, score_model  # noqa: E402
from benchmarks.automl.report import markdown_table  # noqa: E402
from benchmarks.automl.splits import encode_target, load_or_make_splits  # noqa: E402

FINALS = ("refit", "average", "fold0")


def run_one(spec: ds.DatasetSpec, seed: int, max_epochs: int, out: Path) -> dict | None:
    """The three final models of the default architecture on one split; None when the split is not CV."""
    from autolearn.ensemble.fold_average import FoldAverage
    from autolearn.evaluation.metrics import get_metric
    from autolearn.evaluation.resampling import make_splits, resolve_resampling
    from autolearn.nas.estimators import estimator_for
    from autolearn.nas.objective import NASObjective

    data = ds.load(spec)
    y, _ = encode_target(data.y, data.task)
    (split,) = load_or_make_splits(out / "raw" / "splits" / spec.name / f"seed{seed}.npz", spec.name, data.y,
                                   data.task, seed, 1)
    X_tr, y_tr, X_te, y_te = data.X.iloc[split.train], y[split.train], data.X.iloc[split.test], y[split.test]
    plan = resolve_resampling("auto", len(y_tr))
    if plan.kind != "cv":
        return None
    metric, cls = get_metric(None, data.task), estimator_for(data.task)
    start, networks = time.monotonic(), []
    for train, valid in make_splits(y_tr, data.task, plan, seed):
        net = cls(None, epochs=max_epochs, seed=seed, patience=NASObjective.patience)
        net.fit(X_tr.iloc[train], y_tr[train], eval_set=(X_tr.iloc[valid], y_tr[valid]),
                eval_loss=lambda t, p: metric.loss(t, p))
        networks.append(net)
    folds_seconds = time.monotonic() - start
    best_epoch = max(1, round(float(np.mean([n.best_epoch_ for n in networks]))))
    start = time.monotonic()
    refit = cls(None, epochs=best_epoch, seed=seed, early_stopping=False).fit(X_tr, y_tr)
    refit_seconds = time.monotonic() - start
    name, k = MAIN_METRIC[data.task], n_classes(data.task, y)
    models = {"refit": refit, "average": FoldAverage(networks), "fold0": networks[0]}
    return {"dataset": spec.name, "seed": seed, "task": data.task, "metric": name, "n_train": len(y_tr),
            "best_epoch": best_epoch, "folds_seconds": folds_seconds, "refit_seconds": refit_seconds,
            **{final: score_model(data.task, m, X_te, y_te, k)[name] for final, m in models.items()}}


def report(records: list[dict]) -> str:
    frame = pd.DataFrame(records)
    means = frame.groupby(["dataset", "metric"])[list(FINALS)].mean().reset_index()
    means["average vs refit"] = [relative_change(a, r, HIGHER_IS_BETTER[m])
                                 for a, r, m in zip(means["average"], means["refit"], means["metric"])]
    wins = int((means["average vs refit"] > 0).sum())
    seeds = frame.groupby("dataset")["seed"].nunique()
    table = means.assign(seeds=means["dataset"].map(seeds))
    table["average vs refit"] = table["average vs refit"].map(lambda v: f"{100 * v:+.2f} %")
    return "\n".join([
        "# The default network after CV: one refit vs the fold networks averaged", "",
        "Test metric, mean over seeds (AUC higher, log loss and RMSE lower is better).", "",
        markdown_table(table.round(4)), "",
        f"average better than refit on {wins} of {len(means)} datasets", ""])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["nas.txt"], help="names or suite files (benchmarks/automl/suites/)")
    p.add_argument("--data-root", type=Path)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--max-epochs", type=int, default=50)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/nas-final-model"))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "results.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    done = {(r["dataset"], r["seed"]) for r in records}
    import torch

    torch.set_num_threads(1)  # as a search trial in its worker
    for seed in args.seeds:
        for spec in ds.resolve(args.datasets, args.data_root):
            if (spec.name, seed) in done:
                continue
            record = run_one(spec, seed, args.max_epochs, args.out)
            if record is None:
                continue
            print({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}, flush=True)
            records.append(record)
            with open(path, "a") as fh:
                fh.write(json.dumps(record) + "\n")
    text = report(records)
    (args.out / "report.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
