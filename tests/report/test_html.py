"""The HTML report: one self-contained file, every user string escaped, no network request possible."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autolearn.report.html import render_report, write_report

EVIL = "<script>alert(1)</script>"


class _Collector(HTMLParser):
    """Tags and attributes of a document, for checks on what the page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    return parser


def assert_offline(text: str) -> None:
    """No script, stylesheet link, frame or object; every src/href is inline data (or an in-page anchor)."""
    doc = _parse(text)
    tags = [t for t, _ in doc.tags]
    for banned in ("script", "link", "iframe", "object", "embed", "base", "form"):
        assert banned not in tags, f"<{banned}> in the report"
    for tag, attrs in doc.tags:
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            value = (attrs.get(name) or "").strip()
            if value:
                assert value.startswith(("data:image/png;base64,", "#")), f"<{tag} {name}={value[:60]!r}>"
        assert not any(k.startswith("on") for k in attrs), f"event handler on <{tag}>"
    assert not re.search(r"url\(|@import|https?://", text.split("<body>")[0]), "a resource in the styles"
    csp = [a.get("content", "") for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]


@pytest.fixture(scope="module")
def report(clf_model, clf_data, tmp_path_factory) -> str:
    _, _, X_test, y_test = clf_data
    path = write_report(clf_model, tmp_path_factory.mktemp("report") / "report.html", X_test, y_test)
    return path.read_text(encoding="utf-8")


def test_report_contents(report, clf_model):
    for heading in ("Summary", "Leaderboard", "Final model", "Search", "Model on test data", "Timings"):
        assert f"<h2>{heading}</h2>" in report
    for alt in ("Optimization history", "Worker timeline", "Ensemble weights", "Confusion matrix",
                "Permutation feature importance", "Partial dependence"):
        assert f'alt="{alt}"' in report
    assert 'class="error"' not in report  # no plot failed
    for _, _, trial in clf_model.search_.members:
        assert f"trial {trial}:" in report
    assert report.count('<tr class="member">') == len(clf_model.search_.members)


def test_user_strings_are_escaped(report):
    assert EVIL not in report and "<b>blue</b>" not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report  # the column name, shown as text
    assert "&lt;yes&gt;" in report and "no&amp;" in report  # class labels
    doc = _parse(report)
    assert EVIL in "".join(doc.text)  # what a reader sees is the name itself


def test_report_makes_no_network_request(report):
    assert_offline(report)


def test_report_from_a_run_directory_a_saved_model_and_studies(clf_run, asha_study, mo_study, tmp_path: Path):
    model, run_dir = clf_run
    model.save(tmp_path / "m.pkl")
    texts = {name: render_report(source) for name, source in
             (("run_dir", run_dir), ("pkl", tmp_path / "m.pkl"), ("asha", asha_study), ("mo", mo_study))}
    for text in texts.values():
        assert_offline(text)
        assert "<h2>Leaderboard</h2>" in text and 'class="error"' not in text
    assert 'alt="Multi-fidelity rungs"' in texts["asha"] and 'alt="Pareto front"' in texts["mo"]
    assert all('alt="Ensemble weights"' in texts[name] for name in ("run_dir", "pkl"))


def test_file_names_and_titles_are_escaped(clf_run, tmp_path: Path):
    _, run_dir = clf_run
    odd = tmp_path / "<img src=x onerror=alert(1)>"
    odd.mkdir()
    (odd / "history.sqlite").write_bytes((run_dir / "history.sqlite").read_bytes())
    text = render_report(odd, title="<i>mine</i>")
    assert "<img src=x" not in text and "<i>mine</i>" not in text and "&lt;i&gt;mine&lt;/i&gt;" in text
    assert_offline(text)


def test_regression_report(reg_model, reg_data, tmp_path: Path):
    _, _, X_test, y_test = reg_data
    text = write_report(reg_model, tmp_path / "r.html", X_test, y_test).read_text(encoding="utf-8")
    assert 'alt="Residuals"' in text and 'alt="Predicted vs actual"' in text and "test rmse" in text
    assert_offline(text)
