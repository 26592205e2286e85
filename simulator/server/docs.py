"""What Airflow's API serves about itself, through connexion 2.14:
the spec at /api/v1/openapi.json and /api/v1/openapi.yaml (the served
version's vendored spec with `servers` set to the base path, as connexion's
`with_base_path` does) and Swagger UI at /api/v1/ui/, from the
swagger-ui-bundle package (no CDN). None of them asks for credentials;
Swagger UI's "Authorize" takes the basic-auth user for "Try it out"."""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from simulator.server.keys import SPEC
from simulator.server.routing import options
from simulator.spec.loader import BASE_PATH, load_spec
from simulator.versions import DEFAULT_VERSION

UI = BASE_PATH + "/ui"
SPEC_JSON, SPEC_YAML = BASE_PATH + "/openapi.json", BASE_PATH + "/openapi.yaml"


@functools.cache
def _served(version: str) -> dict[str, Any]:
    spec = copy.deepcopy(load_spec(version).raw)
    spec["servers"] = [{"url": BASE_PATH}]
    return spec


@functools.cache
def spec_json(version: str = DEFAULT_VERSION) -> bytes:
    """As Flask's jsonify writes it: sorted keys, compact, ASCII, a newline."""
    return json.dumps(_served(version), sort_keys=True, separators=(",", ":")).encode() + b"\n"


class _Dumper(yaml.SafeDumper):
    """connexion's yaml dump: no anchors, multi-line texts as `|` blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    block = any(c in value for c in "\n\r\x1c\x1d\x1e\x85\u2028\u2029")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if block else None)


_Dumper.add_representer(str, _text)


@functools.cache
def spec_yaml(version: str = DEFAULT_VERSION) -> bytes:
    return yaml.dump(_served(version), allow_unicode=True, Dumper=_Dumper).encode()


@functools.cache
def _ui_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path

    return Path(swagger_ui_path)


@functools.cache
def ui_index() -> bytes:
    """swagger-ui-bundle's index template as connexion renders it: the spec's
    URL filled in, the optional parts (urls, configUrl, initOAuth) left out."""
    template = (_ui_dir() / "index.j2").read_text()
    page = re.sub(r"\{% if \w+ is defined %\}.*?\{% endif %\}\n?", "", template, flags=re.S)
    page = page.replace("{{ openapi_spec_url }}", SPEC_JSON)
    page = page.replace("{{ validatorUrl | default('null') }}", "null")
    assert "{{" not in page and "{%" not in page, "an unknown swagger-ui template"
    return page.encode()


async def get_spec_json(request: web.Request) -> web.Response:
    body = spec_json(request.app[SPEC].version.name)
    return web.Response(body=body, content_type="application/json")


async def get_spec_yaml(request: web.Request) -> web.Response:
    body = spec_yaml(request.app[SPEC].version.name)
    return web.Response(body=body, headers={"Content-Type": "text/yaml"})


async def get_ui(request: web.Request) -> web.Response:
    return web.Response(body=ui_index(), content_type="text/html", charset="utf-8")


async def get_ui_file(request: web.Request) -> web.StreamResponse:
    """A file of the bundle (send_from_directory: nothing outside it)."""
    root = _ui_dir().resolve()
    try:
        path = (root / request.match_info["filename"]).resolve()
        found = path.is_relative_to(root) and path.is_file()
    except (ValueError, OSError):  # a NUL byte, a name too long
        found = False
    if not found:
        raise web.HTTPNotFound()  # rendered as the API's 404 problem
    return web.FileResponse(path)


async def ui_redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(UI + "/")  # werkzeug's strict slashes: 308


def add_routes(app: web.Application) -> None:
    for path, handler in (
        (SPEC_JSON, get_spec_json), (SPEC_YAML, get_spec_yaml), (UI, ui_redirect),
        (UI + "/", get_ui), (UI + "/{filename:.+}", get_ui_file),
    ):  # fmt: skip
        app.router.add_get(path, handler)
        if path != UI:  # werkzeug redirects /ui first
            app.router.add_route("OPTIONS", path, options)
