"""Plugins: the webserver's loaded plugins, paginated in memory; none in a
stock install. Viewer may read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from simulator.state.entities import Plugin
from tests.conftest import ADMIN, NEGATIVE_OFFSET, problem

URL = "/api/v1/plugins"


def empty_plugin(name: str, source: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "hooks": [],
        "executors": [],
        "macros": [],
        "flask_blueprints": [],
        "appbuilder_views": [],
        "appbuilder_menu_items": [],
        "global_operator_extra_links": [],
        "operator_extra_links": [],
        "source": source,
    }


def add_plugins(sim: Simulator, count: int) -> None:
    for i in range(count):
        sim.store.plugins.add(Plugin(name=f"plugin_{i}", source=f"$PLUGINS_FOLDER/p{i}.py"))


# A plugin with views, menu items, hooks and executors: all valid in the 2.5.3 spec.
VIEWS_PLUGIN = Plugin(
    name="views_plugin",
    source="$PLUGINS_FOLDER/views_plugin.py",
    hooks=["views_plugin.hooks.MyHook"],
    executors=["views_plugin.executors.MyExecutor"],
    appbuilder_views=[
        {"name": "Test View", "category": "Test Plugin", "view": "views_plugin.TestView"}
    ],
    appbuilder_menu_items=[
        {"name": "Google", "href": "https://www.google.com", "category": "Search"}
    ],
)


class TestGetPlugins:
    async def test_stock_install_has_none(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"plugins": [], "total_entries": 0}

    async def test_plugin_fields(self, client: TestClient, sim: Simulator) -> None:
        sim.store.plugins.add(VIEWS_PLUGIN)
        sim.store.plugins.add(Plugin(name="bare"))
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "plugins": [
                {
                    **empty_plugin("views_plugin", "$PLUGINS_FOLDER/views_plugin.py"),
                    "hooks": ["views_plugin.hooks.MyHook"],
                    "executors": ["views_plugin.executors.MyExecutor"],
                    "appbuilder_views": [
                        {
                            "category": "Test Plugin",
                            "name": "Test View",
                            "view": "views_plugin.TestView",
                        }
                    ],
                    "appbuilder_menu_items": [
                        {"category": "Search", "href": "https://www.google.com", "name": "Google"}
                    ],
                },
                empty_plugin("bare"),
            ],
            "total_entries": 2,
        }

    async def test_string_lists_as_later_releases_answer(self, client: Any, sim: Any) -> None:
        # Airflow 2.5.3 crashes (500) on macros, blueprints and extra links;
        # later 2.x answers strings (quirk plugin-string-lists).
        sim.store.plugins.add(
            Plugin(
                name="links",
                source="my_package==1.0: EntryPoint(name='links', value='my_package.plugin')",
                macros=["my_package.macros.plus_one"],
                flask_blueprints=[
                    "<flask.blueprints.Blueprint: name='bp' import_name='my_package.bp'>"
                ],
                global_operator_extra_links=["<my_package.links.GoogleLink object>"],
                operator_extra_links=["<my_package.links.S3LogLink object>"],
            )
        )
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "plugins": [
                {
                    **empty_plugin(
                        "links",
                        "my_package==1.0: EntryPoint(name='links', value='my_package.plugin')",
                    ),
                    "macros": ["my_package.macros.plus_one"],
                    "flask_blueprints": [
                        "<flask.blueprints.Blueprint: name='bp' import_name='my_package.bp'>"
                    ],
                    "global_operator_extra_links": ["<my_package.links.GoogleLink object>"],
                    "operator_extra_links": ["<my_package.links.S3LogLink object>"],
                }
            ],
            "total_entries": 1,
        }

    async def test_limit_and_offset(self, client: TestClient, sim: Simulator) -> None:
        add_plugins(sim, 5)
        response = await client.get(URL, headers=ADMIN, params={"limit": "2", "offset": "3"})
        assert response.status == 200
        assert await response.json() == {
            "plugins": [
                empty_plugin("plugin_3", "$PLUGINS_FOLDER/p3.py"),
                empty_plugin("plugin_4", "$PLUGINS_FOLDER/p4.py"),
            ],
            "total_entries": 5,
        }

    @pytest.mark.parametrize(("limit", "count"), [("0", 100), ("500", 100), ("7", 7)])
    async def test_limit_is_clamped(
        self, client: TestClient, sim: Simulator, limit: str, count: int
    ) -> None:
        add_plugins(sim, 105)
        response = await client.get(URL, headers=ADMIN, params={"limit": limit})
        body = await response.json()
        assert len(body["plugins"]) == count
        assert body["total_entries"] == 105

    async def test_offset_past_the_end(self, client: TestClient, sim: Simulator) -> None:
        add_plugins(sim, 2)
        response = await client.get(URL, headers=ADMIN, params={"offset": "9"})
        assert response.status == 200
        assert await response.json() == {"plugins": [], "total_entries": 2}

    async def test_negative_limit(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN, params={"limit": "-5"})
        assert response.status == 400
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    async def test_negative_offset(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN, params={"offset": "-1"})
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", NEGATIVE_OFFSET, "BadRequest")

    async def test_order_by_is_not_a_parameter(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN, params={"order_by": "name"})
        assert response.status == 400
        assert await response.json() == problem(
            400, None, "Extra query parameter(s) order_by not in spec", "BadRequest"
        )

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_viewer_may_read(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        sim.store.plugins.add(Plugin(name="bare"))
        response = await client.get(URL, headers=make_user("viewer", "Viewer"))
        assert response.status == 200
        assert await response.json() == {"plugins": [empty_plugin("bare")], "total_entries": 1}

    async def test_public_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("nobody", "Public"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")


class TestOfficialClient:
    def test_get_plugins(self, api_client: Any, live: Any) -> None:
        from airflow_client.client.api.plugin_api import PluginApi

        api = PluginApi(api_client)
        empty = api.get_plugins()
        assert (empty.plugins, empty.total_entries) == ([], 0)
        live.sim.store.plugins.add(VIEWS_PLUGIN)
        live.sim.store.plugins.add(Plugin(name="bare"))
        page = api.get_plugins(limit=1, offset=0)
        assert page.total_entries == 2
        [plugin] = page.plugins
        assert plugin.name == "views_plugin"
        assert plugin.hooks == ["views_plugin.hooks.MyHook"]
        assert plugin.appbuilder_views[0]["view"] == "views_plugin.TestView"
        assert plugin.source == "$PLUGINS_FOLDER/views_plugin.py"
