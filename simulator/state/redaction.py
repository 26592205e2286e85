"""Airflow's secrets masker, for what the API shows of sensitive values."""

from __future__ import annotations

import json
from typing import Any

SENSITIVE_NAMES = (
    "access_token",
    "api_key",
    "apikey",
    "authorization",
    "passphrase",
    "passwd",
    "password",
    "private_key",
    "secret",
    "token",
    "keyfile_dict",
    "service_account",
)
MASK = "***"
MAX_DEPTH = 5  # Airflow's SecretsMasker.MAX_RECURSION_DEPTH: deeper values are left as they are


def is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_NAMES)


def redact(value: Any, name: str | None = None, depth: int = 0) -> Any:
    """Mask `value` when `name` is sensitive; recurse into containers.

    Under a sensitive name every string leaf is masked; numbers, booleans
    and None are left alone, as Airflow's masker does, down to its depth.
    """
    if depth > MAX_DEPTH:
        return value
    if name is not None and is_sensitive(name):
        return _mask_all(value, depth)
    if isinstance(value, dict):
        return {k: redact(v, str(k), depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v, None, depth + 1) for v in value)
    return value


def _mask_all(value: Any, depth: int) -> Any:
    """Airflow's _redact_all: past the depth, whatever is left is masked."""
    if depth > MAX_DEPTH or isinstance(value, str):
        return MASK
    if isinstance(value, dict):
        return {k: _mask_all(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_all(v, depth + 1) for v in value)
    return value


def redact_extra(extra: str | None) -> str | None:
    """Airflow's serialize_extra: JSON is redacted and re-serialized, anything else verbatim."""
    if extra is None:
        return None
    try:
        return json.dumps(redact(json.loads(extra)))
    except (ValueError, RecursionError):  # unstructured, or too deep to write again
        return extra
