"""XCom bodies (Airflow's XComSchema): list items without the value, the
single entry with `value` as the Python str() of the stored object."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from simulator.schemas.common import isoformat
from simulator.schemas.page import Item, Page
from simulator.state.run_model import DagRun, XCom
from simulator.versions import V2_5, AirflowVersion


def dump_xcom_item(xcom: XCom, run: DagRun, version: AirflowVersion = V2_5) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": xcom.key,
        "timestamp": isoformat(xcom.timestamp),
        "execution_date": isoformat(run.logical_date),
        "task_id": xcom.task_id,
        "dag_id": xcom.dag_id,
    }
    if version.at_least("2.10"):
        body["map_index"] = xcom.map_index
    return body


def dump_xcom(
    xcom: XCom, run: DagRun, version: AirflowVersion = V2_5, *, native: bool = False
) -> dict[str, Any]:
    # The value is a LargeBinary column dumped by a String field: str() of the
    # deserialized object, so {"a": 1} reads "{'a': 1}" and True reads "True";
    # 2.10's native form dumps the object itself (a Raw field).
    value = xcom.value if native or xcom.value is None else str(xcom.value)
    return {**dump_xcom_item(xcom, run, version), "value": value}


def dump_xcom_collection(
    entries: Iterable[tuple[XCom, DagRun]], total: int, version: AirflowVersion = V2_5
) -> Page:
    items: list[Item] = [
        (
            xcom,
            None,
            (xcom.key, xcom.timestamp, run.logical_date),
            partial(dump_xcom_item, xcom, run, version),
        )
        for xcom, run in entries
    ]
    return Page("xcom_entries", items, total)
