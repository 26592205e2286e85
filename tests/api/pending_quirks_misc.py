"""Quirks of the 2.10.5 datasets, health, XCom, pools, plugins and event-log
answers whose response-validation patches are not in simulator/quirks.py yet
(listed in the quirks hand-over for the registry): tests of those answers
use the `pending_quirks` fixture, which adds the missing ones for the test.
Once the registry has them, the fixture changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator import quirks
from simulator.quirks import AIRFLOW, ONLY_2_10, Quirk
from simulator.server.validation import response_spec_path

Document = dict[str, Any]


def _health_status_null(doc: Document) -> None:
    doc["components"]["schemas"]["HealthStatus"]["enum"].append(None)


def _connection_test_disabled(doc: Document) -> None:
    responses = doc["paths"]["/connections/test"]["post"]["responses"]
    responses["403"] = {
        "description": "Testing connections is disabled (or permission denied).",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Error"}},
        },
    }


PENDING = [
    Quirk(
        "health-status-null",
        AIRFLOW,
        ("get_health",),
        "A component without a job (no standalone DAG processor, no triggerer) has status "
        "null (the spec's HealthStatus enum lacks null).",
        _health_status_null,
        ONLY_2_10,
    ),
    Quirk(
        "connection-test-disabled",
        AIRFLOW,
        ("test_connection",),
        "Unless `[core] test_connection` is Enabled the test is refused with a 403 text/html "
        "body (not a problem).",
        _connection_test_disabled,
        ONLY_2_10,
    ),
]


@pytest.fixture
def pending_quirks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    known = {quirk.id for quirk in quirks.QUIRKS}
    missing = [quirk for quirk in PENDING if quirk.id not in known]
    if not missing:
        yield
        return
    monkeypatch.setattr(quirks, "QUIRKS", [*quirks.QUIRKS, *missing])
    response_spec_path.cache_clear()
    yield
    monkeypatch.undo()
    response_spec_path.cache_clear()
