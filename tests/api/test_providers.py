"""Providers: every installed provider package, sorted by name, descriptions
stripped of their reStructuredText markup. No pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.schemas.provider import plain_description
from simulator.simulator import Simulator
from simulator.state.entities import Provider
from tests.conftest import ADMIN, problem

URL = "/api/v1/providers"

# The five hard dependencies of apache-airflow 2.5.3.
STOCK = [
    {
        "package_name": "apache-airflow-providers-common-sql",
        "description": "Common SQL Provider https://en.wikipedia.org/wiki/SQL",
        "version": "1.3.4",
    },
    {
        "package_name": "apache-airflow-providers-ftp",
        "description": "File Transfer Protocol (FTP) https://tools.ietf.org/html/rfc114",
        "version": "3.3.1",
    },
    {
        "package_name": "apache-airflow-providers-http",
        "description": "Hypertext Transfer Protocol (HTTP) https://www.w3.org/Protocols/",
        "version": "4.2.0",
    },
    {
        "package_name": "apache-airflow-providers-imap",
        "description": "Internet Message Access Protocol (IMAP) https://tools.ietf.org/html/rfc3501",
        "version": "3.1.1",
    },
    {
        "package_name": "apache-airflow-providers-sqlite",
        "description": "SQLite https://www.sqlite.org/",
        "version": "3.3.1",
    },
]


class TestGetProviders:
    async def test_stock_install(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"providers": STOCK, "total_entries": 5}

    async def test_sorted_by_package_name(self, client: TestClient, sim: Simulator) -> None:
        sim.store.providers.add(
            Provider(
                package_name="apache-airflow-providers-amazon",
                description="Amazon integration (including `Amazon Web Services (AWS) "
                "<https://aws.amazon.com/>`__).\n",
                version="7.4.1",
            )
        )
        response = await client.get(URL, headers=ADMIN)
        body = await response.json()
        assert body["total_entries"] == 6
        assert body["providers"][0] == {
            "package_name": "apache-airflow-providers-amazon",
            "description": "Amazon integration (including Amazon Web Services (AWS) "
            "https://aws.amazon.com/)",
            "version": "7.4.1",
        }
        assert body["providers"][1:] == STOCK

    @pytest.mark.parametrize(
        ("raw", "plain"),
        [
            ("`SQLite <https://www.sqlite.org/>`__\n", "SQLite https://www.sqlite.org/"),
            # Underscores go even inside URLs; dots and spaces only at the ends.
            (
                " `FTP <https://en.wikipedia.org/wiki/File_Transfer_Protocol>`__. \n",
                "FTP https://en.wikipedia.org/wiki/FileTransferProtocol",
            ),
            ("Plain text.", "Plain text"),
        ],
    )
    def test_description_markup_is_removed(self, raw: str, plain: str) -> None:
        assert plain_description(raw) == plain

    async def test_query_parameters_are_ignored(self, client: TestClient) -> None:
        # The operation declares no parameters, so connexion ignores unknown ones.
        response = await client.get(URL, headers=ADMIN, params={"limit": "1"})
        assert response.status == 200
        assert (await response.json())["total_entries"] == 5

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("viewer", "Viewer"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_op_may_read(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("op", "Op"))
        assert response.status == 200


class TestOfficialClient:
    def test_get_providers(self, api_client: Any) -> None:
        from airflow_client.client.api.provider_api import ProviderApi

        # The client types this inline allOf response as a free-form object.
        result = ProviderApi(api_client).get_providers()
        assert result == {"providers": STOCK, "total_entries": 5}
