"""Run objective calls in a child process that can be killed: the wall-time and memory limits of a
trial mean the same thing in every runner because they all go through :class:`IsolatedWorker`.

A worker is a long-lived child (started from a fork server with the heavy libraries preloaded, so a
restart costs milliseconds), which runs one call at a time and caches the objective it was sent.
When a call overruns its time, exceeds its memory or takes the interpreter down, the parent kills
the worker's whole process tree, records why, and the next call starts a fresh worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import cloudpickle
import psutil

from autolearn.records import Outcome, Status, TrialResult, TrialSpec

MEMORY_POLL_SECONDS = 0.05
STARTUP_TIMEOUT = 120.0  # seconds a new worker may take to import its libraries under load
_PRELOAD = ["numpy", "pandas", "scipy.sparse", "sklearn", "lightgbm", "autolearn.execution.isolation",
            "autolearn.evaluation.evaluate", "autolearn.pipeline"]


def _context() -> mp.context.BaseContext:
    # fork is unsafe once the parent has used OpenMP (LightGBM would hang in the child), spawn is slow;
    # a fork server forks clean single-threaded children with the libraries already imported.
    if sys.platform.startswith("linux"):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return mp.get_context("spawn")


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start children without re-running the user's script: forkserver and spawn import ``__main__``
    in the child, which breaks scripts without an ``if __name__ == "__main__"`` guard. Objectives
    travel by value (cloudpickle), so the child never needs the user's main module."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    # OpenMP reads its wait policy once, when the fork server loads it: threads that sleep instead of
    # spinning keep two workers (or a busy machine) from slowing each other's LightGBM tenfold
    policy = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = policy or "PASSIVE"
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main
        if policy is None:
            del os.environ["OMP_WAIT_POLICY"]


@dataclass
class Completed:
    """A finished trial as a runner hands it back: the record plus artifacts (never stored)."""

    spec: TrialSpec
    result: TrialResult
    artifacts: Any = None


def serialize(fn: Callable[[TrialSpec], Any]) -> bytes:
    """Objectives travel as cloudpickle bytes, so lambdas and closures work as objectives."""
    return cloudpickle.dumps(fn)


def worker_threads() -> int:
    """Threads a trial may use in this worker (1 per worker unless cores are to spare)."""
    return int(os.environ.get("AUTOLEARN_THREADS", "1"))


def normalize_outcome(out: Any) -> Outcome:
    """Objectives may return a number, a tuple of numbers or an :class:`Outcome`."""
    if isinstance(out, Outcome):
        return out
    if isinstance(out, (int, float)):
        return Outcome(values=(float(out),))
    if isinstance(out, (tuple, list)) and all(isinstance(v, (int, float)) for v in out):
        return Outcome(values=tuple(float(v) for v in out))
    raise TypeError(f"the objective must return a number, a tuple of numbers or an Outcome, got {type(out).__name__}")


def _worker_main(conn: Connection, threads: int) -> None:
    os.environ["AUTOLEARN_THREADS"] = str(threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except Exception:  # threadpoolctl is optional here; the env vars cover new pools
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    cache: dict[str, Callable] = {}
    while True:
        try:
            digest, blob, spec = conn.recv()
        except (EOFError, OSError):
            return
        fn = cache.get(digest)
        setup_error = ""
        if fn is None:
            # unpickling and the objective's own set-up (loading data, importing torch) happen once per
            # worker and are not charged to the trial's time limit
            cache.clear()
            try:
                fn = cloudpickle.loads(blob)
                getattr(fn, "prepare", lambda: None)()
                cache[digest] = fn
            except BaseException:  # noqa: BLE001 - reported as this trial's failure below
                setup_error = "setting up the objective failed: " + traceback.format_exc(limit=8)
        try:
            conn.send(("started",))  # the trial's clock starts now
        except (EOFError, OSError):
            return
        started = time.time()
        t0 = time.perf_counter()
        try:
            if setup_error:
                raise RuntimeError(setup_error)
            with _address_space_limit(spec.limits.memory_mb):
                outcome = normalize_outcome(fn(spec))
            message = ("ok", outcome, started, time.perf_counter() - t0)
        except MemoryError:
            limit = f"the memory limit of {spec.limits.memory_mb:.0f} MB" if spec.limits.memory_mb else "memory"
            message = ("memout", f"{traceback.format_exc(limit=3)}exceeded {limit} (MemoryError)", started,
                       time.perf_counter() - t0)
        except BaseException:  # noqa: BLE001 - any failure of the objective is a failed trial
            message = ("error", traceback.format_exc(limit=8), started, time.perf_counter() - t0)
        try:
            conn.send(message)
        except Exception:  # unpicklable artifacts: report the trial as failed instead
            conn.send(("error", "could not send the result back: " + traceback.format_exc(limit=2), started,
                       time.perf_counter() - t0))


@contextlib.contextmanager
def _address_space_limit(memory_mb: float | None) -> Iterator[None]:
    """Cap this worker's address space for one trial at what it uses now plus the limit.

    The parent's resident-memory watch misses allocations that are reserved but not yet touched
    (``calloc``, ``np.empty``); the address-space cap turns those into a MemoryError at once."""
    if not memory_mb:
        yield
        return
    import resource

    old = resource.getrlimit(resource.RLIMIT_AS)
    cap = psutil.Process().memory_info().vms + int(memory_mb * 2**20)
    if old[1] != resource.RLIM_INFINITY:
        cap = min(cap, old[1])
    resource.setrlimit(resource.RLIMIT_AS, (cap, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, old)


class IsolatedWorker:
    """One child process running one trial at a time under limits."""

    def __init__(self, name: str = "worker-0", threads: int = 1) -> None:
        self.name = name
        self.threads = threads
        self._proc: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self.spec: TrialSpec | None = None
        self._deadline = float("inf")
        self._acknowledged = False
        self._submitted = 0.0
        self._peak_rss = 0.0
        self._next_poll = 0.0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the process ahead of the first trial, so its start-up is not charged to a trial."""
        self._ensure_started()

    def _ensure_started(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        ctx = _context()
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_worker_main, args=(child, self.threads), name=self.name, daemon=True)
        with _main_module_hidden():
            self._proc.start()
        child.close()
        self._conn = parent

    def kill(self) -> None:
        """Kill the worker and everything it started (a model may spawn its own processes)."""
        proc, self._proc = self._proc, None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if proc is None or proc.pid is None:
            return
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            children = []
        for p in [*children]:
            try:
                p.kill()
            except psutil.Error:
                pass
        proc.kill()
        proc.join(timeout=5)

    close = kill

    # -- running -------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.spec is not None

    @property
    def handles(self) -> list[Any]:
        """What ``multiprocessing.connection.wait`` should watch while a trial runs."""
        if self._proc is None or self._conn is None:
            return []
        return [self._conn, self._proc.sentinel]

    def submit(self, digest: str, blob: bytes, spec: TrialSpec) -> None:
        assert self.spec is None, "worker is busy"
        self._ensure_started()
        self.spec = spec
        self._submitted = time.time()
        self._peak_rss = 0.0
        self._next_poll = 0.0
        self._deadline = time.monotonic() + STARTUP_TIMEOUT  # until the worker acknowledges the trial
        self._acknowledged = False
        assert self._conn is not None
        self._conn.send((digest, blob, spec))

    def next_event_in(self) -> float:
        """Seconds until this worker must be looked at again (deadline or memory poll)."""
        if not self.busy:
            return float("inf")
        wait = self._deadline - time.monotonic()
        if self.spec is not None and self.spec.limits.memory_mb:
            wait = min(wait, MEMORY_POLL_SECONDS)
        return max(wait, 0.0)

    def check(self) -> Completed | None:
        """Collect the trial if it finished or broke a limit; None while it runs within limits."""
        if self.spec is None:
            return None
        spec = self.spec
        assert self._conn is not None and self._proc is not None
        try:
            while self._conn.poll():
                message = self._conn.recv()
                if message[0] != "started":
                    return self._finish(message)
                self._acknowledged = True
                self._submitted = time.time()
                limit = spec.limits.wall_time
                self._deadline = time.monotonic() + limit if limit else float("inf")
        except (EOFError, OSError, ConnectionError):
            pass
        if not self._proc.is_alive():
            code = self._proc.exitcode
            reason = _describe_exit(code)
            return self._fail(Status.CRASHED, f"worker process died: {reason}")
        now = time.monotonic()
        if now >= self._deadline:
            if not self._acknowledged:
                return self._fail(Status.CRASHED, f"the worker did not start within {STARTUP_TIMEOUT:.0f} s")
            return self._fail(Status.TIMEOUT, f"exceeded the per-trial time limit of {spec.limits.wall_time:.1f} s")
        if spec.limits.memory_mb and now >= self._next_poll:
            self._next_poll = now + MEMORY_POLL_SECONDS
            rss = _tree_rss_mb(self._proc.pid)
            self._peak_rss = max(self._peak_rss, rss)
            if rss > spec.limits.memory_mb:
                return self._fail(
                    Status.MEMOUT, f"exceeded the memory limit of {spec.limits.memory_mb:.0f} MB ({rss:.0f} MB resident)"
                )
        return None

    def run(self, fn: Callable[[TrialSpec], Any], spec: TrialSpec) -> Completed:
        """Run one trial synchronously (what a Dask task does on its worker)."""
        blob = serialize(fn)
        self.submit(hashlib.sha1(blob).hexdigest(), blob, spec)
        while True:
            done = self.check()
            if done is not None:
                return done
            mp.connection.wait(self.handles, timeout=min(self.next_event_in(), 1.0))

    def _finish(self, message: tuple) -> Completed:
        kind, payload, started, duration = message
        spec = self.spec
        assert spec is not None
        self.spec = None
        if kind == "ok":
            outcome: Outcome = payload
            info = dict(outcome.info)
            if self._peak_rss:
                info.setdefault("peak_memory_mb", round(self._peak_rss, 1))
            result = TrialResult(spec.trial_id, outcome.status, tuple(outcome.values), duration, started, "", info,
                                 self.name)
            return Completed(spec, result, outcome.artifacts)
        status = Status.MEMOUT if kind == "memout" else Status.FAILED
        return Completed(spec, TrialResult(spec.trial_id, status, (), duration, started, payload, {}, self.name))

    def _fail(self, status: Status, error: str) -> Completed:
        spec = self.spec
        assert spec is not None
        self.kill()
        self.spec = None
        duration = time.time() - self._submitted
        info = {"peak_memory_mb": round(self._peak_rss, 1)} if self._peak_rss else {}
        return Completed(spec, TrialResult(spec.trial_id, status, (), duration, self._submitted, error, info, self.name))


def _tree_rss_mb(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "unknown exit"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
