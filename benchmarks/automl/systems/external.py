"""A system run as a separate process: a runner script under a given Python (a peer's own venv).

Why a process per run: peers need conflicting libraries (their own venvs), an AutoML system may
overrun its budget, hang, leak worker processes or exhaust memory, and none of that may take the
harness down or spill into the next run. The harness starts the runner in its own session, polls the
whole process tree's memory with psutil, and kills the tree at the hard limit (2× budget + 60 s).

Runner protocol (``benchmarks/automl/runners/``): ``python RUNNER --task-dir D --out-dir O --budget B
--cores C --seed S --options JSON`` reads ``D/train.parquet`` and ``D/test.parquet`` and writes
``O/result.json`` (status, classes, probabilities or predictions, timings, model size, version). A
missing or unreadable ``result.json`` after a non-zero exit is a failure with the exit code and the
end of the runner's log as its reason.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from benchmarks.automl.systems._base import MemoryPoller, RunContext, System, SystemOutput

RUNNERS_DIR = Path(__file__).resolve().parents[1] / "runners"
POLL_INTERVAL = 0.2


def kill_tree(proc: psutil.Process) -> None:
    """SIGKILL a runner and every descendant (H2O's JVM, worker pools) — only processes we started."""
    try:
        procs = [*proc.children(recursive=True), proc]
    except psutil.Error:
        procs = [proc]
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner leads its own session; catch stragglers
    except (ProcessLookupError, PermissionError, OSError):
        pass
    psutil.wait_procs(procs, timeout=10)


def log_tail(path: Path, n: int = 12) -> str:
    """The last ``n`` non-empty lines of a log, for a failure's reason."""
    try:
        lines = [line for line in Path(path).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return "\n".join(lines[-n:])


class ExternalSystem(System):
    """A runner script under ``python``; ``unavailable`` (if set) is why it cannot run at all."""

    def __init__(self, name: str, python: str | Path, script: str | Path, options: dict[str, Any] | None = None,
                 unavailable: str = "", env: dict[str, str] | None = None) -> None:
        super().__init__(name, options)
        self.python = str(python)
        self.script = str(script)
        self.unavailable = unavailable
        self.env = env or {}

    def command(self, ctx: RunContext) -> list[str]:
        # absolute: the runner starts in its own output folder, where a relative path means something else
        return [self.python, self.script, "--task-dir", str(Path(ctx.task_dir).resolve()),
                "--out-dir", str(Path(ctx.out_dir).resolve()),
                "--budget", repr(float(ctx.budget)), "--cores", str(ctx.cores), "--seed", str(ctx.seed),
                "--options", json.dumps(self.options)]

    def run(self, ctx: RunContext) -> SystemOutput:
        if self.unavailable:
            return SystemOutput(status="not_installed", reason=self.unavailable)
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        result_path = ctx.out_dir / "result.json"
        result_path.unlink(missing_ok=True)  # a stale result from a killed earlier attempt is not this run's
        log_path = ctx.out_dir / "log.txt"
        env = dict(os.environ, OMP_NUM_THREADS=str(ctx.cores), OPENBLAS_NUM_THREADS=str(ctx.cores),
                   MKL_NUM_THREADS=str(ctx.cores), PYTHONUNBUFFERED="1", **self.env)
        env.pop("PYTHONPATH", None)  # a peer venv must not import the harness's site-packages
        start = time.perf_counter()
        timed_out = False
        with open(log_path, "wb") as log:
            try:
                popen = subprocess.Popen(self.command(ctx), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                                         cwd=ctx.out_dir)
            except OSError as exc:
                return SystemOutput(status="failed", reason=f"could not start {self.python}: {exc}")
            memory = MemoryPoller(popen.pid, interval=POLL_INTERVAL)
            try:
                while popen.poll() is None:
                    memory.sample()
                    if time.perf_counter() - start > ctx.hard_limit:
                        timed_out = True
                        kill_tree(memory.proc)
                        break
                    time.sleep(POLL_INTERVAL)
            finally:
                if popen.poll() is None:  # the harness itself is being interrupted: leave no orphans
                    kill_tree(memory.proc)
                popen.wait()
                kill_tree(memory.proc)  # descendants the runner left behind (daemons, a JVM)
        wall = time.perf_counter() - start
        if timed_out:
            return SystemOutput(status="timeout", wall_time=wall, peak_memory_mb=memory.peak_mb,
                                reason=f"killed after {ctx.hard_limit:.0f} s (2 x budget + 60 s)")
        out = self._read_result(result_path, popen.returncode, log_path)
        out.wall_time, out.peak_memory_mb = wall, memory.peak_mb
        return out

    def _read_result(self, path: Path, returncode: int, log_path: Path) -> SystemOutput:
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            why = "no result.json" if isinstance(exc, OSError) else f"unreadable result.json ({exc})"
            return SystemOutput(status="failed", reason=f"runner exited with code {returncode}, {why}; "
                                f"log tail:\n{log_tail(log_path)}")
        status = raw.get("status", "failed")
        out = SystemOutput(status=status, reason=raw.get("reason", ""), version=raw.get("version", ""),
                           fit_time=_float(raw.get("fit_time")), predict_time=_float(raw.get("predict_time")),
                           model_size_bytes=_float(raw.get("model_size_bytes")),
                           model_size_reason=raw.get("model_size_reason", ""), info=raw.get("info", {}))
        if status == "ok":
            out.classes = raw.get("classes")
            if raw.get("probabilities") is not None:
                out.proba = np.asarray(raw["probabilities"], dtype=float)
            if raw.get("predictions") is not None:
                out.pred = np.asarray(raw["predictions"])
            if returncode != 0:
                out.info["exit_code"] = returncode  # predictions were written, then the runner crashed
        elif status == "failed" and not out.reason:
            out.reason = f"runner exited with code {returncode}; log tail:\n{log_tail(log_path)}"
        return out


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)
