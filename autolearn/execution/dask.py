"""Trials on a Dask cluster: one trial per Dask worker thread, each inside an :class:`IsolatedWorker`.

A Dask task only carries a trial to a machine; the trial runs in the same killable child process as
in :class:`~autolearn.execution.local.LocalRunner`, so time and memory limits and the statuses they
produce (TIMEOUT, MEMOUT, CRASHED, FAILED) mean the same thing on both runners.

Choices, and why:

* **Dask gets at most one trial per worker thread**; the rest wait here, as in LocalRunner. Dask puts
  a task on the least busy worker, so a free worker never waits behind a slow one, and the loop asks
  the optimizer for exactly as many trials as there are free slots.
* **A Dask worker that dies mid-trial makes the trial CRASHED; it is not re-run.** Dask would re-run
  it elsewhere; we stop that re-run and report the death, as LocalRunner reports a dead worker
  process. The optimizer learns at once and decides whether to try the configuration again, and a
  configuration that kills its worker cannot kill several. The trial's orphaned child exits by itself.
* **Data is shipped to a cluster this runner did not start.** An objective with a ``data_path``
  attribute (the AutoML ``Evaluator``) reads a file written on this machine, which a remote worker
  does not have. Its bytes are scattered once to every worker, each writes them to its temporary
  directory on first use, and the objective reads that copy. ``ship_data=False`` skips this when all
  workers see the path on a shared filesystem (worth it for data of several GB: shipping keeps a copy
  in each Dask worker's memory).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import multiprocessing as mp
import os
import queue
import shutil
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

if TYPE_CHECKING:  # trial children import this module: keep distributed's import time out of them
    import distributed

logger = logging.getLogger(__name__)

WORKER_WAIT_SECONDS = 60.0  # how long a new runner waits for the first worker of a cluster
RESULT_TIMEOUT = 30.0  # a finished trial whose result cannot be fetched in this time is CRASHED
CHECK_SECONDS = 1.0  # how often to ask the scheduler which workers are alive
ORPHAN_POLL_SECONDS = 0.5
_OWNER_ENV = "AUTOLEARN_DASK_WORKER_PID"


@dataclass(frozen=True)
class _Payload:
    """A task's objective bytes (sent with every trial, as LocalRunner does) and, when shipped, its
    data file as (scattered key, published name, sha1, file name)."""

    digest: str
    blob: bytes
    data: tuple[str, str, str, str] | None = None


class DaskRunner(Runner):
    """Run trials on a Dask cluster, each isolated and limited exactly as on :class:`LocalRunner`.

    Parameters
    ----------
    client : distributed.Client, optional
        A connected client; the runner uses its cluster and never closes it.
    address : str, optional
        A scheduler address such as ``"tcp://host:8786"``; the runner's client is closed at the end,
        the cluster stays up.
    n_workers : int, optional
        Without ``client`` or ``address``: the single-threaded worker processes of the runner's own
        ``LocalCluster`` (default: one per core), listening on 127.0.0.1 only. With a cluster: a cap on
        the trials running at once (default: all worker threads).
    ship_data : bool, optional
        Ship the file behind an objective's ``data_path`` to the workers (module notes); default: only
        to a cluster this runner did not start.

    >>> with DaskRunner(address="tcp://10.0.0.5:8786") as runner:  # doctest: +SKIP
    ...     run_search(optimizer=opt, runner=runner, objective=f, storage=s, study="s",
    ...                budget=Budget(max_trials=100), limits=Limits(60, 4096))
    """

    def __init__(self, client: distributed.Client | None = None, address: str | None = None,
                 n_workers: int | None = None, *, ship_data: bool | None = None) -> None:
        import distributed

        if client is not None and address is not None:
            raise ValueError("give a client or an address, not both")
        if n_workers is not None and n_workers < 1:
            raise ValueError(f"n_workers must be at least 1, got {n_workers}")
        external = client is not None or address is not None
        self._closed = False
        self._cluster: distributed.LocalCluster | None = None
        self._own_client = client is None
        self._cap = n_workers if external else None
        self._ship = external if ship_data is None else ship_data
        self._alive: dict[str, int] = {}  # worker address -> threads, when last asked
        self._checked = -float("inf")
        self._token = uuid.uuid4().hex[:8]
        self._topic = f"autolearn-{self._token}"  # workers report here which trial started where
        self._count = 0
        self._queue: deque[tuple[Callable[[TrialSpec], Any], TrialSpec]] = deque()
        self._futures: dict[str, distributed.Future] = {}
        self._specs: dict[str, TrialSpec] = {}
        self._submitted: dict[str, float] = {}
        self._where: dict[str, str] = {}  # key -> worker running it
        self._events: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self._payload_of: tuple[Callable | None, _Payload | None] = (None, None)
        self._shared: dict[str, distributed.Future] = {}  # published name -> scattered data
        self._shipped: list[str] = []  # sha1 of shipped files, deleted from the workers at the end
        self._subscribed = False
        if not external:
            with _main_module_hidden():  # worker processes must not re-run a script without a main guard
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
            where = address or client.scheduler.address
            self.close()
            raise RuntimeError(f"no Dask worker joined the scheduler at {where} within {WORKER_WAIT_SECONDS:.0f} s; "
                               f"start one with `dask worker {where}`") from exc
        client.subscribe_topic(self._topic, self._on_started)
        self._subscribed = True
        client.run(_prestart, on_error="ignore")  # fork servers start while the caller prepares the search
        self.dashboard_link: str | None = client.dashboard_link
        logger.info("Dask dashboard at %s", self.dashboard_link)
        print(f"autolearn: Dask dashboard at {self.dashboard_link} ({self.n_workers} worker threads)", file=sys.stderr)

    @property
    def n_workers(self) -> int:  # type: ignore[override]
        """Trials that may run at once: the cluster's worker threads, as workers come and go."""
        total = max(sum(self._workers().values()), 1)  # keep a slot while a lone worker restarts
        return min(total, self._cap) if self._cap else total

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
            alive = self._workers()
            done += [self._lose(key, worker) for key, worker in list(self._where.items()) if worker not in alive]
            left = end - time.monotonic()
            try:
                event = self._events.get_nowait() if done or left <= 0 else self._events.get(
                    timeout=min(left, CHECK_SECONDS))
            except queue.Empty:
                if done or time.monotonic() >= end:
                    break
                continue
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
        for table in (self._futures, self._specs, self._submitted, self._where):
            table.clear()
        self._queue.clear()
        now = time.time()
        return [Completed(s, TrialResult(s.trial_id, Status.CANCELLED, (), 0.0, now, "search stopped", {}, ""))
                for s in specs]

    def close(self) -> None:
        """Stop running trials and the workers' idle children; close only what this runner opened."""
        if self._closed:
            return
        self._closed = True
        client = getattr(self, "client", None)
        if client is not None:
            _quietly(self.cancel_all)
            if self._subscribed:
                _quietly(client.unsubscribe_topic, self._topic)
            _quietly(client.run, _shutdown, self._shipped, on_error="ignore")
            for name in self._shared:
                _quietly(client.unpublish_dataset, name)
            if self._shared:
                _quietly(client.cancel, list(self._shared.values()), force=True)
            if self._own_client:
                _quietly(client.close)
        if self._cluster is not None:
            _quietly(self._cluster.close)

    # -- internals -------------------------------------------------------------------------------
    def _workers(self, refresh: bool = False) -> dict[str, int]:
        if (refresh or time.monotonic() - self._checked >= CHECK_SECONDS) and not self._closed:
            self._alive = self.client.nthreads()
            self._checked = time.monotonic()
        return self._alive

    def _on_started(self, event: tuple[float, Any]) -> None:
        """Runs on the client's event-loop thread: only queue the news from here."""
        self._events.put(("started", event[1]["key"], event[1]["worker"]))

    def _dispatch(self) -> None:
        while self._queue and len(self._futures) < self.n_workers:
            fn, spec = self._queue.popleft()
            self._count += 1
            key = f"autolearn-trial-{spec.trial_id}-{self._token}-{self._count}"
            future = self.client.submit(_run_trial, key, self._topic, self._payload(fn), spec, key=key, pure=False)
            self._futures[key], self._specs[key], self._submitted[key] = future, spec, time.time()
            future.add_done_callback(lambda f: self._events.put(("done", f.key)))

    def _payload(self, fn: Callable[[TrialSpec], Any]) -> _Payload:
        """Serialize (and ship the data of) each objective once, not once per trial."""
        if self._payload_of[0] is fn and self._payload_of[1] is not None:
            return self._payload_of[1]
        data = None
        path = getattr(fn, "data_path", None)
        if self._ship and isinstance(path, (str, os.PathLike)) and os.path.isfile(path):
            raw = Path(path).read_bytes()
            digest = hashlib.sha1(raw).hexdigest()
            future = self.client.scatter(raw, hash=False, broadcast=True)  # a copy on each survives a lost worker
            name = f"autolearn-{self._token}-{digest[:16]}"
            # found by name: as a task dependency it would pin every trial to the workers holding it
            self.client.publish_dataset(future, name=name)
            self._shared[name] = future
            self._shipped.append(digest)
            data = (future.key, name, digest, Path(path).name)
        blob = serialize(_TrialFunction(fn, None if data is None else (data[2], data[3])))
        payload = _Payload(hashlib.sha1(blob).hexdigest(), blob, data)
        self._payload_of = (fn, payload)
        return payload

    def _handle(self, event: tuple) -> Completed | None:
        """A finished future, or news that a trial started somewhere, as a Completed (or None)."""
        kind, key = event[0], event[1]
        if key not in self._futures:
            return None  # already collected or cancelled
        if kind == "started":
            first = self._where.setdefault(key, event[2])
            if first != event[2]:  # Dask started it again elsewhere: the first worker died
                return self._lose(key, first)
            if event[2] not in self._alive:
                self._workers(refresh=True)  # a worker that joined since we last asked
            return None
        future, spec, submitted = self._futures.pop(key), self._specs.pop(key), self._submitted.pop(key)
        self._where.pop(key, None)
        try:
            if future.status == "finished":
                out: Completed = future.result(timeout=RESULT_TIMEOUT)
                return Completed(spec, out.result, out.artifacts)
            if future.status == "error":
                exc = future.exception(timeout=RESULT_TIMEOUT)
                return _crashed(spec, submitted, f"the Dask task failed: {type(exc).__name__}: {exc}")
            return _crashed(spec, submitted, f"the Dask task ended as {future.status!r}")
        except Exception as exc:  # noqa: BLE001 - a result we cannot fetch is a crashed trial
            return _crashed(spec, submitted, f"the result could not be fetched from Dask: {exc!r}")
        finally:
            future.release()

    def _lose(self, key: str, worker: str) -> Completed:
        """The worker running ``key`` died: CRASHED, and a re-run Dask may have started is stopped."""
        future = self._futures.pop(key)
        self._where.pop(key, None)
        future.cancel(force=True, reason="its worker died")
        self._kill([key])
        return _crashed(self._specs.pop(key), self._submitted.pop(key),
                        f"the Dask worker {worker} died while running this trial (not re-run)", worker)

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
    return Completed(spec, TrialResult(spec.trial_id, Status.CRASHED, (), time.time() - started, started, error, {},
                                       worker))


# -- on a Dask worker ------------------------------------------------------------------------------
# Isolated workers are pooled per Dask worker process and reused across trials and runners: a trial
# pays for starting a child only after a crash, exactly as on a LocalRunner worker.
_pool_lock = threading.Lock()
_file_lock = threading.Lock()
_idle: list[IsolatedWorker] = []
_busy: dict[str, IsolatedWorker] = {}
_stopped: dict[str, None] = {}  # keys killed or cancelled (insertion-ordered, bounded)


def _new_isolated_worker(address: str) -> IsolatedWorker:
    # Dask worker processes are daemons, and daemons may not have children; ours are killed at exit
    # and exit themselves when orphaned, so lift the flag.
    mp.current_process()._config["daemon"] = False  # type: ignore[attr-defined]
    os.environ[_OWNER_ENV] = str(os.getpid())  # inherited by the fork server, so by every trial's child
    return IsolatedWorker(f"{address}#{len(_idle) + len(_busy)}", worker_threads())


def _prestart(dask_worker: Any) -> None:
    """Start one isolated worker in the background (``client.run`` passes ``dask_worker``)."""
    def start() -> None:
        with _pool_lock:
            if not _idle and not _busy:
                worker = _new_isolated_worker(dask_worker.address)
                worker.start()
                _idle.append(worker)

    threading.Thread(target=start, name="autolearn-prestart", daemon=True).start()


def _run_trial(key: str, topic: str, payload: _Payload, spec: TrialSpec) -> Completed:
    """The Dask task: run one trial in an isolated worker of this process, blocking a Dask thread."""
    import distributed

    dask_worker = distributed.get_worker()
    dask_worker.log_event(topic, {"key": key, "worker": dask_worker.address})
    if payload.data is not None:
        _materialize(*payload.data)
    with _pool_lock:
        worker = _idle.pop() if _idle else _new_isolated_worker(dask_worker.address)
        _busy[key] = worker  # registered before _stopped is read; _kill_trials writes, then reads _busy
    try:
        if key not in _stopped:
            worker.submit(payload.digest, payload.blob, spec)
        while key not in _stopped:
            done = worker.check()
            if done is not None:
                return done
            wait_handles(worker.handles, timeout=min(worker.next_event_in(), 1.0))
        return Completed(spec, TrialResult(spec.trial_id, Status.CANCELLED, (), 0.0, time.time(), "search stopped"))
    finally:
        if worker.busy:  # stopped or interrupted: the next trial starts from a clean child
            worker.kill()
            worker.spec = None
        with _pool_lock:
            _busy.pop(key, None)
            _idle.append(worker)


def _kill_trials(keys: list[str]) -> None:
    """On each worker's event loop: kill the process trees running ``keys``; their tasks return at
    once, and a task that has not started yet will not run a trial."""
    for key in keys:
        _stopped[key] = None
        proc = getattr(_busy.get(key), "_proc", None)
        try:
            tree = [psutil.Process(proc.pid)] if proc is not None and proc.pid else []
            tree += tree[0].children(recursive=True) if tree else []
        except psutil.Error:
            tree = []
        for p in tree:
            with contextlib.suppress(psutil.Error):
                p.kill()
    while len(_stopped) > 10_000:
        _stopped.pop(next(iter(_stopped)))


def _shipped_path(digest: str, name: str) -> Path:
    return Path(tempfile.gettempdir()) / "autolearn-dask" / digest / name


def _materialize(key: str, published: str, digest: str, name: str) -> None:
    """Write a shipped file to this machine once (from this worker's copy, or a peer's by name)."""
    import distributed

    path = _shipped_path(digest, name)
    with _file_lock:
        if path.exists():
            return
        worker = distributed.get_worker()
        raw = worker.data[key] if key in worker.data else distributed.get_client().get_dataset(published).result()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_bytes(raw)
        os.replace(tmp, path)  # other worker processes on this machine never read half a file


def _shutdown(digests: list[str]) -> None:
    """Free what a closed runner leaves on a worker: idle children and shipped files."""
    with _pool_lock:
        idle = list(_idle)
        _idle.clear()
    for worker in idle:
        worker.kill()
    for digest in digests:
        shutil.rmtree(_shipped_path(digest, "-").parent, ignore_errors=True)


# -- in the trial's child process ------------------------------------------------------------------
class _TrialFunction:
    """The objective as the child runs it: on the worker's copy of shipped data, and exiting when its
    Dask worker is gone (nobody would wait for the trial any more)."""

    def __init__(self, fn: Callable[[TrialSpec], Any], data: tuple[str, str] | None) -> None:
        self.fn = fn
        self.data = data

    def __call__(self, spec: TrialSpec) -> Any:
        _watch_owner()
        fn = self.fn
        if self.data is not None:
            fn = copy.copy(fn)
            fn.data_path = os.fspath(_shipped_path(*self.data))  # type: ignore[attr-defined]
        return fn(spec)


_watching = False


def _watch_owner() -> None:
    """Exit once the Dask worker that started this child has died. (The parent is a fork server,
    which outlives the worker while any of its children live, so the parent is no signal.)"""
    global _watching
    pid = int(os.environ.get(_OWNER_ENV, "0"))
    if _watching or not pid:
        return
    _watching = True
    try:
        born = psutil.Process(pid).create_time()
    except psutil.Error:
        os._exit(70)

    def watch() -> None:
        while True:
            time.sleep(ORPHAN_POLL_SECONDS)
            try:
                owner = psutil.Process(pid)
                alive = owner.create_time() == born and owner.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                alive = False
            if not alive:
                os._exit(70)

    threading.Thread(target=watch, name="autolearn-owner-watch", daemon=True).start()
