"""Provider bodies: package name, version and the description without its
reStructuredText markup."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from simulator.state.entities import Provider

_RST_MARKUP = re.compile("[`_<>]")


def plain_description(description: str) -> str:
    """Airflow's cleanup: trim spaces, newlines and dots at both ends, then drop
    every backquote, underscore and angle bracket (even inside URLs)."""
    return _RST_MARKUP.sub("", description.strip(" \n."))


def dump_provider(provider: Provider) -> dict[str, Any]:
    return {
        "package_name": provider.package_name,
        "description": plain_description(provider.description),
        "version": provider.version,
    }


def dump_provider_collection(providers: Iterable[Provider]) -> dict[str, Any]:
    """All providers, sorted by package name as Airflow's ProvidersManager keeps them."""
    items = [dump_provider(p) for p in sorted(providers, key=lambda p: p.package_name)]
    return {"providers": items, "total_entries": len(items)}
