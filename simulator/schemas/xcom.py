"""XCom bodies (Airflow's XComSchema): list items without the value, the
single entry with `value` as the Python str() of the stored object."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from simulator.schemas.common import isoformat
from simulator.schemas.page import Item, Page
from simulator.state.run_model import DagRun, XCom


def dump_xcom_item(xcom: XCom, run: DagRun) -> dict[str, Any]:
    return {
        "key": xcom.key,
        "timestamp": isoformat(xcom.timestamp),
        "execution_date": isoformat(run.logical_date),
        "task_id": xcom.task_id,
        "dag_id": xcom.dag_id,
    }


def dump_xcom(xcom: XCom, run: DagRun) -> dict[str, Any]:
    # The value is a LargeBinary column dumped by a String field: str() of the
    # deserialized object, so {"a": 1} reads "{'a': 1}" and True reads "True".
    value = None if xcom.value is None else str(xcom.value)
    return {**dump_xcom_item(xcom, run), "value": value}


def dump_xcom_collection(entries: Iterable[tuple[XCom, DagRun]], total: int) -> Page:
    items: list[Item] = [
        (
            xcom,
            None,
            (xcom.key, xcom.timestamp, run.logical_date),
            partial(dump_xcom_item, xcom, run),
        )
        for xcom, run in entries
    ]
    return Page("xcom_entries", items, total)
