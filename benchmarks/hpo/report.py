"""Turn the results logs into regret tables, ranks, plots and ``report.md``.

    python -m benchmarks.hpo.report benchmarks/results/hpo

Definitions (the tests check them on hand-made records):

* regret after k evaluations = best loss among the first k - reference, clipped at 0; the reference
  is the task's known optimum (synthetic) or the best loss any optimizer found on it (real tasks);
* final regret = regret after the last evaluation; mean over seeds, with its standard error;
* rank: on each (task, seed) the optimizers that ran it are ranked by final regret (1 = best, ties
  share the average rank); a task's mean rank averages over its seeds, and the overall mean rank
  averages the task mean ranks over the tasks an optimizer ran.

Why ranks next to regrets: regrets of different tasks live on different scales (Rosenbrock's reach
10^3, Hartmann's 10^-3), so only ranks can be averaged across tasks.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from benchmarks.hpo.run import read_records

REGRET_FLOOR = 1e-10  # plotted in place of 0 on log axes
Curves = dict[str, dict[str, dict[int, np.ndarray]]]  # task -> optimizer -> seed -> regret per evaluation


def known_optima() -> dict[str, float]:
    """Optima of the synthetic tasks as the code defines them now (older logs may hold rounder ones)."""
    from benchmarks.hpo.functions import synthetic_tasks

    return {name: float(t.optimum) for name, t in synthetic_tasks().items() if t.optimum is not None}


def usable(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Finished runs only; a later line for the same (task, optimizer, seed, n_evals) replaces an earlier one."""
    latest: dict[tuple, dict[str, Any]] = {}
    for r in records:
        if r.get("status") == "ok" and r.get("losses"):
            latest[(r["task"], r["optimizer"], int(r["seed"]), int(r["n_evals"]))] = r
    return list(latest.values())


def references(records: list[dict[str, Any]], optima: dict[str, float] | None = None) -> dict[str, float]:
    """Per task: the known optimum, else the best loss seen by any optimizer in any seed."""
    optima = {} if optima is None else optima
    ref: dict[str, float] = {}
    for r in records:
        known = optima.get(r["task"], r.get("optimum"))
        if known is not None:
            ref[r["task"]] = float(known)
        else:
            ref[r["task"]] = min(ref.get(r["task"], math.inf), min(r["losses"]))
    return ref


def regret_curve(losses: Iterable[float], reference: float) -> np.ndarray:
    return np.maximum(np.minimum.accumulate(np.asarray(list(losses), dtype=float)) - reference, 0.0)


def curves(records: list[dict[str, Any]], refs: dict[str, float]) -> Curves:
    out: Curves = defaultdict(lambda: defaultdict(dict))
    for r in records:
        out[r["task"]][r["optimizer"]][int(r["seed"])] = regret_curve(r["losses"], refs[r["task"]])
    return out


def final_regrets(c: Curves) -> dict[str, dict[str, dict[int, float]]]:
    return {t: {o: {s: float(v[-1]) for s, v in seeds.items()} for o, seeds in opts.items()} for t, opts in c.items()}


def mean_ranks(final: dict[str, dict[str, dict[int, float]]]) -> dict[str, dict[str, float]]:
    """Per task, each optimizer's rank by final regret averaged over seeds (ranked among those that ran the seed)."""
    out: dict[str, dict[str, float]] = {}
    for task, opts in final.items():
        per_opt: dict[str, list[float]] = defaultdict(list)
        for seed in sorted({s for seeds in opts.values() for s in seeds}):
            names = [o for o in opts if seed in opts[o]]
            for name, rank in zip(names, rankdata([opts[o][seed] for o in names], method="average")):
                per_opt[name].append(float(rank))
        out[task] = {o: float(np.mean(v)) for o, v in per_opt.items()}
    return out


def complete(final: dict[str, dict[str, dict[int, float]]]) -> dict[str, dict[str, dict[int, float]]]:
    """Per task, only the optimizers that ran as many seeds as the most-run one (fewer seeds: no fair rank)."""
    out = {}
    for task, opts in final.items():
        most = max(len(seeds) for seeds in opts.values())
        out[task] = {o: seeds for o, seeds in opts.items() if len(seeds) == most}
    return out


def overall_ranks(ranks: dict[str, dict[str, float]], tasks: Iterable[str]) -> dict[str, tuple[float, int]]:
    """Mean of the task mean ranks over ``tasks`` the optimizer ran, with the number of such tasks."""
    got: dict[str, list[float]] = defaultdict(list)
    for task in tasks:
        for opt, rank in ranks.get(task, {}).items():
            got[opt].append(rank)
    return {o: (float(np.mean(v)), len(v)) for o, v in got.items()}


def head_to_head(final: dict[str, dict[str, dict[int, float]]], a: str, b: str,
                 tasks: Iterable[str]) -> tuple[int, int, int]:
    """(wins, losses, pairs) of ``a`` against ``b`` by final regret over the (task, seed) pairs both ran."""
    wins = losses = pairs = 0
    for task in tasks:
        ra, rb = final.get(task, {}).get(a, {}), final.get(task, {}).get(b, {})
        for seed in set(ra) & set(rb):
            pairs += 1
            wins += ra[seed] < rb[seed]
            losses += ra[seed] > rb[seed]
    return wins, losses, pairs


def mean_stderr(values: Iterable[float]) -> tuple[float, float]:
    v = np.asarray(list(values), dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0


def plot_task(task: str, c: dict[str, dict[int, np.ndarray]], path: Path, reference: float, kind: str) -> None:
    """Mean regret +- standard error over seeds against evaluations, log y."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.8))
    ours = ("tpe", "rf", "gp")
    for i, (opt, seeds) in enumerate(sorted(c.items())):
        n = min(len(v) for v in seeds.values())
        A = np.vstack([v[:n] for v in seeds.values()])
        mean = A.mean(axis=0)
        se = A.std(axis=0, ddof=1) / math.sqrt(len(A)) if len(A) > 1 else np.zeros(n)
        x = np.arange(1, n + 1)
        style = "--" if "_" in opt else "-"  # peers are named library_algorithm
        (line,) = ax.plot(x, np.maximum(mean, REGRET_FLOOR), style, lw=2.2 if opt in ours else 1.3,
                          color=plt.cm.tab10(i % 10) if i < 10 else plt.cm.Dark2(i % 8), label=f"{opt} (n={len(A)})")
        ax.fill_between(x, np.maximum(mean - se, REGRET_FLOOR), np.maximum(mean + se, REGRET_FLOOR),
                        color=line.get_color(), alpha=0.12)
    ax.set_yscale("log")
    ax.set_xlabel("evaluations")
    what = f"optimum {reference:.6g}" if kind == "synthetic" else f"best seen {reference:.6g}"
    ax.set_ylabel(f"regret (loss - {what})")
    ax.set_title(f"{task}: mean regret ± stderr over seeds")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="solid: ours (tpe/rf/gp bold)\ndashed: peers",
              title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def _wl(result: tuple[int, int, int]) -> str:
    return f"{result[0]}–{result[1]}" if result[2] else "–"


def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.3g}"


def overhead_at(records: list[dict[str, Any]], lo: int = 90, hi: int = 100) -> dict[str, float]:
    """Median over runs of the mean ms per ask for evaluations lo..hi (1-based) in the benchmark runs."""
    got: dict[str, list[float]] = defaultdict(list)
    for r in records:
        ms = r.get("overhead_ms") or []
        if len(ms) >= hi:
            got[r["optimizer"]].append(float(np.mean(ms[lo - 1:hi])))
    return {o: float(np.median(v)) for o, v in got.items()}


def verdict(overall: dict[str, dict[str, tuple[float, int]]], family: dict[str, str]) -> str:
    """Which of our optimizers ranks best, and where autolearn's two defaults stand (the issue's target)."""
    import inspect

    from autolearn.strategy import AUTO_OPTIMIZER
    from autolearn.tune import create_study

    study_default = inspect.signature(create_study).parameters["optimizer"].default
    lines = []
    for group in ("all", "synthetic", "real"):
        ranked = sorted(overall[group].items(), key=lambda kv: kv[1][0])
        if not ranked:
            continue
        ours = [o for o, _ in ranked if family.get(o) == "autolearn"]
        place = {o: i + 1 for i, (o, _) in enumerate(ranked)}
        defaults = ", ".join(f"{d} ({why}) is #{place[d]} ({overall[group][d][0]:.2f})"
                             for d, why in ((study_default, "create_study default"), (AUTO_OPTIMIZER, "AutoML 'auto'"))
                             if d in place)
        lines.append(f"- {group}: best overall {ranked[0][0]} ({ranked[0][1][0]:.2f}); best of ours "
                     f"{ours[0] if ours else '–'}; {defaults}.")
    return "\n".join(lines)


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("autolearn", "optuna", "smac", "hyperopt", "ConfigSpace", "scikit-learn", "lightgbm", "torch"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def build(out: Path) -> str:
    """Write summary.csv, one PNG per task and report.md under ``out``; return the Markdown."""
    raw = read_records(out)
    records = usable(raw)
    if not records:
        raise SystemExit(f"no finished runs in {out}")
    kinds = {r["task"]: r["kind"] for r in records}
    refs = references(records, known_optima())
    c = curves(records, refs)
    final = final_regrets(c)
    full = complete(final)
    ranks = mean_ranks(full)  # the ranking: optimizers that ran every seed of the task
    ranks_any = mean_ranks(final)  # for the others: their rank on the seeds they ran, among everyone there
    tasks = sorted(c, key=lambda t: (kinds[t] != "synthetic", t))
    opts = sorted({o for t in c for o in c[t]})
    groups = {"synthetic": [t for t in tasks if kinds[t] == "synthetic"], "real": [t for t in tasks if kinds[t] == "real"]}
    groups["all"] = tasks
    overall = {g: overall_ranks(ranks, ts) for g, ts in groups.items()}
    ovh = overhead_at(records)
    order = sorted(opts, key=lambda o: overall["all"].get(o, (99, 0))[0])

    csv = ["task,kind,optimizer,n_seeds,mean_final_regret,stderr,mean_rank,overhead_ms_evals_90_100"]  # partial: rank_any
    for t in tasks:
        task_ovh = overhead_at([r for r in records if r["task"] == t])
        for o in sorted(c[t]):
            m, se = mean_stderr(final[t][o].values())
            rank = ranks[t].get(o, ranks_any[t][o])
            csv.append(f"{t},{kinds[t]},{o},{len(final[t][o])},{m:.6g},{se:.3g},{rank:.3f},"
                       f"{task_ovh.get(o, float('nan')):.2f}")
    (out / "summary.csv").write_text("\n".join(csv) + "\n")
    for t in tasks:
        plot_task(t, c[t], out / f"regret_{t}.png", refs[t], kinds[t])

    md = ["# HPO benchmark results", ""]
    n_evals = sorted({int(r["n_evals"]) for r in records})
    md += [f"Evaluations per run: {', '.join(map(str, n_evals))}. Regret = best loss so far − reference (known "
           "optimum for synthetic tasks, best loss any optimizer found for real tasks). Rank: per (task, seed) among "
           "the optimizers that ran it, 1 = best, then averaged over seeds; overall = mean of task mean ranks over the "
           "tasks an optimizer ran (the count is in brackets).", ""]
    md += [f"Versions: {versions()}.", ""]
    notes = out / "notes.md"  # hand-written: the exact commands, what was (not) run and why
    if notes.exists():
        md += [notes.read_text().strip(), ""]
    md += ["## Mean rank (lower is better)", ""]
    header = ["optimizer", "all tasks", "synthetic", "real",
              "ms/ask at evals 90-100 (median run; machine load varied, compare in the overhead table)"]
    rows = []
    for o in order:
        cells = [o]
        for g in ("all", "synthetic", "real"):
            v = overall[g].get(o)
            cells.append(f"{v[0]:.2f} [{v[1]}]" if v else "–")
        cells.append(f"{ovh[o]:.1f}" if o in ovh else "–")
        rows.append(cells)
    md += [_table(header, rows), ""]
    md += [verdict(overall, {r["optimizer"]: r.get("family", "") for r in records}), ""]
    ours = [o for o in ("tpe", "rf", "gp") if o in opts]
    if ours:
        rivals = [o for o in order if o not in ("random", "sobol") or o in ours]
        md += ["## Head to head: wins–losses by final regret over (task, seed) pairs, synthetic / real", ""]
        md += [_table(["ours \\ vs"] + [o for o in rivals], [
            [a] + ["–" if a == b else " / ".join(_wl(head_to_head(final, a, b, groups[g])) for g in ("synthetic", "real"))
                   for b in rivals]
            for a in ours]), ""]
    md += ["## Mean rank per task", ""]
    def cell(t: str, o: str) -> str:
        if o in ranks[t]:
            return f"{ranks[t][o]:.2f}"
        return f"({ranks_any[t][o]:.2f}, {len(final[t][o])} seeds)" if o in ranks_any[t] else "–"

    md += [_table(["optimizer"] + tasks, [[o] + [cell(t, o) for t in tasks] for o in order]), ""]
    if any(o not in ranks[t] for t in tasks for o in final[t]):
        md += ["In brackets: optimizers that ran fewer seeds than the others on that task. They are left out of the "
               "ranking above (and of the overall mean ranks); the bracket gives their rank on their own seeds among "
               "all optimizers that ran those seeds.", ""]
    md += ["## Mean final regret ± stderr per task (n seeds)", ""]
    rows = []
    for o in order:
        row = [o]
        for t in tasks:
            if o in final[t]:
                m, se = mean_stderr(final[t][o].values())
                row.append(f"{_fmt(m)} ± {_fmt(se)} ({len(final[t][o])})")
            else:
                row.append("–")
        rows.append(row)
    md += [_table(["optimizer"] + tasks, rows), ""]
    md += ["References: " + ", ".join(f"{t} {refs[t]:.8g}" for t in tasks), ""]
    missing = sorted({(r["optimizer"], r["status"], r.get("reason", "")) for r in raw if r.get("status") != "ok"})
    if missing:
        md += ["## Runs that did not happen", ""]
        md += [f"- {o}: {s} — {reason}" for o, s, reason in missing] + [""]
    ov = out / "overhead.json"
    if ov.exists():
        from benchmarks.hpo.overhead import markdown as overhead_markdown

        md += ["## Optimizer overhead (overhead.py)", "", overhead_markdown(json.loads(ov.read_text())), ""]
    md += ["## Plots", ""] + [f"![{t}](regret_{t}.png)" for t in tasks] + [""]
    text = "\n".join(md)
    (out / "report.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="benchmarks/results/hpo")
    args = parser.parse_args(argv)
    print(build(Path(args.out)))


if __name__ == "__main__":
    main()
