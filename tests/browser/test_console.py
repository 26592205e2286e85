"""The console at /_sim/ui in a real browser: it loads without errors, its
buttons move the clock, its form adds a fault that the next API call meets
and the live journal shows, it switches scenarios, and it asks for the
control token when the server wants one. Each test leaves a screenshot of
the console in its tmp dir (the `page` fixture)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulator.testing.live import LiveServer, live_server
from tests.browser.conftest import PageErrors
from tests.conftest import TEST_SETTINGS

TIMEOUT = 10_000  # ms: a few polls of the console


@pytest.fixture
def fresh() -> Iterator[LiveServer]:
    with live_server(TEST_SETTINGS) as live:
        yield live


def open_console(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.root}/_sim/ui/")
    page.wait_for_function(
        "document.querySelector('#status')?.textContent.trim() === 'connected'", timeout=TIMEOUT
    )


def text(page: Any, selector: str) -> str:
    return str(page.locator(selector).first.inner_text()).strip()


def test_the_console_loads_without_errors(
    page: Any, fresh: LiveServer, page_errors: PageErrors
) -> None:
    open_console(page, fresh)
    assert text(page, "#scenario-name") == "ci"
    assert text(page, "#clock-now") == "2023-04-01T00:00:00+00:00"
    assert page.locator("#dags [data-dag-id]").count() == 9
    assert page.locator("#pools [data-pool='default_pool']").count() == 1
    assert page.locator("#chart svg").count() == 1
    assert page_errors == []


def test_advance_one_hour_moves_the_clock_and_runs_appear(
    page: Any, fresh: LiveServer, page_errors: PageErrors
) -> None:
    open_console(page, fresh)
    squares = page.locator("[data-dag-id='etl_orders'] .run-square")
    before = squares.count()
    page.click("#advance-1h")
    page.wait_for_function(
        "document.querySelector('#clock-now').textContent.trim() === '2023-04-01T01:00:00+00:00'",
        timeout=TIMEOUT,
    )
    page.wait_for_function(
        f"document.querySelectorAll(\"[data-dag-id='etl_orders'] .run-square\").length > {before}",
        timeout=TIMEOUT,
    )
    assert page_errors == []


def test_a_503_from_the_form_fails_the_next_call_and_shows_in_the_journal(
    page: Any, fresh: LiveServer, page_errors: PageErrors
) -> None:
    open_console(page, fresh)
    page.select_option("#fault-kind", "http503")
    page.fill("#fault-operation", "get_pools")
    page.click("#fault-add")
    page.locator("#faults [data-fault-id='f1']").wait_for(timeout=TIMEOUT)
    answer = requests.get(f"{fresh.url}/pools", auth=("admin", "admin"), timeout=10)
    assert answer.status_code == 503
    row = page.locator("#journal [data-entry-id]").first
    row.locator(".fault").filter(has_text="f1").wait_for(timeout=TIMEOUT)
    assert text(page, "#journal [data-entry-id] .status") == "503"
    page.locator("#faults [data-fault-id='f1'] .fired").filter(has_text="1").wait_for(
        timeout=TIMEOUT
    )
    assert page_errors == []


def test_switching_the_scenario(page: Any, fresh: LiveServer, page_errors: PageErrors) -> None:
    open_console(page, fresh)
    page.select_option("#scenario-select", "demo")
    page.click("#scenario-load")
    page.wait_for_function(
        "document.querySelector('#scenario-name').textContent.trim() === 'demo'",
        timeout=60_000,  # demo builds its history first
    )
    assert fresh.sim.scenario.name == "demo"
    page.locator("#dags [data-dag-id='nightly_report']").wait_for(timeout=TIMEOUT)
    assert page_errors == []


def test_it_asks_for_the_control_token(page: Any, page_errors: PageErrors) -> None:
    settings = dataclasses.replace(TEST_SETTINGS, control_token="s3cret")
    with live_server(settings) as server:
        page.goto(f"{server.root}/_sim/ui/")
        page.locator("#token-dialog").wait_for(state="visible", timeout=TIMEOUT)
        page.fill("#token", "s3cret")
        page.click("#token-save")
        page.wait_for_function(
            "document.querySelector('#status').textContent.trim() === 'connected'",
            timeout=TIMEOUT,
        )
    # The 401s before the token was given are the console's question, not errors.
    assert [e for e in page_errors if "401" not in e] == []
