"""create_app(settings) -> web.Application."""

from __future__ import annotations

from aiohttp import web

from simulator.config import Settings
from simulator.control.app import create_control_app
from simulator.server import docs
from simulator.server.auth import Authenticator
from simulator.server.cors import cors_middleware
from simulator.server.faults import faults_middleware
from simulator.server.journal import journal_middleware
from simulator.server.keys import AUTH, RESPONSES, SETTINGS, SIM
from simulator.server.middleware import problems_middleware, response_validation_middleware
from simulator.server.routing import add_routes
from simulator.server.validation import ResponseValidator
from simulator.simulator import Simulator
from simulator.spec import load_spec


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
    app = web.Application(middlewares=middlewares)
    app[SIM] = simulator or Simulator(settings)
    app[SETTINGS] = app[SIM].settings  # resolved against the scenario
    app[AUTH] = Authenticator()
    if settings.validate_responses:
        app[RESPONSES] = ResponseValidator()
    docs.add_routes(app)  # before the spec's routes: /ui is no DAG-side path
    add_routes(app, load_spec())
    app.add_subapp("/_sim", create_control_app(validate_responses=settings.validate_responses))
    return app
