"""The TaskInstance request forms (Airflow's form schemas) and the filters
the TI lists share.

Forms load as marshmallow 3 does in Airflow: fields in declaration order,
then unknown keys, the 400 detail being the Python repr of the errors.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulator.engine import history
from simulator.errors import BadRequest
from simulator.schemas.dag_run import BATCH_DATES  # the run and instance forms share them
from simulator.schemas.loading import MISSING, NULL, UNKNOWN
from simulator.state.queries import TiQuery
from simulator.state.run_model import DagRun, TaskInstance
from simulator.versions import V2_5, AirflowVersion

NOTE_MAX_LENGTH = 1000
NOT_INTEGER = "Not a valid integer."
TOO_LARGE = "Number too large."


def load_update_state(body: Mapping[str, Any]) -> tuple[bool, str]:
    """SetSingleTaskInstanceStateFormSchema: (dry_run, new_state).

    The spec already checked both types and new_state's enum. Without dry_run,
    Airflow 2.5.3 crashes (the field has no load default); later 2.x releases
    default it to true, and so does the simulator.
    """
    errors: dict[str, list[str]] = {}
    if "new_state" not in body:
        errors["new_state"] = [MISSING]
    _unknown(body, ("dry_run", "new_state"), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return bool(body.get("dry_run", True)), str(body["new_state"])


def load_note(body: Mapping[str, Any]) -> str | None:
    """SetTaskInstanceNoteFormSchema: the note (≤ 1000 characters); an integer
    `map_index` is accepted and ignored."""
    errors: dict[str, list[str]] = {}
    if "map_index" in body:
        error = _integer_error(body["map_index"], allow_none=False)
        if error:
            errors["map_index"] = [error]
    note = body.get("note")
    if isinstance(note, str) and len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [f"Longer than maximum length {NOTE_MAX_LENGTH}."]
    _unknown(body, ("map_index", "note"), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return note


@dataclass(frozen=True, slots=True)
class TiFilter:
    """The filters the TI list endpoints share (all optional, AND-ed)."""

    dates: Mapping[str, datetime | None]
    duration_gte: float | None = None
    duration_lte: float | None = None
    states: list[str | None] | None = None
    pools: list[str] | None = None
    queues: list[str] | None = None
    dag_ids: list[str] | None = None
    # Airflow 2.10's filters: the row's updated_at window, the executors
    # (`executor_of` answers an instance's), the batch's runs and tasks.
    updated_gte: datetime | None = None
    updated_lte: datetime | None = None
    executors: list[str] | None = None
    executor_of: Callable[[TaskInstance], str | None] | None = None
    run_ids: list[str] | None = None
    task_ids: list[str] | None = None

    def query(self, dag_ids: Collection[str] | None, run_id: str | None) -> TiQuery:
        """The store query: states, the logical-date window, the runs and the
        tasks go to the indices, the other filters (if any) to `keep`."""
        dates = self.dates
        others = (self.duration_gte, self.duration_lte, self.pools, self.queues,
                  self.updated_gte, self.updated_lte, self.executors,
                  *(dates[name] for name in BATCH_DATES[2:]))  # fmt: skip
        rest = any(value is not None and value != [] for value in others)
        return TiQuery(
            dag_ids=dag_ids,
            run_id=run_id,
            states=self.states or None,
            low=dates["execution_date_gte"],
            high=dates["execution_date_lte"],
            keep=self.matches if rest else None,
            # An empty list is no filter (an empty OR clause), as for states.
            run_ids=self.run_ids or None,
            task_ids=self.task_ids or None,
        )

    def matches(self, ti: TaskInstance, run: DagRun) -> bool:
        dates = self.dates
        ranges: list[tuple[Any, Any, Any]] = [
            (run.logical_date, dates["execution_date_gte"], dates["execution_date_lte"]),
            (ti.start_date, dates["start_date_gte"], dates["start_date_lte"]),
            (ti.end_date, dates["end_date_gte"], dates["end_date_lte"]),
            (ti.duration, self.duration_gte, self.duration_lte),
        ]
        if self.updated_gte is not None or self.updated_lte is not None:
            ranges.append((history.updated_at(ti, run), self.updated_gte, self.updated_lte))
        for value, low, high in ranges:
            if low is None and high is None:
                continue
            # SQL comparisons with NULL are never true.
            if value is None or (low is not None and value < low):
                return False
            if high is not None and value > high:
                return False
        # An empty list is no filter (an empty OR clause).
        for values, value in ((self.states, ti.state), (self.pools, ti.pool),
                              (self.queues, ti.queue), (self.dag_ids, ti.dag_id)):  # fmt: skip
            if values and value not in values:
                return False
        if self.executors and self.executor_of is not None:
            return self.executor_of(ti) in self.executors
        return True


def states_filter(states: Iterable[str] | None) -> list[str | None] | None:
    """Airflow's _convert_state: the literal `none` matches instances without a state."""
    if not states:
        return None
    return [None if state == "none" else state for state in states]


BATCH_FIELDS = ("page_offset", "page_limit", "dag_ids", *BATCH_DATES, "duration_gte",
                "duration_lte", "state", "pool", "queue")  # fmt: skip
# Airflow 2.10's form adds the runs and tasks (after dag_ids) and the executors.
BATCH_FIELDS_2_10 = ("page_offset", "page_limit", "dag_ids", "dag_run_ids", "task_ids",
                     *BATCH_FIELDS[3:], "executor")  # fmt: skip
BATCH_LIMIT = 100  # page_limit's load default in 2.10


@dataclass(frozen=True, slots=True)
class BatchForm:
    found: TiFilter
    offset: int = 0
    limit: int | None = None  # None: every match (2.5.3 never pages)


def load_batch_form(body: Mapping[str, Any], version: AirflowVersion = V2_5) -> BatchForm:
    """TaskInstanceBatchFormSchema; durations load as integers. Airflow 2.5.3
    declares the page fields (so accepts and checks them) but never pages;
    2.10 pages (100 by default) and filters by runs, tasks and executors."""
    errors: dict[str, list[str]] = {}
    checked = (("page_offset", 0, False), ("page_limit", 1, False),
               ("duration_gte", None, True), ("duration_lte", None, True))  # fmt: skip
    for name, minimum, allow_none in checked:
        if name in body:
            error = _integer_error(body[name], allow_none=allow_none, minimum=minimum)
            if error:
                errors[name] = [error]
    later = version.at_least("2.10")
    _unknown(body, BATCH_FIELDS_2_10 if later else BATCH_FIELDS, errors)
    if errors:
        raise BadRequest(detail=str(errors))
    dates = {name: _datetime(body.get(name)) for name in BATCH_DATES}
    found = TiFilter(
        dates=dates,
        duration_gte=_truncated(body.get("duration_gte")),
        duration_lte=_truncated(body.get("duration_lte")),
        states=states_filter(body.get("state")),
        pools=body.get("pool"),
        queues=body.get("queue"),
        dag_ids=body.get("dag_ids"),
        executors=body.get("executor") if later else None,
        run_ids=body.get("dag_run_ids") if later else None,
        task_ids=body.get("task_ids") if later else None,
    )
    if not later:
        return BatchForm(found)
    offset = int(body.get("page_offset", 0))
    return BatchForm(found, offset, int(body.get("page_limit", BATCH_LIMIT)))


def _truncated(value: Any) -> int | None:
    # fields.Int(strict=False): 1.9 loads as 1.
    return None if value is None else int(value)


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00").replace("z", "+00:00"))


def _integer_error(value: Any, *, allow_none: bool, minimum: int | None = None) -> str | None:
    """marshmallow's Integer(strict=False) with an optional Range(min=...)."""
    if value is None:
        return None if allow_none else NULL
    if isinstance(value, bool):
        return NOT_INTEGER
    try:
        number = int(value)
    except (TypeError, ValueError):  # NaN too
        return NOT_INTEGER
    except OverflowError:  # an infinity: JSON's 1e400
        return TOO_LARGE
    if minimum is not None and number < minimum:
        return f"Must be greater than or equal to {minimum}."
    return None


def _unknown(body: Mapping[str, Any], known: Iterable[str], errors: dict[str, list[str]]) -> None:
    allowed = set(known)
    for key in body:
        if key not in allowed:
            errors[key] = [UNKNOWN]
