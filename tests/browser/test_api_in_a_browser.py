"""The API from a browser: Swagger UI's "Try it out" against the simulator
with basic auth, and a page of another origin calling the API with fetch(),
allowed by CORS or refused without it."""

from __future__ import annotations

import dataclasses
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing.live import LiveServer, live_server
from tests.conftest import TEST_SETTINGS

FRONTEND = b"""<!DOCTYPE html><html><head><title>frontend</title></head><body>
<script>
async function listDags(api) {
  try {
    const response = await fetch(api + "/dags?limit=3", {
      headers: {Authorization: "Basic " + btoa("admin:admin")},
    });
    const body = await response.json();
    return {status: response.status, dags: body.dags.map(d => d.dag_id)};
  } catch (error) {
    return {error: String(error)};
  }
}
</script></body></html>"""


class _Frontend(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(FRONTEND)))
        self.end_headers()
        self.wfile.write(FRONTEND)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def frontend() -> Iterator[str]:
    """A dev server of another origin (another port) serving one page."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Frontend)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_swagger_ui_lists_dags_through_try_it_out(
    browser: Any, server: LiveServer, tmp_path: Path
) -> None:
    # The spec declares `security: []`, so Swagger UI sends no credentials:
    # the 401's `WWW-Authenticate: Basic` makes the browser ask for them (as
    # with an Airflow whose API uses basic auth); Playwright answers for the user.
    context = browser.new_context(http_credentials={"username": "admin", "password": "admin"})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.root}/api/v1/ui/")
    operation = page.locator("#operations-DAG-get_dags")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    live = operation.locator(".live-responses-table .response")
    live.locator(".response-col_status").first.wait_for()
    assert live.locator(".response-col_status").first.inner_text().strip() == "200"
    assert '"dag_id": "etl_orders"' in live.locator(".highlight-code").first.inner_text()
    page.screenshot(path=str(tmp_path / "swagger-ui.png"))
    context.close()
    assert errors == []


@pytest.mark.parametrize("allowed", [True, False])
def test_another_origin_may_fetch_when_cors_allows(page: Any, frontend: str, allowed: bool) -> None:
    settings = dataclasses.replace(
        TEST_SETTINGS,
        cors_origins=frontend if allowed else "http://elsewhere.example",
        cors_headers="Authorization",
        cors_methods="GET",
    )
    with live_server(settings) as api:
        page.goto(frontend + "/")
        found = page.evaluate("api => listDags(api)", api.url)
        entries = api.sim.journal.page(_all(), 10, 0)[0]
    if allowed:
        assert found == {"status": 200, "dags": ["etl_orders", "fan_out_fan_in",
                                                 "flaky_api_sync"]}  # fmt: skip
        # The preflight (no credentials), then the call itself.
        assert [(e.method, e.status) for e in reversed(entries)] == [("OPTIONS", 200), ("GET", 200)]
    else:
        assert found == {"error": "TypeError: Failed to fetch"}
        assert [(e.method, e.status) for e in entries] == [("OPTIONS", 200)]  # refused there


def _all() -> Any:
    from simulator.state.journal import Filters

    return Filters()
