"""DagStats bodies (Airflow 2.10's DagStatsCollectionSchema): per DAG, the
count of its runs in each run state, every state listed in DagRunState's order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from simulator.state.enums import DagRunState


def dump_dag_stats(dag_id: str, count: Callable[[str], int]) -> dict[str, Any]:
    return {
        "dag_id": dag_id,
        "stats": [{"state": state.value, "count": count(state.value)} for state in DagRunState],
    }


def dump_dag_stats_collection(stats: Iterable[dict[str, Any]]) -> dict[str, Any]:
    dags = list(stats)
    return {"dags": dags, "total_entries": len(dags)}
