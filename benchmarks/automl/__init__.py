"""Measure autolearn against AutoML peers the way the AutoML Benchmark (AMLB) does.

One command runs systems × datasets × seeds/folds at one budget (``python -m benchmarks.automl.run``),
appending one JSON line per finished run to ``results.jsonl``; ``aggregate`` turns those lines into
normalized scores, ranks and win/tie/loss counts, and ``report`` writes ``report.md`` and plots.

Layout (a run's journey): ``datasets`` (resolve names, load, drop missing targets) → ``splits``
(seeded stratified folds, saved; Parquet task files every system reads) → ``systems`` (in-process
baselines, or a runner script in a peer's own venv, watched and hard-killed by ``systems.external``)
→ ``metrics`` → ``results`` (append + fsync) → ``aggregate`` → ``report``.
"""
