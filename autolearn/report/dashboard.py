"""A small read-only web dashboard of a search, live while it runs.

It reads the run history (a run directory's SQLite file, any SQLAlchemy URL — also the one a search on
Dask writes to — a ``Study``, or a fitted model, which never changes) on each refresh and serves:

* ``/``: a page whose inline script polls ``api/run.json`` every 2 s and draws the leaderboard, the
  best-so-far history and the worker timeline as inline SVG (no CDN, nothing fetched elsewhere);
* ``/api/run.json``: the same facts as JSON;
* ``/plot/<name>.png``: any plot of :mod:`autolearn.report.search_plots`, rendered on request.

Why it is built this way: the standard library's threading HTTP server, so watching a search needs no
extra dependency; GET and HEAD only (every other method gets 405), so the dashboard can never change the
run; bound to 127.0.0.1 unless a host is given explicitly, since it has no authentication and shows
configurations, column names and errors; on loopback, requests whose ``Host`` header names another host
are refused (403), which stops DNS-rebinding pages from reading it through the user's browser.
Snapshots are cached for a second so several open tabs cost one read of the storage.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from autolearn.report import _dashboard_page as page
from autolearn.report.run_data import (
    REFIT,
    RunData,
    RunSource,
    load_run,
    open_storage,
    read_storage,
    run_leaderboard,
    run_summary,
    worked,
)
from autolearn.report.serialize import json_safe
from autolearn.storage import Storage, StudyNotFoundError

LEADERBOARD_ROWS = 25
CACHE_SECONDS = 1.0
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    """True for a loopback address or a name resolving only to loopback addresses."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


class _Reader:
    """Re-reads a live source on every snapshot; a fitted model or SearchResult is read once."""

    def __init__(self, source: RunSource, study: str | None) -> None:
        from autolearn.tune.study import Study

        self.source, self.study = source, study
        self.live = isinstance(source, (str, os.PathLike, Storage, Study)) and not (
            isinstance(source, (str, os.PathLike)) and os.fspath(source).endswith((".pkl", ".pickle")))
        self._storage: Storage | None = None
        self._static = None if self.live else load_run(source, study)

    def run(self) -> RunData:
        if self._static is not None:
            return self._static
        if isinstance(self.source, (str, os.PathLike)):
            if self._storage is None:  # opened lazily: the dashboard may start before the search
                self._storage = open_storage(self.source)
            return read_storage(self._storage, self.study, os.fspath(self.source))
        return load_run(self.source, self.study)

    def close(self) -> None:
        if self._storage is not None:
            self._storage.close()


def snapshot(run: RunData, now: float | None = None) -> dict[str, Any]:
    """What the page draws, as JSON-able data (non-finite floats as None)."""
    summary = run_summary(run)
    board = run_leaderboard(run, LEADERBOARD_ROWS)
    timed = worked(run)
    t0 = min((r.result.started for r in timed), default=0.0)  # type: ignore[union-attr]
    end = max((r.result.started + r.result.duration for r in timed), default=t0)  # type: ignore[union-attr]
    if summary["running"] and now is not None:
        end = max(end, now)  # a live search: idle time up to now shows
    workers = sorted({r.result.worker or "main" for r in timed})  # type: ignore[union-attr]
    index = {w: i for i, w in enumerate(workers)}
    span = end - t0
    busy = [sum(r.result.duration for r in timed if (r.result.worker or "main") == w) / span  # type: ignore[union-attr]
            if span > 0 else 0.0 for w in workers]
    bars = [[index[r.result.worker or "main"], r.result.started - t0, r.result.duration,  # type: ignore[union-attr]
             "refit" if r.spec.instance == REFIT else r.result.status.value, r.spec.trial_id] for r in timed]  # type: ignore[union-attr]
    done = sorted(run.successes(), key=lambda r: r.result.started + r.result.duration)  # type: ignore[union-attr]
    top = max((r.spec.budget for r in done), default=1.0)
    points, best_line, best = [], [], None
    for r in done:
        t, s = r.result.started + r.result.duration - t0, run.score(r.result.loss)  # type: ignore[union-attr]
        points.append([t, s, r.spec.budget, r.spec.trial_id])
        if math.isclose(r.spec.budget, top) and (best is None or (s > best if run.best_is_max() else s < best)):
            best = s
            best_line.append([t, s])
    data = {
        "title": f"autolearn dashboard: {run.task}, {run.metric}" if run.is_automl else f"study {run.study}",
        "source": run.source, "metric": run.metric, "task": run.task, "error": None, "updated": time.time(),
        "summary": summary,
        "leaderboard": {"columns": [str(c) for c in board.columns], "rows": board.astype(object).values.tolist()},
        "history": {"points": points, "best": best_line},
        "timeline": {"span": span, "workers": workers, "busy": busy, "bars": bars},
    }
    return json_safe(data)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "autolearn-dashboard"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)

    def __getattr__(self, name: str) -> Any:
        """Every method but GET and HEAD (``do_POST``, ``do_PUT``, ``do_FOO``...) answers 405."""
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self._send(405, b"method not allowed: this dashboard is read-only\n", "text/plain; charset=utf-8",
                   {"Allow": "GET, HEAD"})

    def do_HEAD(self) -> None:
        self.do_GET(body=False)

    def do_GET(self, body: bool = True) -> None:
        if not self.server.host_allowed(self.headers.get("Host", "")):
            self._send(403, b"unexpected Host header\n", "text/plain; charset=utf-8", body=body)
            return
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self._send(200, self.server.page_bytes, "text/html; charset=utf-8", {"Content-Security-Policy": page.CSP},
                       body=body)
        elif path == "/api/run.json":
            self._send(200, json.dumps(self.server.data()).encode("utf-8"), "application/json", body=body)
        elif path.startswith("/plot/") and path.endswith(".png"):
            self._plot(path[len("/plot/"):-len(".png")], body)
        elif path == "/favicon.ico":
            self._send(204, b"", "image/x-icon", body=body)
        else:
            self._send(404, b"not found\n", "text/plain; charset=utf-8", body=body)

    def _plot(self, name: str, body: bool) -> None:
        try:
            from autolearn.report._figures import empty_figure, figure_png
            from autolearn.report.search_plots import SEARCH_PLOTS
        except ImportError:
            self._send(404, b"plots need matplotlib\n", "text/plain; charset=utf-8", body=body)
            return
        if name not in SEARCH_PLOTS:
            self._send(404, b"no such plot\n", "text/plain; charset=utf-8", body=body)
            return
        with self.server.plot_lock:  # matplotlib's text and font caches are not thread-safe
            try:
                fig = SEARCH_PLOTS[name](self.server.reader.run())
            except Exception as e:  # noqa: BLE001 - a plot that does not apply says why, as an image
                fig = empty_figure(f"{name}: {e}")
            png = figure_png(fig)
        self._send(200, png, "image/png", body=body)

    def _send(self, status: int, payload: bytes, ctype: str, headers: dict[str, str] | None = None,
              body: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body and payload:
            self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], reader: _Reader, loopback: bool, verbose: bool) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.reader, self.loopback, self.verbose = reader, loopback, verbose
        self.plot_lock, self._lock = threading.Lock(), threading.Lock()
        self._cached: tuple[float, dict[str, Any]] | None = None
        try:
            from autolearn.report.search_plots import SEARCH_PLOTS

            names = list(SEARCH_PLOTS)
        except ImportError:
            names = []
        self.page_bytes = page.page(names).encode("utf-8")

    def host_allowed(self, host_header: str) -> bool:
        """On loopback, only literal loopback names: resolving the header would let a rebinding domain
        (one that resolves to 127.0.0.1) pass."""
        if not self.loopback:
            return True
        host = urlsplit("//" + host_header).hostname or ""
        if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def data(self) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > CACHE_SECONDS:
                try:
                    result = snapshot(self.reader.run(), time.time())
                except (FileNotFoundError, StudyNotFoundError, ValueError) as e:
                    result = {"title": "autolearn dashboard", "source": str(self.reader.source),
                              "error": f"waiting for the run: {e}", "updated": time.time()}
                self._cached = (now, result)
            return self._cached[1]


class Dashboard:
    """A running dashboard server (a daemon thread); ``url`` to open it, ``close()`` to stop it."""

    def __init__(self, source: RunSource, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False,
                 study: str | None = None, verbose: bool = False) -> None:
        loopback = is_loopback(host)
        if not loopback and not allow_remote:
            raise PermissionError(
                f"refusing to serve the dashboard on {host!r}, which is not a loopback address: it has no "
                "authentication and shows the run's configurations and data column names to anyone who can "
                "reach it. Give the host explicitly (serve(..., host=...) or --host) to serve on it anyway.")
        self._reader = _Reader(source, study)
        self._server = _Server((host, port), self._reader, loopback, verbose)
        self.host, self.port = host, int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> Dashboard:
        self._thread = threading.Thread(target=self._server.serve_forever, name="autolearn-dashboard", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line's way)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._reader.close()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._reader.close()

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(source: RunSource, port: int = 0, host: str | None = None, *, study: str | None = None,
          verbose: bool = False) -> Dashboard:
    """Start a dashboard on ``source`` in a background thread and return it (``.url``, ``.close()``).

    ``host=None`` binds 127.0.0.1. A non-loopback address (``"0.0.0.0"``, a LAN address) is used only
    when given here explicitly; :class:`Dashboard` without ``allow_remote=True`` refuses it with a
    PermissionError. ``port=0`` picks a free port.
    """
    return Dashboard(source, host or "127.0.0.1", port, allow_remote=host is not None, study=study,
                     verbose=verbose).start()


__all__ = ["Dashboard", "is_loopback", "serve", "snapshot"]
