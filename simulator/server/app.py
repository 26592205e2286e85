"""create_app(settings) -> web.Application."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger

from simulator.config import Settings
from simulator.control.app import create_control_app
from simulator.server import docs
from simulator.server.auth import Authenticator
from simulator.server.cors import cors_middleware
from simulator.server.faults import faults_middleware
from simulator.server.journal import journal_middleware
from simulator.server.keys import AUTH, RESPONSES, SETTINGS, SIM, SPEC
from simulator.server.middleware import problems_middleware, response_validation_middleware
from simulator.server.routing import add_routes
from simulator.server.validation import ResponseValidator
from simulator.simulator import Simulator
from simulator.spec import load_spec

# The largest request body read (aiohttp's default is 1 MiB). Airflow sets
# none (Flask's MAX_CONTENT_LENGTH is unset, gunicorn has no body limit);
# this keeps one request's memory bounded: a 16 MiB body of tiny JSON
# objects already parses into about 400 MB. Past it: 413 (adapter).
MAX_REQUEST_BODY = 16 * 1024 * 1024
NEWLINE = "\n"


class ClientErrors(logging.Filter):
    """aiohttp logs at ERROR, with a traceback, what the client did: a
    malformed request (a bad request line, header, length or chunk), which
    it has already answered with a 400, and a client gone before its answer
    (a 100 Continue for a client that hung up). gunicorn, Airflow's server,
    logs those at debug in one line; so does this filter. Anything else,
    a 500 from a bug included, stays an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            client_side = 400 <= error.code < 500
            reason = f"{error.code}, {error.message.partition(NEWLINE)[0]}"
        else:
            client_side = isinstance(error, ConnectionResetError)
            reason = repr(error)
        if not client_side:
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.msg = f"{record.getMessage()}: {reason}"
        record.args, record.exc_info, record.exc_text = None, None, None
        return True


CLIENT_ERRORS = ClientErrors()


def create_app(
    settings: Settings | None = None, simulator: Simulator | None = None
) -> web.Application:
    settings = settings or Settings()
    # journal -> cors -> faults -> [response validation] -> problems: a
    # fault's answer is journaled and carries CORS headers but is not
    # validated; problem bodies are validated.
    middlewares = [
        journal_middleware,
        cors_middleware,
        faults_middleware(settings.allow_fault_header),
        problems_middleware,
    ]
    if settings.validate_responses:
        middlewares.insert(3, response_validation_middleware)
    app = web.Application(middlewares=middlewares, client_max_size=MAX_REQUEST_BODY)
    server_logger.addFilter(CLIENT_ERRORS)  # once: the same filter is not added twice
    app[SIM] = simulator or Simulator(settings)
    app[SETTINGS] = app[SIM].settings  # resolved against the scenario
    app[SPEC] = spec = load_spec(app[SIM].version.name)
    app[AUTH] = Authenticator()
    app.on_cleanup.append(_stop_hashing)
    if settings.validate_responses:
        app[RESPONSES] = ResponseValidator(spec.version.name)
    docs.add_routes(app)  # before the spec's routes: /ui is no DAG-side path
    add_routes(app, spec)
    app.add_subapp("/_sim", create_control_app(validate_responses=settings.validate_responses))
    return app


async def _stop_hashing(app: web.Application) -> None:
    app[AUTH].close()
