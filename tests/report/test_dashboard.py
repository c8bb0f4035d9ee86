"""The dashboard: answers on loopback, reads only, refuses to expose itself by accident, follows a live run."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autolearn.report.dashboard import Dashboard, is_loopback, serve, snapshot
from autolearn.report.run_data import load_run


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def dashboard(clf_run):
    with serve(clf_run[1]) as running:
        yield running


def test_serves_the_page_and_the_json_on_loopback(dashboard):
    assert dashboard.host == "127.0.0.1" and dashboard.url.startswith("http://127.0.0.1:")
    status, headers, body = _get(dashboard.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "script-src 'sha256-" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    page = body.decode()
    assert "api/run.json" in page and "innerHTML" not in page and "<script src" not in page
    assert re.findall(r"https?://[^\"']*", page) == ["http://www.w3.org/2000/svg"]  # a namespace, not a request
    status, headers, body = _get(dashboard.url + "api/run.json")
    data = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert data["metric"] == "roc_auc" and data["error"] is None
    assert data["summary"]["trials"] >= 5 and data["leaderboard"]["rows"]
    assert data["history"]["points"] and data["timeline"]["bars"] and len(data["timeline"]["workers"]) == 2


def test_plot_endpoint_and_unknown_paths(dashboard):
    status, headers, body = _get(dashboard.url + "plot/worker_timeline.png")
    assert status == 200 and headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")
    assert _get(dashboard.url + "plot/rungs.png")[0] == 200  # not applicable: an image saying why
    assert _get(dashboard.url + "plot/nothing.png")[0] == 404
    assert _get(dashboard.url + "../history.sqlite")[0] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"])
def test_only_get_and_head(dashboard, method):
    request = urllib.request.Request(dashboard.url + "api/run.json", data=b"{}", method=method)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)
    assert info.value.code == 405 and info.value.headers["Allow"] == "GET, HEAD"
    head = urllib.request.Request(dashboard.url + "api/run.json", method="HEAD")
    with urllib.request.urlopen(head, timeout=30) as response:
        assert response.status == 200 and response.read() == b""


def test_foreign_host_header_is_refused(dashboard):
    """A DNS-rebinding page reaches us under its own name: only literal loopback names are served."""
    assert _get(dashboard.url, {"Host": "attacker.example"})[0] == 403
    assert _get(dashboard.url, {"Host": f"localhost:{dashboard.port}"})[0] == 200


def test_non_loopback_host_needs_an_explicit_choice(clf_run):
    with pytest.raises(PermissionError, match="not a loopback address"):
        Dashboard(clf_run[1], host="0.0.0.0")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")


def test_follows_a_running_study(tmp_path: Path):
    """Trials told while the dashboard is open show up at the next refresh (the cache lasts a second)."""
    from autolearn.report import dashboard as module
    from autolearn.tune import create_study

    storage = tmp_path / "live.sqlite"
    study = create_study({"x": ("float", 0.0, 1.0)}, optimizer="random", storage=str(storage), name="live", seed=0)
    pending = study.ask()
    with serve(str(storage)) as running:
        first = json.loads(_get(running.url + "api/run.json")[2])
        assert first["summary"]["running"] == 1 and first["summary"]["trials"] == 1
        study.tell(pending, 0.5)
        study.optimize(lambda t: t["x"], n_trials=3, isolate=False)
        running._server._cached = None  # skip the one-second cache rather than sleep
        later = json.loads(_get(running.url + "api/run.json")[2])
    assert later["summary"]["trials"] == 4 and later["summary"]["running"] == 0
    assert later["title"] == "study live" and len(later["leaderboard"]["rows"]) == 4
    assert module.CACHE_SECONDS <= 2


def test_waits_for_a_run_that_does_not_exist_yet(tmp_path: Path):
    with serve(tmp_path / "later") as running:
        data = json.loads(_get(running.url + "api/run.json")[2])
        assert data["error"].startswith("waiting for the run") and _get(running.url)[0] == 200
    assert not (tmp_path / "later").exists()  # reading never creates the run history


def test_snapshot_is_strict_json(clf_model, asha_study):
    for source in (clf_model, asha_study):
        json.dumps(snapshot(load_run(source)), allow_nan=False)
