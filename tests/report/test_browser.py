"""The report and the dashboard in a real headless Chromium: the leaderboard renders, the console stays
clean, nothing is fetched from elsewhere; screenshots go to docs/report.png and docs/dashboard.png.

Needs Debian's chromium (``apt-get install -y chromium chromium-driver``) and the ``playwright`` Python
package (its own browser download is not used) or else ``selenium``; skipped with a message otherwise.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autolearn.report.dashboard import serve
from autolearn.report.html import write_report

DOCS = Path(__file__).resolve().parents[2] / "docs"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHROMIUM = os.environ.get("AUTOLEARN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class _Page:
    """The few browser operations the checks need, over Playwright or Selenium."""

    def __init__(self, driver: Any, kind: str, page: Any = None) -> None:
        self.driver, self.kind, self.page = driver, kind, page
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        if kind == "playwright":
            page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
            page.on("pageerror", lambda e: self.console_errors.append(str(e)))
            page.on("request", lambda r: self.requests.append(r.url))

    def open(self, url: str, selector: str) -> None:
        """Load ``url`` and wait until ``selector`` matches (the page has rendered)."""
        if self.kind == "playwright":
            self.page.goto(url)
        else:
            self.driver.get(url)
        self.wait(selector)

    def wait(self, selector: str) -> None:
        if self.kind == "playwright":
            self.page.wait_for_selector(selector, timeout=30_000)
        else:
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support import expected_conditions
            from selenium.webdriver.support.ui import WebDriverWait

            WebDriverWait(self.driver, 30).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def count(self, selector: str) -> int:
        if self.kind == "playwright":
            return self.page.locator(selector).count()
        from selenium.webdriver.common.by import By

        return len(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def errors(self) -> list[str]:
        if self.kind == "selenium":
            logs = self.driver.get_log("browser")
            self.console_errors += [e["message"] for e in logs if e["level"] == "SEVERE"]
        return self.console_errors

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.kind == "playwright":
            self.page.screenshot(path=str(path))
        else:
            self.driver.save_screenshot(str(path))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium chromium-driver); browser checks skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is not None:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            yield ("playwright", chromium)
            chromium.close()
        return
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("neither playwright nor selenium is installed (pip install playwright); browser checks skipped")
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        pytest.skip("chromedriver is not installed (apt-get install -y chromium-driver); browser checks skipped")
    yield ("selenium", (webdriver, Service, driver_path))


@pytest.fixture
def page(browser: Any) -> Iterator[_Page]:
    kind, handle = browser
    if kind == "playwright":
        context = handle.new_context(viewport={"width": 1280, "height": 1500})
        yield _Page(None, kind, context.new_page())
        context.close()
        return
    webdriver, service, driver_path = handle
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, "--window-size=1280,1500"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=service(executable_path=driver_path), options=options)
    yield _Page(driver, kind)
    driver.quit()


def test_report_in_a_browser(page: _Page, clf_model, clf_data, tmp_path: Path):
    _, _, X_test, y_test = clf_data
    path = write_report(clf_model, tmp_path / "report.html", X_test, y_test)
    page.open(path.as_uri(), "table tbody tr")
    assert page.count("section:nth-of-type(2) table tbody tr") >= 5  # the leaderboard
    assert page.count("img") >= 10
    assert page.errors() == []
    assert all(url.startswith(("file:", "data:")) for url in page.requests), page.requests
    page.screenshot(DOCS / "report.png")


def test_dashboard_in_a_browser(page: _Page, clf_run):
    with serve(clf_run[1]) as running:
        page.open(running.url, "#leaderboard-table tbody tr")
        page.wait("#timeline-svg rect")
        assert page.count("#leaderboard-table tbody tr") >= 5
        assert page.count("#history-svg circle") >= 5
        assert page.errors() == []
        assert all(url.startswith(running.url) or url.startswith("data:") for url in page.requests), page.requests
        page.screenshot(DOCS / "dashboard.png")
