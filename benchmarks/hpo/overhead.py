"""The optimizers' own cost per ask at 100 and at 500 trials, on a 10-dimensional mixed space.

    python -m benchmarks.hpo.overhead --out benchmarks/results/hpo

Why a separate measurement: in the regret benchmark the objective is real work and 100 trials is the
end of the run, but AutoML searches go to several hundred trials, where a model-based optimizer's
cost (a GP is cubic in the trials) can exceed a cheap trial's. Here the objective costs microseconds,
so the time between the end of one evaluation and the start of the next is the optimizer's alone
(its tell of the previous result plus its ask, and the adapter's glue). The same stop-watch serves
every library, including Hyperopt, which has no ask/tell. We report the mean over asks 90-110 and
490-510 (1-based), so 510 asks are run; an optimizer that would take longer than ``--cap`` seconds is
stopped and its late window reported as not reached.

Our optimizers are measured as users drive them (``create_study().ask()/tell()``, in-memory storage)
and, with ``NAME@raw``, as bare ``Optimizer.ask/tell`` calls, which tells the optimizer's cost from the
study's bookkeeping.

CMA-ES cannot take the categoricals; it is measured on a 10-dim all-numeric space instead (marked).
Timings are wall-clock on whatever else the machine runs: the load average is recorded with them.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from collections.abc import Mapping  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer  # noqa: E402

from benchmarks.hpo.functions import Task  # noqa: E402
from benchmarks.hpo.runners import OURS_DEFAULT, PEERS, Adapter, adapters  # noqa: E402

N_ASKS = 510
WINDOWS = {"ms_asks_90_110": (90, 110), "ms_asks_490_510": (490, 510)}


def overhead_space(numeric_only: bool = False) -> ConfigurationSpace:
    """10 hyperparameters: 4 floats (2 log), 3 integers (2 log), 3 categoricals (or 3 more floats)."""
    cs = ConfigurationSpace(seed=0)
    cs.add([Float("lr", (1e-4, 1.0), log=True), Float("momentum", (0.0, 1.0)), Float("dropout", (0.0, 0.8)),
            Float("weight_decay", (1e-6, 1e-1), log=True), Integer("layers", (1, 8)),
            Integer("units", (8, 1024), log=True), Integer("batch", (16, 512), log=True)])
    if numeric_only:
        cs.add([Float("f1", (0.0, 1.0)), Float("f2", (0.0, 1.0)), Float("f3", (0.0, 1.0))])
    else:
        cs.add([Categorical("opt", ["adam", "sgd", "rmsprop"]),
                Categorical("activation", ["relu", "tanh", "gelu", "elu", "selu"]), Categorical("bn", ["yes", "no"])])
    return cs


def trivial(config: Mapping[str, Any]) -> float:
    """Cheap, but with a structure a model can learn (so model-based optimizers do their usual work)."""
    v = (math.log10(config["lr"]) + 2.5) ** 2 + (config["momentum"] - 0.9) ** 2 + config["dropout"] ** 2
    v += 0.1 * abs(int(config["layers"]) - 3) + 0.1 * abs(math.log2(int(config["units"])) - 7)
    v += 0.0 if config.get("opt", "adam") == "adam" else 0.5
    return float(v + 0.1 * sum(float(config.get(k, 0.3)) for k in ("f1", "f2", "f3")))


class _Stop(Exception):
    """Raised from the objective when the time cap is reached."""


RAW = "@raw"  # suffix: one of our optimizers driven directly (Optimizer.ask/tell), without Study and storage


def _raw(name: str) -> Adapter:
    """Why: ``Study.ask``/``tell`` add the storage's bookkeeping to the optimizer's own cost; driving the
    Optimizer directly (as the AutoML loop's scheduler does not, but a profile must) separates the two."""

    def run(task: Task, seed: int, n_evals: int) -> list[tuple[float, float]]:
        from autolearn.records import Status, TrialResult, TrialSpec
        from autolearn.tune.optimizers import make_optimizer

        opt = make_optimizer(name, task.space, seed=seed)
        for i in range(n_evals):
            suggestion = opt.ask([])
            assert suggestion is not None
            spec = TrialSpec(i, suggestion.config, suggestion.budget, origin=suggestion.origin)
            opt.tell(spec, TrialResult(i, Status.SUCCESS, (float(task.objective(suggestion.config)),)))
        return []

    return Adapter(name + RAW, run, "autolearn", continuous_only=name == "cmaes")


def measure(optimizer: str, seed: int = 0, n_asks: int = N_ASKS, cap: float = 900.0) -> dict[str, Any]:
    """Gaps between evaluations for one optimizer (ms), and the means over the report windows."""
    adapter = _raw(optimizer[: -len(RAW)]) if optimizer.endswith(RAW) else adapters()[optimizer]
    reason = adapter.unavailable()
    if reason:
        return {"optimizer": optimizer, "status": "not_installed", "note": reason}
    numeric = adapter.continuous_only
    task = Task("overhead", overhead_space(numeric_only=numeric), trivial, continuous=numeric)
    marks: list[tuple[float, float]] = []
    t0 = time.perf_counter()

    def objective(config: Mapping[str, Any]) -> float:
        start = time.perf_counter()
        if start - t0 > cap:
            raise _Stop
        value = trivial(config)
        marks.append((start, time.perf_counter()))
        return value

    timed = Task(task.name, task.space, objective, continuous=numeric)
    status = "ok"
    try:
        adapter.run(timed, seed, n_asks)
    except _Stop:
        status = f"stopped at the {cap:.0f} s cap"
    gaps = [1000 * (start - prev_end) for (start, _), (_, prev_end) in zip(marks[1:], marks[:-1])]
    gaps = [float("nan")] + gaps  # the first ask also pays for construction: not an ask-time sample
    out: dict[str, Any] = {"optimizer": optimizer, "status": status, "asks_done": len(marks),
                           "wall_s": round(time.perf_counter() - t0, 1),
                           "note": "10-dim all-numeric space (no categoricals for CMA-ES)" if numeric else ""}
    for key, (lo, hi) in WINDOWS.items():
        out[key] = round(float(np.mean(gaps[lo - 1:hi])), 2) if len(gaps) >= hi else None
    return out


def markdown(data: Mapping[str, Any]) -> str:
    """The overhead table as Markdown (also embedded in report.md)."""
    meta = data.get("_meta", {})
    lines = [f"Mean ms per ask (tell of the previous result + ask) over asks 90-110 and 490-510 on a 10-dim mixed "
             f"space with a trivial objective; wall-clock, measured {meta.get('date', '?')} with load average "
             f"{meta.get('loadavg', '?')} on {meta.get('cpus', '?')} cores (shared machine).", "",
             "| optimizer | ms/ask @100 | ms/ask @500 | < 50 ms @500 | note |", "|---|---|---|---|---|"]
    for name, row in data.items():
        if name.startswith("_"):
            continue
        late = row.get("ms_asks_490_510")
        ok = "–" if late is None else ("yes" if late < 50 else "no")
        note = "; ".join(x for x in (row.get("note", ""), "" if row["status"] == "ok" else row["status"]) if x)
        early = row.get("ms_asks_90_110")
        lines.append(f"| {name} | {'–' if early is None else early} | {'not reached' if late is None else late} "
                     f"| {ok} | {note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--optimizers", nargs="+", default=list(OURS_DEFAULT) + list(PEERS))
    parser.add_argument("--out", default="benchmarks/results/hpo")
    parser.add_argument("--cap", type=float, default=900.0, help="seconds per optimizer before it is stopped")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "overhead.json"
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    from threadpoolctl import threadpool_limits

    if "optuna_gp" in args.optimizers:
        import torch

        torch.set_num_threads(1)
    for name in args.optimizers:
        with threadpool_limits(1):
            data[name] = measure(name, args.seed, cap=args.cap)
        data["_meta"] = {"date": dt.datetime.now().isoformat(timespec="minutes"), "cpus": os.cpu_count(),
                         "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg())}
        path.write_text(json.dumps(data, indent=1))  # after every optimizer: a kill keeps what is measured
        print(json.dumps(data[name]), flush=True)
    print(markdown(data))


if __name__ == "__main__":
    main()
