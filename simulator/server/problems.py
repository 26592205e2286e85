"""ApiError -> RFC 7807 problem body with Airflow's `type` links.

aiohttp's own 404/405 and any crash are rendered here too, so every error
a client sees has one shape.
"""

from __future__ import annotations

from aiohttp import web

from simulator.errors import ApiError, NotAcceptable
from simulator.server.encoding import dump_json
from simulator.versions import V2_5

# What a flask Response without a mimetype says it holds.
FLASK_DEFAULT_TYPE = "text/html; charset=utf-8"
DOCS = V2_5.docs  # the default version's reference
PROBLEM_JSON = "application/problem+json"

# werkzeug's stock sentences, which Airflow passes through for route errors.
ROUTE_NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again."
)
METHOD_NOT_ALLOWED = "The method is not allowed for the requested URL."


def type_url(error: ApiError, docs: str = DOCS) -> str:
    """The `type` link: into the served version's API reference."""
    return f"{docs}#section/Errors/{error.type_name}" if error.type_name else "about:blank"


def problem_response(
    status: int,
    title: str | None,
    detail: str | None,
    type_: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"detail": detail, "status": status, "title": title, "type": type_}
    return web.Response(
        status=status, body=dump_json(body), content_type=PROBLEM_JSON, headers=headers
    )


def render(error: ApiError, docs: str = DOCS) -> web.Response:
    if isinstance(error, NotAcceptable):
        # Airflow answers 406 outside the problem format, as a bare flask
        # Response: its default content type is text/html.
        return web.Response(
            status=406, body=error.body.encode(), headers={"Content-Type": FLASK_DEFAULT_TYPE}
        )
    return problem_response(
        error.status, error.title, error.detail, type_url(error, docs), error.headers
    )


def render_http(exc: web.HTTPException) -> web.Response:
    """aiohttp's route-level errors, as werkzeug words them (type about:blank)."""
    if exc.status == 404:
        return problem_response(404, "Not Found", ROUTE_NOT_FOUND, "about:blank")
    if exc.status == 405:
        # connexion builds a fresh problem response: werkzeug's Allow header is lost.
        return problem_response(405, "Method Not Allowed", METHOD_NOT_ALLOWED, "about:blank")
    return problem_response(exc.status, exc.reason, exc.text, "about:blank")
