"""The results file: one JSON line per (system, dataset, seed, fold, budget), appended and fsynced.

Why a JSON-lines log rather than a table written at the end: a benchmark runs for hours, and a crash,
a kill or a reboot must not lose what already finished. Every line is written with one ``write`` and
fsynced before the next run starts; a line cut short by a kill is skipped when reading (and the next
append starts on a fresh line), and a rerun skips every key already recorded as finished.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from autolearn.report.serialize import json_safe

# Statuses that end a (system, dataset, seed, fold): a rerun does not redo them. "not_installed" is not
# final: once the peer's venv exists, a rerun runs it.
FINAL = ("ok", "failed", "timeout")
STATUSES = FINAL + ("not_installed",)
Key = tuple[str, str, int, int, float]


def result_key(record: dict[str, Any]) -> Key:
    """What identifies one run: the same key in two lines means the later line replaces the earlier."""
    return (str(record["system"]), str(record["dataset"]), int(record["seed"]), int(record["fold"]),
            float(record["budget"]))


def utc_now() -> str:
    """A record's timestamp: UTC, to the second, ISO 8601."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def parse_utc(text: str) -> dt.datetime:
    """An ISO 8601 time; without a zone it is UTC, as the records' timestamps are."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def new_record(system: str, dataset: str, seed: int, budget: float, cores: int) -> dict[str, Any]:
    """The start of one run's record: its key, the autolearn version and the start time, status
    ``failed`` until the run says otherwise."""
    import autolearn

    return {"version": autolearn.__version__, "system": system, "dataset": dataset, "seed": seed, "fold": 0,
            "budget": float(budget), "cores": cores, "started_at": utc_now(), "status": "failed", "reason": ""}


def read_results(path: Path) -> list[dict[str, Any]]:
    """Every complete line of ``path`` (a line cut short by a kill is skipped with a warning)."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            print(f"warning: {path}:{n} is not a complete JSON line (a killed write?); skipped", file=sys.stderr)
    return records


def latest(records: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """The last record of each key (a rerun of a failed or not-installed run replaces it)."""
    return {result_key(r): r for r in records}


class ResultsLog:
    """Append-only, crash-safe writer of ``results.jsonl``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def done(self, retry: tuple[str, ...] = (), redo_before: str | None = None) -> set[Key]:
        """Keys a rerun skips: finished runs, except those whose status is in ``retry`` and those started
        before ``redo_before`` (an ISO 8601 time: the runs made before a change to the system; the new
        records come later, so a resumed redo with the same time skips them)."""
        before = None if redo_before is None else parse_utc(redo_before)
        return {k for k, r in latest(read_results(self.path)).items()
                if r.get("status") in FINAL and r.get("status") not in retry
                and (before is None or parse_utc(str(r.get("started_at") or "1970-01-01T00:00:00")) >= before)}

    def append(self, record: dict[str, Any]) -> None:
        """Write one line and fsync it, starting a new line if a killed write left one unfinished."""
        line = json.dumps(json_safe(record), sort_keys=False) + "\n"
        with open(self.path, "a+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = "\n" + line
            fh.write(line.encode())
            fh.flush()
            os.fsync(fh.fileno())
