"""A run's task instances, and the task instance table as a view over runs.

Half a million task instances are the bulk of a large world, so they are
kept once: in one tuple per run, in task order (map indexes in order), with
the task -> position spans shared by every run of the same DAG layout. The
`task_instances` table looks them up through their run instead of keeping a
dict keyed by a 4-tuple per instance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar, overload

from simulator.errors import AlreadyExists, ApiError, NotFound
from simulator.state.run_model import DagRun, TaskInstance, XCom

T = TypeVar("T")
TiKey = tuple[str, str, str, int]
XComKey = tuple[str, str, str, int, str]


class Layout:
    """The task ids of a run and the span of each one's instances in the run's tuple."""

    __slots__ = ("size", "spans", "task_ids")

    def __init__(self, counts: Sequence[tuple[str, int]]) -> None:
        self.task_ids = tuple(task_id for task_id, _ in counts)
        self.spans: dict[str, tuple[int, int]] = {}
        position = 0
        for task_id, count in counts:
            self.spans[task_id] = (position, position + count)
            position += count
        self.size = position


class RunTis(Mapping[str, tuple[TaskInstance, ...]]):
    """task_id -> the task's instances (map index order) of one run; also
    the run's XComs, in the order they were pushed (None: none yet)."""

    __slots__ = ("layout", "tis", "xcoms")

    def __init__(self, layout: Layout, tis: tuple[TaskInstance, ...]) -> None:
        self.layout = layout
        self.tis = tis
        self.xcoms: list[XCom] | None = None

    def __getitem__(self, task_id: str) -> tuple[TaskInstance, ...]:
        start, stop = self.layout.spans[task_id]
        return self.tis[start:stop]

    @overload
    def get(self, task_id: str, /) -> tuple[TaskInstance, ...] | None: ...
    @overload
    def get(self, task_id: str, default: T, /) -> tuple[TaskInstance, ...] | T: ...
    def get(self, task_id: str, default: object = None, /) -> object:
        span = self.layout.spans.get(task_id)
        return default if span is None else self.tis[span[0] : span[1]]

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.layout.spans

    def __iter__(self) -> Iterator[str]:
        return iter(self.layout.task_ids)

    def __len__(self) -> int:
        return len(self.layout.task_ids)

    def find(self, task_id: str, map_index: int) -> TaskInstance | None:
        span = self.layout.spans.get(task_id)
        if span is None:
            return None
        start, stop = span
        position = start if map_index < 0 else start + map_index
        if position >= stop:
            return None
        ti = self.tis[position]
        return ti if ti.map_index == map_index else None


class TaskInstances:
    """The task instance table: Table's interface over the runs' instances.

    Rows live in `run_tis` (one RunTis per run, in run order); instances
    added on their own (not through a run) are kept aside and come last.
    """

    def __init__(self, run_tis: dict[tuple[str, str], RunTis]) -> None:
        self._runs = run_tis
        self._loose: dict[TiKey, TaskInstance] = {}
        self._count = 0
        self.next_id = 1  # the row id the next instance gets (ids are never reused)
        self.not_found: Callable[[TiKey], ApiError] = lambda k: NotFound("Task instance not found")
        self.exists: Callable[[TiKey], ApiError] = lambda k: AlreadyExists(
            detail=f"{k} already exists"
        )

    def __len__(self) -> int:
        return self._count + len(self._loose)

    @property
    def loose(self) -> list[TaskInstance]:
        """The instances of no run of the store, in the order they were added."""
        return list(self._loose.values())

    def is_loose(self, ti: TaskInstance) -> bool:
        """Whether `ti` was added on its own (the run indices leave it out)."""
        return bool(self._loose) and self._loose.get(ti.key) is ti

    def __iter__(self) -> Iterator[TaskInstance]:
        for run in self._runs.values():
            yield from run.tis
        yield from self._loose.values()

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def get(self, key: TiKey) -> TaskInstance | None:
        run = self._runs.get((key[0], key[1]))
        if run is not None:
            found = run.find(key[2], key[3])
            if found is not None:
                return found
        return self._loose.get(key) if self._loose else None

    def require(self, key: TiKey, error: Callable[[TiKey], ApiError] | None = None) -> TaskInstance:
        row = self.get(key)
        if row is None:
            raise (error or self.not_found)(key)
        return row

    def number(self, ti: TaskInstance) -> None:
        """Give `ti` the next row id (or keep the one it has)."""
        if not ti.id:
            ti.id = self.next_id
            self.next_id += 1
        elif ti.id >= self.next_id:
            self.next_id = ti.id + 1

    def attach(self, run_key: tuple[str, str], tis: RunTis) -> None:
        """A new run's instances (numbered in order)."""
        for ti in tis.tis:
            self.number(ti)
        self._count += len(tis.tis)
        self._runs[run_key] = tis

    def detach(self, run: DagRun) -> RunTis:
        tis = self._runs.pop(run.key)
        self._count -= len(tis.tis)
        return tis

    def add(self, row: TaskInstance) -> TaskInstance:
        """An instance of no run of the store (tests and odd fixtures)."""
        if self.get(row.key) is not None:
            raise self.exists(row.key)
        self.number(row)
        self._loose[row.key] = row
        return row

    def delete(self, key: TiKey) -> TaskInstance:
        """Only loose instances: a run's instances go with their run."""
        row = self.require(key)
        if self._loose.pop(key, None) is None:
            raise ValueError("a run's task instances are deleted with the run")
        return row


class XComs:
    """The XCom table: Table's interface over the runs' XComs.

    A run's XComs live with its instances (RunTis.xcoms), found by a short
    scan, so an entry costs no key tuple and no dict slot, and deleting a run
    drops its XComs at once. Rows iterate run by run, each run's in the order
    they were pushed; entries of no run of the store come last.
    """

    def __init__(self, run_tis: dict[tuple[str, str], RunTis]) -> None:
        self._runs = run_tis
        self._loose: dict[XComKey, XCom] = {}
        self._count = 0
        self.per_dag: Counter[str] = Counter()  # the runs' entries (not the loose ones)
        # The runs' entries per DAG and (task_id, map_index, key): a filtered
        # count reads these, not the entries (as many as the DAGs' shapes).
        self.shapes: dict[str, Counter[tuple[str, int, str]]] = {}
        self.not_found: Callable[[XComKey], ApiError] = lambda k: NotFound("XCom entry not found")
        self.exists: Callable[[XComKey], ApiError] = lambda k: AlreadyExists(
            detail=f"{k} already exists"
        )

    def __len__(self) -> int:
        return self._count + len(self._loose)

    @property
    def loose(self) -> list[XCom]:
        """The entries of no run of the store, in the order they were added."""
        return list(self._loose.values())

    def attach(self, tis: RunTis, xcoms: list[XCom]) -> None:
        """A run's XComs (of its instances, in the order they were pushed)."""
        change = len(xcoms) - len(tis.xcoms or ())
        self._count += change
        either = xcoms or tis.xcoms  # the run's DAG, with or without instances
        if change and either:
            self.per_dag[either[0].dag_id] += change
        self._tally(tis.xcoms or (), -1)
        self._tally(xcoms, 1)
        tis.xcoms = xcoms or None

    def _tally(self, rows: Sequence[XCom], sign: int) -> None:
        for row in rows:
            self._shape(row.dag_id, (row.task_id, row.map_index, row.key), sign)

    def _shape(self, dag_id: str, shape: tuple[str, int, str], sign: int) -> None:
        shapes = self.shapes.get(dag_id)
        if shapes is None:
            shapes = self.shapes[dag_id] = Counter()
        left = shapes[shape] + sign
        if left:
            shapes[shape] = left
        else:
            del shapes[shape]

    def __iter__(self) -> Iterator[XCom]:
        for run in self._runs.values():
            if run.xcoms:
                yield from run.xcoms
        yield from self._loose.values()

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def of_run(self, run: DagRun) -> list[XCom]:
        """The run's entries in the order they were pushed (read, never write)."""
        tis = self._runs.get(run.key)
        return (tis.xcoms or []) if tis is not None else []

    def of_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[XCom]:
        """The instance's XComs (a new list)."""
        run = self._runs.get((dag_id, run_id))
        xcoms = (run.xcoms or []) if run is not None else []
        found = [x for x in xcoms if x.task_id == task_id and x.map_index == map_index]
        if self._loose:
            key = (dag_id, run_id, task_id, map_index)
            found.extend(x for x in self._loose.values() if x.ident[:4] == key)
        return found

    def _find(self, key: XComKey) -> tuple[list[XCom], int] | None:
        run = self._runs.get((key[0], key[1]))
        xcoms = run.xcoms if run is not None else None
        if xcoms:
            _, _, task_id, map_index, name = key
            for position, xcom in enumerate(xcoms):
                if xcom.key == name and xcom.task_id == task_id and xcom.map_index == map_index:
                    return xcoms, position
        return None

    def get(self, key: XComKey) -> XCom | None:
        found = self._find(key)
        if found is not None:
            return found[0][found[1]]
        return self._loose.get(key) if self._loose else None

    def require(self, key: XComKey, error: Callable[[XComKey], ApiError] | None = None) -> XCom:
        row = self.get(key)
        if row is None:
            raise (error or self.not_found)(key)
        return row

    def add(self, row: XCom) -> XCom:
        run = self._runs.get((row.dag_id, row.run_id))
        if run is None or self._loose:
            key = row.ident
            if self.get(key) is not None:
                raise self.exists(key)
            if run is None:
                self._loose[key] = row
                return row
        xcoms = run.xcoms
        if xcoms is None:
            xcoms = run.xcoms = []
        else:
            for other in xcoms:
                if other.key == row.key and other.task_id == row.task_id \
                        and other.map_index == row.map_index:  # fmt: skip
                    raise self.exists(row.ident)
        xcoms.append(row)
        self._count += 1
        self.per_dag[row.dag_id] += 1
        self._shape(row.dag_id, (row.task_id, row.map_index, row.key), 1)
        return row

    def delete(self, key: XComKey) -> XCom:
        found = self._find(key)
        if found is None:
            return self._loose.pop(key) if key in self._loose else self.require(key)
        xcoms, position = found
        self._count -= 1
        self.per_dag[key[0]] -= 1
        self._shape(key[0], (key[2], key[3], key[4]), -1)
        return xcoms.pop(position)

    def drop_run(self, run: DagRun, tis: RunTis) -> None:
        """A deleted run's XComs (Airflow's cascade)."""
        self._count -= len(tis.xcoms or ())
        self.per_dag[run.dag_id] -= len(tis.xcoms or ())
        self._tally(tis.xcoms or (), -1)
        tis.xcoms = None
        for key in [k for k in self._loose if (k[0], k[1]) == run.key]:
            del self._loose[key]
