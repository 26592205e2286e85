"""Config operation: the running configuration, when the admin exposes it."""

from __future__ import annotations

import re

from simulator.api.responses import Json, Text
from simulator.errors import NotAcceptable, NotFound, PermissionDenied
from simulator.schemas.config import config_text, dump_config
from simulator.simulator import Simulator

TEXT, JSON = "text/plain", "application/json"
# Airflow's serializer order: text wins when the client accepts both equally.
OFFERS = (TEXT, JSON)
NOT_EXPOSED = (
    "Your Airflow administrator chose not to expose the configuration, "
    "most likely for security reasons."
)
NO_AUTH_BACKEND = "airflow.api.auth.backend.default"
# Options Airflow 2.10 marks sensitive (its config.yml and the Celery
# provider's): get_value hides them.
SENSITIVE = frozenset({
    ("core", "fernet_key"), ("core", "dataset_manager_kwargs"),
    ("core", "internal_api_secret_key"), ("database", "sql_alchemy_conn"),
    ("database", "sql_alchemy_engine_args"), ("logging", "remote_task_handler_kwargs"),
    ("secrets", "backend_kwargs"), ("webserver", "secret_key"), ("smtp", "smtp_password"),
    ("sentry", "sentry_dsn"), ("celery", "broker_url"), ("celery", "result_backend"),
    ("celery", "flower_basic_auth"),
})  # fmt: skip
HIDDEN = "< hidden >"

# One media range of an Accept header and its q weight (werkzeug's grammar:
# parameters are kept with the range, anything after q= is ignored).
_RANGE = re.compile(
    r"([^\s;,]+(?:[ \t]*;[ \t]*(?:[^\s;,q][^\s;,]*|q[^\s;,=][^\s;,]*))*)"
    r"(?:[ \t]*;[ \t]*q=(\d*(?:\.\d+)?)[^,]*)?"
)
_MIME_SPLIT = re.compile(r"/|(?:\s*;\s*)")


def get_config(
    sim: Simulator, *, accept: str | None = None, section: str | None = None
) -> Text | Json:
    """GET /config: content negotiation first, then the expose_config switch."""
    media_type = best_match(accept, OFFERS)
    if media_type is None:
        raise NotAcceptable()  # an empty 406, not a problem body
    if not sim.settings.expose_config:
        raise PermissionDenied(detail=NOT_EXPOSED)
    config = effective_config(sim)
    if section:  # 2.10: one section (2.5.3 has no such parameter)
        if section not in config:
            raise NotFound("section not found.", detail=f"section={section} not found.")
        config = {section: config[section]}
    if media_type == TEXT:
        return Text(config_text(config), content_type=TEXT)
    # Airflow dumps this one with indent=4, keys in schema order, no newline.
    return Json(dump_config(config), indent=4)


def effective_config(sim: Simulator) -> dict[str, dict[str, str]]:
    """The installed configuration with the options the simulator's own
    settings stand for (each keeps its place in its section)."""
    config = {section: dict(options) for section, options in sim.store.config.items()}
    settings = sim.settings
    config.setdefault("webserver", {})["expose_config"] = str(settings.expose_config)
    api = config.setdefault("api", {})
    api["maximum_page_limit"], api["fallback_page_limit"] = map(str, settings.page_limits)
    if settings.auth == "none":
        api["auth_backends"] = NO_AUTH_BACKEND
    return config


def best_match(accept: str | None, offers: tuple[str, ...]) -> str | None:
    """werkzeug's MIMEAccept.best_match: the offer the client weights most,
    ties going to the more specific client range, then to the earlier offer."""
    ranges = _parse_accept(accept)
    result: str | None = None
    best_quality = -1.0
    best_specificity: tuple[int, ...] = (-1,)
    for offer in offers:
        match = next(((item, q) for item, q in ranges if _matches(offer, item)), None)
        if match is None:
            continue
        item, quality = match
        specificity = _specificity(item)
        if quality <= 0 or quality < best_quality:
            continue
        if quality > best_quality or specificity > best_specificity:
            result, best_quality, best_specificity = offer, quality, specificity
    return result


def _parse_accept(accept: str | None) -> list[tuple[str, float]]:
    """Media ranges, most specific first, then by weight (a stable sort)."""
    if not accept:
        return []
    ranges = [
        (m.group(1), max(min(float(m.group(2)), 1.0), 0.0) if m.group(2) else 1.0)
        for m in _RANGE.finditer(accept)
    ]
    return sorted(ranges, key=lambda r: (_specificity(r[0]), r[1]), reverse=True)


def _specificity(item: str) -> tuple[bool, ...]:
    return tuple(part != "*" for part in _MIME_SPLIT.split(item))


def _matches(offer: str, item: str) -> bool:
    if "/" not in item:
        return False
    offer_type, offer_subtype, *offer_params = _MIME_SPLIT.split(offer.lower())
    item_type, item_subtype, *item_params = _MIME_SPLIT.split(item.lower())
    if item_type == "*" and item_subtype != "*":
        return False
    if item_type == "*":
        return True
    return item_type == offer_type and (
        item_subtype == "*"
        or (item_subtype == offer_subtype and sorted(item_params) == sorted(offer_params))
    )


def get_value(
    sim: Simulator, *, section: str, option: str, accept: str | None = None
) -> Text | Json:
    """GET /config/section/{section}/option/{option}: one option, negotiated
    and switched as GET /config; sensitive values hidden."""
    media_type = best_match(accept, OFFERS)
    if media_type is None:
        raise NotAcceptable()
    if not sim.settings.expose_config:
        raise PermissionDenied(detail=NOT_EXPOSED)
    # conf.get lower-cases both names; the answer names them as asked.
    value = effective_config(sim).get(section.lower(), {}).get(option.lower())
    if value is None:
        raise NotFound(
            "Config not found.", detail=f"The option [{section}/{option}] is not found in config."
        )
    if (section.lower(), option.lower()) in SENSITIVE:
        value = HIDDEN
    config = {section: {option: value}}
    if media_type == TEXT:
        return Text(config_text(config), content_type=TEXT)
    return Json(dump_config(config), indent=4)
