"""The live console: a page at /_sim/ui/ with its script and styles, plain
files of simulator/control/ui/ (no build step, no CDN). The files need no
control token; everything the page shows and does goes through the control
API, which does: the page says whether the server wants one, so that the
console asks for it before its first call (and again on a 401)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from simulator.server.keys import SIM

UI_DIR = Path(__file__).with_name("ui")
PAGE = "/_sim/ui/"
TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}
# index.html's marker, "required" when the server runs with --control-token.
TOKEN_OPTIONAL = b'<meta name="control-token" content="optional">'
TOKEN_REQUIRED = b'<meta name="control-token" content="required">'
# The routes the token check lets through.
ROUTES = frozenset({"console_redirect", "get_console", "get_console_file"})


def _file(request: web.Request, name: str) -> web.Response:
    """A file of the folder, by its exact name (nothing outside it, no
    subfolder, no hidden file): else the 404 of a path no route has."""
    files = {p.name: p for p in UI_DIR.iterdir() if p.is_file() and not p.name.startswith(".")}
    if name not in files:
        raise web.HTTPNotFound()
    path = files[name]
    body = path.read_bytes()
    if name == "index.html" and request.config_dict[SIM].settings.control_token:
        body = body.replace(TOKEN_OPTIONAL, TOKEN_REQUIRED)
    content_type = TYPES.get(path.suffix, "application/octet-stream")
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8" if content_type.startswith("text/") else None,
        headers={"Cache-Control": "no-cache"},  # a new release's files are fetched again
    )


async def get_console(request: web.Request) -> web.Response:
    return _file(request, "index.html")


async def get_console_file(request: web.Request) -> web.Response:
    return _file(request, request.match_info["filename"])


async def console_redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(PAGE)  # as /api/v1/ui: strict slashes, 308


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ui", console_redirect, name="console_redirect")
    app.router.add_get("/ui/", get_console, name="get_console")
    app.router.add_get("/ui/{filename:.+}", get_console_file, name="get_console_file")
