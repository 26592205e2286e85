"""The DAG file behind a fileloc, as DagCode would hold it.

The simulator has no DAG files, so it writes one from the DAG definitions:
the imports each operator needs, one `with DAG(...)` block per DAG of the
file, one operator per task (mapped tasks through .partial().expand()),
dataset outlets and the `>>` dependencies. Same definitions, same text.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.state.dag_model import CRON, DATASETS, DATE_TIME_SENSORS, DELTA, ONCE, Dag, Task

# BaseOperator defaults: arguments left out of the generated calls.
TASK_DEFAULTS: dict[str, Any] = {
    "owner": "airflow",
    "retries": 0,
    "retry_delay": 300.0,
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
    "trigger_rule": "all_success",
    "pool": "default_pool",
    "pool_slots": 1,
    "queue": "default",
    "priority_weight": 1,
    "weight_rule": "downstream",
    "execution_timeout": None,
    "depends_on_past": False,
    "wait_for_downstream": False,
    "doc_md": None,
}
DEFAULT_ARGS = ("owner", "retries", "retry_delay")
DURATIONS = ("retry_delay", "max_retry_delay", "execution_timeout")
RESERVED = {"dag", "DAG", "Dataset", "pendulum", "timedelta", "annotations"}


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _duration(seconds: float) -> str:
    delta = timedelta(seconds=seconds)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [("days", delta.days), ("hours", hours), ("minutes", minutes), ("seconds", secs)]
    parts.append(("microseconds", delta.microseconds))
    args = ", ".join(f"{name}={amount}" for name, amount in parts if amount)
    return f"timedelta({args or 'seconds=0'})"


def _moment(value: datetime) -> str:
    moment = value.astimezone(UTC)
    fields = [moment.year, moment.month, moment.day]
    clock = [moment.hour, moment.minute, moment.second, moment.microsecond]
    while clock and clock[-1] == 0:
        clock.pop()
    return f'pendulum.datetime({", ".join(map(str, fields + clock))}, tz="UTC")'


def literal(value: Any) -> str:
    """Python source for a YAML-ish value (strings in double quotes)."""
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return _moment(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{literal(str(k))}: {literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    return _string(str(value))


def _datasets(uris: Iterable[str]) -> str:
    return "[" + ", ".join(f"Dataset({_string(uri)})" for uri in uris) + "]"


def _schedule(dag: Dag) -> str:
    kind, value = dag.schedule.kind, dag.schedule.value
    if kind in (CRON, ONCE):
        return _string(str(value))
    if kind == DELTA:
        return _duration(value)
    if kind == DATASETS:
        return _datasets(value)
    return "None"


def _identifier(text: str) -> str:
    base = re.sub(r"\W", "_", text)
    return f"_{base}" if base[:1].isdigit() or keyword.iskeyword(base) else base


class Names:
    """A distinct Python name per task, and per PythonOperator callable
    (task ids need not be identifiers)."""

    def __init__(self, dags: Iterable[Dag]) -> None:
        self.variables: dict[tuple[str, str], str] = {}
        self.callables: dict[tuple[str, str], str] = {}
        self._taken: set[str] = set(RESERVED)
        for dag in dags:
            for task in dag.tasks.values():
                key = (dag.dag_id, task.task_id)
                self.variables[key] = self._claim(_identifier(task.task_id))
                if task.operator == "PythonOperator":
                    self.callables[key] = self._claim(f"_{_identifier(task.task_id)}")

    def _claim(self, base: str) -> str:
        name, n = base, 2
        while name in self._taken:
            name, n = f"{base}_{n}", n + 1
        self._taken.add(name)
        return name


def _shared_defaults(dag: Dag) -> dict[str, Any]:
    """default_args: owner, retries and retry_delay when every task shares a
    value other than BaseOperator's."""
    shared: dict[str, Any] = {}
    tasks = list(dag.tasks.values())
    for name in DEFAULT_ARGS:
        values = {getattr(task, name) for task in tasks}
        if len(values) == 1 and (value := values.pop()) != TASK_DEFAULTS[name]:
            shared[name] = value
    return shared


def _arg(name: str, value: Any) -> str:
    return _duration(value) if name in DURATIONS else literal(value)


def _dag_block(dag: Dag) -> list[str]:
    args: list[tuple[str, str]] = [("dag_id", _string(dag.dag_id))]
    if dag.description:
        args.append(("description", _string(dag.description)))
    args.append(("schedule", _schedule(dag)))
    if dag.start_date is not None:
        args.append(("start_date", _moment(dag.start_date)))
    if dag.end_date is not None:
        args.append(("end_date", _moment(dag.end_date)))
    args.append(("catchup", repr(dag.catchup)))
    optional: list[tuple[str, Any, Any]] = [
        ("max_active_runs", dag.max_active_runs, 16),
        ("max_active_tasks", dag.max_active_tasks, 16),
        ("default_view", dag.default_view, "grid"),
        ("orientation", dag.orientation, "LR"),
        ("is_paused_upon_creation", dag.is_paused_upon_creation, None),
        ("render_template_as_native_obj", dag.render_template_as_native_obj, False),
        ("template_searchpath", dag.template_search_path, None),
    ]
    args.extend((name, literal(value)) for name, value, default in optional if value != default)
    if dag.dag_run_timeout is not None:
        args.append(("dagrun_timeout", _duration(dag.dag_run_timeout)))
    if dag.tags:
        args.append(("tags", literal(dag.tags)))
    if dag.params:
        args.append(("params", literal(dag.params)))
    shared = _shared_defaults(dag)
    if shared:
        items = ", ".join(f"{_string(k)}: {_arg(k, v)}" for k, v in shared.items())
        args.append(("default_args", "{" + items + "}"))
    if dag.doc_md:
        args.append(("doc_md", _string(dag.doc_md)))
    lines = ["with DAG("]
    lines.extend(f"    {name}={value}," for name, value in args)
    lines.append(") as dag:")
    return lines


# Operator -> (the argument that makes it do something, its value for a task).
def _main_argument(
    task: Task, callable_name: str | None, index: int | None = None
) -> tuple[str, str] | None:
    suffix = "" if index is None else f" {index}"
    op = task.operator
    if op == "BashOperator":
        return "bash_command", _string(f"echo '{task.task_id}{suffix} {{{{ ds }}}}'")
    if op == "PythonOperator" and callable_name is not None:
        if index is None:
            return "python_callable", callable_name
        return "op_args", f"[{index}]"
    if op.endswith("PythonOperator"):
        return None  # its callable is its main argument; none is written here
    if op == "SQLExecuteQueryOperator":
        return "sql", _string(f"sql/{task.task_id}.sql")
    if op == "SimpleHttpOperator":
        return "endpoint", _string(f"api/{task.task_id}{suffix.strip()}")
    if op in DATE_TIME_SENSORS:
        shift = f" + macros.timedelta(seconds={task.deferral:g})" if task.deferral else ""
        return "target_time", _string(f"{{{{ data_interval_end{shift} }}}}")
    if task.template_fields:
        return task.template_fields[0], _string(f"{task.task_id}{suffix}")
    return None


def _task_kwargs(task: Task, shared: dict[str, Any]) -> list[str]:
    kwargs = [f"task_id={_string(task.task_id)}"]
    for name, default in TASK_DEFAULTS.items():
        value = getattr(task, name)
        expected = shared.get(name, default)
        if value != expected:
            kwargs.append(f"{name}={_arg(name, value)}")
    if task.outlets:
        kwargs.append(f"outlets={_datasets(task.outlets)}")
    return kwargs


def _task_lines(dag: Dag, task: Task, names: Names, shared: dict[str, Any]) -> list[str]:
    key = (dag.dag_id, task.task_id)
    variable, callable_name = names.variables[key], names.callables.get(key)
    kwargs = _task_kwargs(task, shared)
    if not task.is_mapped:
        main = _main_argument(task, callable_name)
        if main is not None:
            kwargs.insert(1, f"{main[0]}={main[1]}")
        call = f"{task.operator}(" + ", ".join(kwargs) + ")"
        return [f"    {variable} = {call}"]
    if callable_name is not None:
        kwargs.insert(1, f"python_callable={callable_name}")
    mapped = [_main_argument(task, callable_name, i) for i in range(task.map_count or 0)]
    field = next((m[0] for m in mapped if m is not None), "op_kwargs")
    values = "[" + ", ".join(m[1] if m else "{}" for m in mapped) + "]"
    partial = f"{task.operator}.partial(" + ", ".join(kwargs) + ")"
    return [f"    {variable} = {partial}.expand({field}={values})"]


def _dependencies(dag: Dag, names: Names) -> list[str]:
    lines = []
    variables = names.variables
    for task in dag.tasks.values():
        if not task.upstream:
            continue
        ups = [variables[(dag.dag_id, up)] for up in task.upstream]
        left = ups[0] if len(ups) == 1 else "[" + ", ".join(ups) + "]"
        lines.append(f"    {left} >> {variables[(dag.dag_id, task.task_id)]}")
    return lines


def _imports(dags: list[Dag], body: str) -> list[str]:
    """What the body uses, stdlib and third-party first, then airflow."""
    modules: dict[str, set[str]] = {"airflow": {"DAG"}}
    for dag in dags:
        for task in dag.tasks.values():
            modules.setdefault(task.module_path, set()).add(task.operator)
    if "Dataset(" in body:
        modules.setdefault("airflow.datasets", set()).add("Dataset")
    lines = ["from __future__ import annotations", ""]
    if "timedelta(" in body:
        lines += ["from datetime import timedelta", ""]
    if "pendulum." in body:
        lines += ["import pendulum", ""]
    for module in sorted(modules):
        lines.append(f"from {module} import {', '.join(sorted(modules[module]))}")
    return lines


def _callables(dags: list[Dag], names: Names) -> list[str]:
    """A stub function for each PythonOperator (the simulator runs no code)."""
    lines: list[str] = []
    for dag in dags:
        for task in dag.tasks.values():
            name = names.callables.get((dag.dag_id, task.task_id))
            if name is None:
                continue
            args = "*args, **context" if task.is_mapped else "**context"
            lines += ["", "", f"def {name}({args}):"]
            lines.append(f"    print({_string(f'Running {task.task_id}')})")
    return lines


def _docstring(text: str) -> str:
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{body}"""'


def dag_file_source(dags: list[Dag]) -> str:
    """The whole file that defines `dags` (one fileloc), in definition order."""
    names = Names(dags)
    body: list[str] = []
    for dag in dags:
        shared = _shared_defaults(dag)
        body += ["", "", *_dag_block(dag)]
        for task in dag.tasks.values():
            body += _task_lines(dag, task, names, shared)
        dependencies = _dependencies(dag, names)
        if dependencies:
            body += ["", *dependencies]
        if not dag.tasks:
            body.append("    pass")
    head = dags[0]
    docstring = _docstring(head.description or f"The {head.dag_id} DAG.")
    imports = _imports(dags, "\n".join(body))
    return "\n".join([docstring, "", *imports, *_callables(dags, names), *body]) + "\n"
