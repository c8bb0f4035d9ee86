"""Trials on a Dask cluster: one trial per Dask worker thread, each inside an :class:`IsolatedWorker`.

A Dask task only carries a trial to a machine; the trial itself runs in the same killable child
process as in :class:`~autolearn.execution.local.LocalRunner`, so the per-trial time and memory limits
and the statuses they produce (TIMEOUT, MEMOUT, CRASHED, FAILED) mean the same thing on both runners.

Choices, and why:

* **At most one trial per worker thread is handed to Dask** (the others wait in this runner, as in
  LocalRunner). Dask places a task on the least busy worker, so a free worker never waits behind a
  slow one, and the optimizer is asked for exactly as many trials as there are free slots.
* **A Dask worker that dies mid-trial makes the trial CRASHED, not re-run.** Dask would re-run it
  elsewhere (up to ``distributed.scheduler.allowed-failures`` times); we cancel that re-run and
  report the death instead, as LocalRunner reports a dead worker process: the optimizer sees at once
  what happened and decides whether to try the configuration again, and a configuration that kills
  its worker cannot take down several. A trial's child left behind by a killed Dask worker notices
  that its parent is gone and exits, so it does not keep a core busy.
* **Data for remote workers is shipped, not assumed shared.** An objective with a ``data_path``
  attribute (the AutoML :class:`~autolearn.evaluation.evaluate.Evaluator`) reads a file written on
  this machine. When the cluster is not one this runner started (``ship_data=None``), the file's
  bytes are scattered once; each Dask worker writes them to its local temporary directory the first
  time it needs them and the objective reads that copy. Pass ``ship_data=False`` when every worker
  sees the path on a shared filesystem.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import multiprocessing as mp
import os
import queue
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_handles
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from autolearn.execution._base import Runner
from autolearn.execution.isolation import Completed, IsolatedWorker, _main_module_hidden, serialize, worker_threads
from autolearn.records import Status, TrialResult, TrialSpec

if TYPE_CHECKING:  # the trial's child imports this module: keep it free of distributed's import time
    import distributed

logger = logging.getLogger(__name__)

WORKER_WAIT_SECONDS = 60.0  # how long a new runner waits for the first worker of a remote cluster
RESULT_TIMEOUT = 30.0  # a finished trial whose result cannot be fetched in this time is CRASHED
INLINE_BYTES = 1 << 20  # larger objectives are scattered once instead of sent with every trial
ORPHAN_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class _Payload:
    """How a task finds its objective (inline bytes, or the key of a scattered copy) and its data file."""

    digest: str
    blob: bytes | None = None
    blob_key: str | None = None
    data: tuple[str, str, str] | None = None  # (scattered key, sha1 of the bytes, file name)


class DaskRunner(Runner):
    """Run trials on a Dask cluster, each isolated and limited exactly as on :class:`LocalRunner`.

    Parameters
    ----------
    client : distributed.Client, optional
        A connected client; the runner uses its cluster and never closes it.
    address : str, optional
        A scheduler address such as ``"tcp://host:8786"``; the runner connects and closes its client
        at the end, the cluster stays up.
    n_workers : int, optional
        Without ``client`` and ``address``: how many single-threaded worker processes the runner's own
        ``LocalCluster`` gets (default: one per core). It listens on 127.0.0.1 only. With a cluster:
        a cap on the trials that run at once (default: every worker thread).
    ship_data : bool, optional
        Scatter the file behind an objective's ``data_path`` to the workers (see the module notes);
        default: only for a cluster this runner did not start.

    Example
    -------
    >>> with DaskRunner(address="tcp://10.0.0.5:8786") as runner:     # doctest: +SKIP
    ...     run_search(optimizer=opt, runner=runner, objective=f, storage=s, study="s",
    ...                budget=Budget(max_trials=100), limits=Limits(60, 4096))
    """

    def __init__(self, client: distributed.Client | None = None, address: str | None = None,
                 n_workers: int | None = None, *, ship_data: bool | None = None) -> None:
        if client is not None and address is not None:
            raise ValueError("give a client or an address, not both")
        if n_workers is not None and n_workers < 1:
            raise ValueError(f"n_workers must be at least 1, got {n_workers}")
        import distributed

        self._closed = False
        self._cluster: distributed.LocalCluster | None = None
        self._own_client = client is None
        self._cap = n_workers if client is not None or address is not None else None
        self._ship = (client is not None or address is not None) if ship_data is None else ship_data
        self._threads = 0
        self._threads_stale = True
        self._token = uuid.uuid4().hex[:8]
        self._count = 0
        self._queue: deque[tuple[Callable[[TrialSpec], Any], TrialSpec]] = deque()
        self._futures: dict[str, distributed.Future] = {}
        self._specs: dict[str, TrialSpec] = {}
        self._submitted: dict[str, float] = {}
        self._events: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self._payloads: dict[int, tuple[Callable, _Payload]] = {}
        self._scattered: list[distributed.Future] = []
        self._previous_handler: Callable | None = None
        self._subscribed = False
        if client is None and address is None:
            with _main_module_hidden():  # workers must not re-run a user's script that lacks a main guard
                self._cluster = distributed.LocalCluster(
                    n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0")
            client = distributed.Client(self._cluster)
        elif client is None:
            client = distributed.Client(address, timeout=WORKER_WAIT_SECONDS)
        self.client: distributed.Client = client
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except TimeoutError as exc:
            self.close()
            where = address or client.scheduler.address
            raise RuntimeError(f"no Dask worker joined the scheduler at {where} within {WORKER_WAIT_SECONDS:.0f} s; "
                               f"start one with `dask worker {where}`") from exc
        self._previous_handler = getattr(client, "_event_handlers", {}).get("all")
        client.subscribe_topic("all", self._on_event)
        self._subscribed = True
        client.run(_prestart, on_error="ignore")  # fork servers start while the caller sets up the search
        self.dashboard_link: str | None = client.dashboard_link
        logger.info("Dask dashboard at %s", self.dashboard_link)
        print(f"autolearn: Dask dashboard at {self.dashboard_link} ({self.n_workers} worker threads)", file=sys.stderr)

    # -- capacity ------------------------------------------------------------------------------
    @property
    def n_workers(self) -> int:  # type: ignore[override]
        """Trials that may run at once: the cluster's worker threads (re-read when workers come or go)."""
        if self._threads_stale and not self._closed:
            self._threads_stale = False
            self._threads = sum(self.client.nthreads().values())
        total = max(self._threads, 1)  # keep one slot while a lone worker restarts, or the search would end
        return min(total, self._cap) if self._cap else total

    def _on_event(self, event: tuple[float, Any]) -> None:
        """Scheduler events arrive on the client's event-loop thread; only queue them from here."""
        msg = event[1]
        if isinstance(msg, dict) and msg.get("action") in ("add-worker", "remove-worker"):
            self._threads_stale = True
            if msg["action"] == "remove-worker" and not msg.get("expected"):
                lost = [*msg.get("processing-tasks", ()), *msg.get("lost-computed-tasks", ())]
                for key in lost:
                    self._events.put(("lost", key, msg.get("worker", "")))
        if self._previous_handler is not None:
            return self._previous_handler(event)

    # -- the Runner interface --------------------------------------------------------------------
    def submit(self, fn: Callable[[TrialSpec], Any], spec: TrialSpec) -> None:
        if self._closed:
            raise RuntimeError("this DaskRunner is closed")
        self._queue.append((fn, spec))
        self._dispatch()

    def running(self) -> list[TrialSpec]:
        return list(self._specs.values()) + [spec for _, spec in self._queue]

    def wait(self, timeout: float | None = None) -> list[Completed]:
        self._dispatch()
        end = time.monotonic() + (timeout if timeout is not None else float("inf"))
        done: list[Completed] = []
        while self._futures or not self._events.empty():
            try:
                if done:
                    event = self._events.get_nowait()
                else:
                    left = end - time.monotonic()
                    event = self._events.get(timeout=None if left == float("inf") else max(left, 0.0))
            except queue.Empty:
                break
            completed = self._handle(event)
            if completed is not None:
                done.append(completed)
                self._dispatch()
        return done

    def cancel_all(self) -> list[Completed]:
        keys = list(self._futures)
        specs = [self._specs[k] for k in keys] + [spec for _, spec in self._queue]
        if keys:
            self.client.cancel(list(self._futures.values()), force=True, reason="search stopped")
            self._kill(keys)
        self._futures.clear()
        self._specs.clear()
        self._submitted.clear()
        self._queue.clear()
        now = time.time()
        return [Completed(s, TrialResult(s.trial_id, Status.CANCELLED, (), 0.0, now, "search stopped", {}, ""))
                for s in specs]

    def close(self) -> None:
        """Stop running trials and the workers' idle child processes; close what this runner opened."""
        if self._closed:
            return
        self._closed = True
        client = getattr(self, "client", None)
        if client is not None:
            _quietly(self.cancel_all)
            if self._subscribed:
                _quietly(client.unsubscribe_topic, "all")
                if self._previous_handler is not None:
                    _quietly(client.subscribe_topic, "all", self._previous_handler)
            digests = [p.data[1] for _, p in self._payloads.values() if p.data is not None]
            _quietly(client.run, _shutdown, digests, on_error="ignore")
            if self._scattered:
                _quietly(client.cancel, self._scattered, force=True)
            if self._own_client:
                _quietly(client.close)
        if self._cluster is not None:
            _quietly(self._cluster.close)

    # -- internals -------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        while self._queue and len(self._futures) < self.n_workers:
            fn, spec = self._queue.popleft()
            self._count += 1
            key = f"autolearn-trial-{spec.trial_id}-{self._token}-{self._count}"
            future = self.client.submit(_run_trial, key, self._payload(fn), spec, key=key, pure=False)
            self._futures[key] = future
            self._specs[key] = spec
            self._submitted[key] = time.time()
            future.add_done_callback(lambda f: self._events.put(("done", f.key)))

    def _payload(self, fn: Callable[[TrialSpec], Any]) -> _Payload:
        """Serialize (and ship) each objective once, not once per trial."""
        cached = self._payloads.get(id(fn))
        if cached is not None and cached[0] is fn:
            return cached[1]
        data = None
        path = getattr(fn, "data_path", None)
        if self._ship and isinstance(path, (str, os.PathLike)) and os.path.isfile(path):
            raw = Path(path).read_bytes()
            shipped = self.client.scatter(raw, hash=False)
            self._scattered.append(shipped)
            data = (shipped.key, hashlib.sha1(raw).hexdigest(), Path(path).name)
        blob = serialize(_TrialFunction(fn, None if data is None else data[1:]))
        digest = hashlib.sha1(blob).hexdigest()
        if len(blob) <= INLINE_BYTES:
            payload = _Payload(digest, blob=blob, data=data)
        else:
            scattered = self.client.scatter(blob, hash=False)
            self._scattered.append(scattered)
            payload = _Payload(digest, blob_key=scattered.key, data=data)
        self._payloads = {id(fn): (fn, payload)}
        return payload

    def _handle(self, event: tuple) -> Completed | None:
        """Turn a finished future or a lost worker into a Completed; None for events about other tasks."""
        kind, key = event[0], event[1]
        future = self._futures.pop(key, None)
        if future is None:
            return None  # already collected, cancelled, or not ours
        spec = self._specs.pop(key)
        submitted = self._submitted.pop(key)
        if kind == "lost":
            future.cancel(force=True, reason="its worker died")
            self._kill([key])  # Dask may already have restarted it elsewhere
            return _crashed(spec, submitted, f"the Dask worker {event[2]} died while running this trial "
                                             "(not re-run)", event[2])
        try:
            if future.status == "finished":
                out: Completed = future.result(timeout=RESULT_TIMEOUT)
                return Completed(spec, out.result, out.artifacts)
            if future.status == "error":
                exc = future.exception(timeout=RESULT_TIMEOUT)
                return _crashed(spec, submitted, f"the Dask task failed: {type(exc).__name__}: {exc}")
            return _crashed(spec, submitted, f"the Dask task ended as {future.status!r} (cancelled or lost)")
        except Exception as exc:  # noqa: BLE001 - a result we cannot fetch is a crashed trial
            return _crashed(spec, submitted, f"the result could not be fetched from Dask: {exc!r}")
        finally:
            future.release()

    def _kill(self, keys: list[str]) -> None:
        try:
            self.client.run(_kill_trials, keys, on_error="ignore")
        except Exception as exc:  # noqa: BLE001 - a worker that cannot be reached has nothing to kill
            logger.warning("could not stop trials %s on the Dask workers: %s", keys, exc)


def _quietly(fn: Callable, *args: Any, **kwargs: Any) -> None:
    """Closing must not fail because the cluster is already gone."""
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        logger.warning("DaskRunner.close: %s: %s", getattr(fn, "__name__", fn), exc)


def _crashed(spec: TrialSpec, started: float, error: str, worker: str = "") -> Completed:
    result = TrialResult(spec.trial_id, Status.CRASHED, (), time.time() - started, started, error, {}, worker)
    return Completed(spec, result)


# -- what runs on a Dask worker ------------------------------------------------------------------
# One pool of isolated workers per Dask worker process, reused across trials (and runners), so a trial
# pays for a fork-server start only once per process, exactly like a LocalRunner worker.
_pool_lock = threading.Lock()
_idle: list[IsolatedWorker] = []
_busy: dict[str, IsolatedWorker] = {}
_stopped: dict[str, None] = {}  # keys killed or cancelled; a task that starts later returns at once
_blobs: dict[str, bytes] = {}
_file_lock = threading.Lock()


def _new_isolated_worker(dask_worker_address: str) -> IsolatedWorker:
    # Dask starts worker processes as daemons, and daemons may not have children: a trial's child
    # is ours to manage (killed at exit, and it exits itself when orphaned), so lift the flag.
    mp.current_process()._config["daemon"] = False  # type: ignore[attr-defined]
    return IsolatedWorker(f"{dask_worker_address}#{len(_idle) + len(_busy)}", worker_threads())


def _prestart(dask_worker: Any) -> None:
    """Start one isolated worker in the background (``client.run`` fills in ``dask_worker``)."""
    address = dask_worker.address

    def start() -> None:
        with _pool_lock:
            if not _idle and not _busy:
                worker = _new_isolated_worker(address)
                worker.start()
                _idle.append(worker)

    threading.Thread(target=start, name="autolearn-prestart", daemon=True).start()


def _run_trial(key: str, payload: _Payload, spec: TrialSpec) -> Completed:
    """The Dask task: run one trial in this process's isolated worker and wait for it (blocking a thread)."""
    if key in _stopped:
        return Completed(spec, TrialResult(spec.trial_id, Status.CANCELLED, (), 0.0, time.time(), "search stopped"))
    blob = payload.blob if payload.blob is not None else _blob(payload)
    if payload.data is not None:
        _materialize(*payload.data)
    import distributed

    with _pool_lock:
        worker = _idle.pop() if _idle else _new_isolated_worker(distributed.get_worker().address)
        _busy[key] = worker
    try:
        worker.submit(payload.digest, blob, spec)
        while True:
            done = worker.check()
            if done is not None:
                return done
            wait_handles(worker.handles, timeout=min(worker.next_event_in(), 1.0))
    finally:
        if worker.busy:  # interrupted between submit and collect: start clean next time
            worker.kill()
            worker.spec = None
        with _pool_lock:
            _busy.pop(key, None)
            _idle.append(worker)


def _fetch(key: str) -> Any:
    """A scattered object by key, without making it a task dependency (that would pin every trial to
    the worker holding it)."""
    import distributed

    worker = distributed.get_worker()
    if key in worker.data:
        return worker.data[key]
    return distributed.Future(key, distributed.get_client()).result()


def _blob(payload: _Payload) -> bytes:
    blob = _blobs.get(payload.digest)
    if blob is None:
        assert payload.blob_key is not None
        blob = _fetch(payload.blob_key)
        _blobs.clear()
        _blobs[payload.digest] = blob
    return blob


def _shipped_path(digest: str, name: str) -> Path:
    return Path(tempfile.gettempdir()) / "autolearn-dask" / digest / name


def _materialize(key: str, digest: str, name: str) -> None:
    path = _shipped_path(digest, name)
    with _file_lock:
        if path.exists():
            return
        raw = _fetch(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_bytes(raw)
        os.replace(tmp, path)  # other worker processes on this machine never read a half-written file


def _kill_trials(keys: list[str]) -> None:
    """Runs on each worker's event loop: kill the children running ``keys``; the task threads then
    return at once, and a task that has not started yet will not run."""
    for key in keys:
        _stopped[key] = None
        worker = _busy.get(key)
        proc = getattr(worker, "_proc", None)
        if proc is not None and proc.pid is not None:
            _kill_tree(proc.pid)
    while len(_stopped) > 10_000:
        _stopped.pop(next(iter(_stopped)))


def _kill_tree(pid: int) -> None:
    try:
        parent = psutil.Process(pid)
        procs = [*parent.children(recursive=True), parent]
    except psutil.Error:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass


def _shutdown(digests: list[str]) -> None:
    """Free what a closed runner leaves on a worker: idle child processes and shipped data files."""
    with _pool_lock:
        idle = list(_idle)
        _idle.clear()
    for worker in idle:
        worker.kill()
    for digest in digests:
        folder = _shipped_path(digest, "x").parent
        for file in folder.glob("*"):
            file.unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:
            pass


# -- what runs in the trial's child process --------------------------------------------------------
class _TrialFunction:
    """The objective as the child runs it: reading shipped data from the worker's local copy, and
    exiting if its Dask worker dies (the child would otherwise run on, orphaned, to the end)."""

    def __init__(self, fn: Callable[[TrialSpec], Any], data: tuple[str, str] | None) -> None:
        self.fn = fn
        self.data = data

    def __call__(self, spec: TrialSpec) -> Any:
        _watch_parent()
        fn = self.fn
        if self.data is not None:
            fn = copy.copy(fn)
            fn.data_path = os.fspath(_shipped_path(*self.data))  # type: ignore[attr-defined]
        return fn(spec)


_watching = False


def _watch_parent() -> None:
    """The child's parent is its Dask worker's fork server, which exits with the worker: once the
    parent changes, nobody waits for this trial any more."""
    global _watching
    if _watching:
        return
    _watching = True
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(ORPHAN_POLL_SECONDS)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=watch, name="autolearn-orphan-watch", daemon=True).start()
