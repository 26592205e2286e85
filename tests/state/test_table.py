"""Table: natural keys, insertion-ordered row ids, Airflow's errors."""

from __future__ import annotations

import pytest

from simulator.errors import AlreadyExists, NotFound
from simulator.state.entities import EventLog, Pool
from simulator.state.store import Store
from simulator.state.table import Table


def pools() -> Table[str, Pool]:
    return Store().pools


class TestTable:
    def test_add_assigns_increasing_ids(self) -> None:
        table = pools()
        a = table.add(Pool(pool="a", slots=1))
        b = table.add(Pool(pool="b", slots=1))
        assert (a.id, b.id) == (1, 2)
        assert [p.pool for p in table] == ["a", "b"]

    def test_duplicate_raises_airflows_conflict_and_keeps_rows(self) -> None:
        table = pools()
        table.add(Pool(pool="a", slots=1))
        with pytest.raises(AlreadyExists) as info:
            table.add(Pool(pool="a", slots=2))
        assert info.value.detail == "Pool: a already exists"
        assert len(table) == 1
        assert table.require("a").slots == 1

    def test_require_missing_raises_not_found_text(self) -> None:
        with pytest.raises(NotFound) as info:
            pools().require("nope")
        assert (info.value.title, info.value.detail) == (
            "Not Found",
            "Pool with name:'nope' not found",
        )

    def test_rekey_keeps_id_and_refuses_a_taken_key(self) -> None:
        table = pools()
        a = table.add(Pool(pool="a", slots=1))
        table.add(Pool(pool="b", slots=1))
        a.pool = "c"
        table.rekey("a", a)
        assert table.require("c").id == 1
        assert "a" not in table
        with pytest.raises(AlreadyExists):
            table.require("c").pool = "b"
            table.rekey("c", table.require("c"))

    def test_integer_keys_come_from_ids(self) -> None:
        from datetime import UTC, datetime

        logs = Store().event_logs
        first = logs.add(EventLog(when=datetime(2023, 1, 1, tzinfo=UTC), event="x"))
        second = logs.add(EventLog(when=datetime(2023, 1, 1, tzinfo=UTC), event="y"))
        assert logs.require(1) is first and logs.require(2) is second
        logs.delete(2)
        assert logs.add(EventLog(when=first.when, event="z")).id == 3
