"""/_sim/ui: the live console's page and files, served from the package's
simulator/control/ui/ folder without the control token; the page itself
loads nothing but its own files and talks to /_sim only."""

from __future__ import annotations

import dataclasses
import re

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from simulator.config import Settings
from simulator.control.console import UI_DIR
from simulator.scenario.documents import bundled_names
from tests.conftest import TEST_SETTINGS

ROUTE_NOT_FOUND = {
    "detail": "The requested URL was not found on the server. If you entered the URL "
    "manually please check your spelling and try again.",
    "status": 404,
    "title": "Not Found",
    "type": "about:blank",
}
FILES = {
    "index.html": "text/html",
    "console.js": "text/javascript",
    "console.css": "text/css",
}


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


async def test_the_page(client: TestClient) -> None:
    response = await client.get("/_sim/ui/")
    assert (response.status, response.headers["Content-Type"]) == (
        200, "text/html; charset=utf-8",
    )  # fmt: skip
    assert await response.read() == (UI_DIR / "index.html").read_bytes()
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(("name", "content_type"), FILES.items())
async def test_its_files(client: TestClient, name: str, content_type: str) -> None:
    response = await client.get(f"/_sim/ui/{name}")
    assert (response.status, response.headers["Content-Type"]) == (
        200, f"{content_type}; charset=utf-8",
    )  # fmt: skip
    assert await response.read() == (UI_DIR / name).read_bytes()


async def test_without_the_slash_a_308(client: TestClient) -> None:
    response = await client.get("/_sim/ui", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (308, "/_sim/ui/")


@pytest.mark.parametrize(
    "path",
    [
        "/_sim/ui/nothing.js",
        "/_sim/ui/..%2Fworld.py",
        "/_sim/ui/%2E%2E%2Fconsole.py",
        "/_sim/ui/..%2F..%2Fspec%2Fcontrol.yaml",
        "/_sim/ui/%2Fetc%2Fpasswd",
        "/_sim/ui/index.html%2F",
        "/_sim/ui/index.html/x",
    ],
)
async def test_nothing_outside_the_folder(client: TestClient, path: str) -> None:
    response = await client.get(URL(path, encoded=True))
    assert (response.status, await response.json()) == (404, ROUTE_NOT_FOUND)


class TestWithAControlToken:
    @pytest.fixture
    def settings(self) -> Settings:
        return dataclasses.replace(TEST_SETTINGS, control_token="s3cret")

    async def test_the_files_need_no_token(self, client: TestClient) -> None:
        for name in FILES:
            assert (await client.get(f"/_sim/ui/{name}")).status == 200
        assert (await client.get("/_sim/ui", allow_redirects=False)).status == 308
        assert (await client.get("/_sim/ui/nothing.js")).status == 404
        assert (await client.get("/_sim/world")).status == 401  # what the page calls does

    async def test_the_page_says_a_token_is_wanted(self, client: TestClient) -> None:
        """So that the console asks before its first call, not after a 401."""
        page = await (await client.get("/_sim/ui/")).text()
        assert '<meta name="control-token" content="required">' in page
        assert "s3cret" not in page


async def test_without_a_token_the_page_wants_none(client: TestClient) -> None:
    page = await (await client.get("/_sim/ui/")).text()
    assert '<meta name="control-token" content="optional">' in page


@pytest.mark.parametrize("name", FILES)
def test_only_local_assets(name: str) -> None:
    """No CDN, no remote anything: a console works offline."""
    assert re.findall(r"(?i)https?://|//[a-z0-9.-]+\.[a-z]{2,}/", (UI_DIR / name).read_text()) == []


def test_the_page_links_its_own_files() -> None:
    page = (UI_DIR / "index.html").read_text()
    linked = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sorted(linked) == ["console.css", "console.js", "data:,"]  # data:, no favicon request
    assert {name for name in FILES} <= {p.name for p in UI_DIR.iterdir()}


def test_the_script_calls_the_control_api_only() -> None:
    script = (UI_DIR / "console.js").read_text()
    assert 'const API = "/_sim";' in script
    assert re.findall(r"fetch\(([^,)]*)", script) == ["API + path"]


# The DOM contract the browser tests (tests/browser) rely on: ids, classes and
# option values that are in the page as served (rows are added by the script).
CONTRACT_IDS = [
    "status", "clock-now", "clock-mode", "clock-speed", "pause", "resume", "advance-1h",
    "advance-1d", "advance-idle", "dags", "chart", "pools", "faults", "fault-form",
    "fault-kind", "fault-operation", "fault-dag", "fault-task", "fault-seconds", "fault-add",
    "journal", "scenario-name", "scenario-select", "scenario-load", "reset", "token-dialog",
    "token", "token-save",
]  # fmt: skip


def test_the_page_holds_the_dom_contract() -> None:
    page = (UI_DIR / "index.html").read_text()
    assert [i for i in CONTRACT_IDS if page.count(f'id="{i}"') != 1] == []
    for speed in ("1", "10", "60", "600"):
        assert f'class="speed-preset" data-speed="{speed}"' in page
    kinds = re.search(r'<select id="fault-kind">(.*?)</select>', page, re.S)
    assert kinds is not None
    assert re.findall(r'value="([^"]+)"', kinds.group(1)) == [
        "http503", "latency", "task-fail", "outage",
    ]  # fmt: skip
    scenarios = re.search(r'<select id="scenario-select"[^>]*>(.*?)</select>', page, re.S)
    assert scenarios is not None
    assert re.findall(r'value="([^"]+)"', scenarios.group(1)) == sorted(bundled_names())
    assert re.search(r'<dialog id="token-dialog"(?![^>]*\bopen\b)', page)  # hidden until needed
