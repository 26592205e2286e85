"""web.AppKey constants."""

from __future__ import annotations

from aiohttp import web

from simulator.config import Settings
from simulator.server.auth import Authenticator
from simulator.server.validation import ResponseValidator
from simulator.simulator import Simulator
from simulator.spec.loader import Spec

SIM = web.AppKey("simulator", Simulator)
SETTINGS = web.AppKey("settings", Settings)
SPEC = web.AppKey("spec", Spec)  # the served version's
AUTH = web.AppKey("authenticator", Authenticator)
RESPONSES = web.AppKey("response_validator", ResponseValidator)
USER = web.RequestKey("user", str)  # the authenticated user's name, for the journal
FAULT = web.RequestKey("fault", str)  # the id of the fault that answered or delayed it
