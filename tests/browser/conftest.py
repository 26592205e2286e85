"""Browser tests: Playwright for Python driving Debian's chromium headless
(Playwright's own browser download is not reachable here). Without a
chromium they skip with one line; `.ci/run` installs it when it can.

Each test gets a fresh page whose console errors and uncaught exceptions
are collected (`page_errors`), and leaves a screenshot of its page in its
tmp dir."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing.live import LiveServer, live_server
from tests.conftest import TEST_SETTINGS

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    """AIRFLOW_SIM_CHROMIUM, else the first chromium on PATH."""
    given = os.environ.get("AIRFLOW_SIM_CHROMIUM")
    if given:
        return given
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One chromium for the browser tests, closed after them: Playwright's sync
    API runs an event loop on this thread while it is open, which the async
    tests that follow must not find."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium found (apt-get install chromium): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


class PageErrors(list[str]):
    """What the page reported as errors: console errors, uncaught exceptions."""


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Any, page_errors: PageErrors, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.on("console", lambda m: m.type == "error" and page_errors.append(m.text))
    opened.on("pageerror", lambda e: page_errors.append(str(e)))
    yield opened
    if opened.url != "about:blank":
        opened.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    context.close()


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """A live `ci` server for a module's tests (reset by each test that needs it)."""
    with live_server(TEST_SETTINGS) as live:
        yield live
