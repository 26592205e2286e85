"""Config bodies: the JSON sections list and the INI-like text form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Config = Mapping[str, Mapping[str, str]]


def dump_config(config: Config) -> dict[str, Any]:
    """{"sections": [{"name", "options": [{"key", "value"}]}]} in file order."""
    return {
        "sections": [
            {
                "name": section,
                "options": [{"key": key, "value": value} for key, value in options.items()],
            }
            for section, options in config.items()
        ]
    }


def config_text(config: Config) -> str:
    """`[section]` then `key = value` lines, each section ending in a newline,
    sections joined by a newline (so an empty section is "[name]\n\n")."""
    return "\n".join(
        f"[{section}]\n" + "\n".join(f"{key} = {value}" for key, value in options.items()) + "\n"
        for section, options in config.items()
    )
