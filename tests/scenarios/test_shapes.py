"""DAG shapes: every bundled shape is a valid DAG, overrides replace top-level
fields, and an unknown shape names the known ones."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from simulator.scenario.dags import dag_from_dict
from simulator.scenario.shapes import ShapeError, apply_shape, load_shapes
from simulator.state.dag_model import Task

KEY = "secret"
SHAPES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "shapes"
SHAPES = load_shapes(SHAPES_DIR)
# `branch` is a Task field another change adds; until it lands the branch shape cannot load.
BRANCH_LANDED = "branch" in Task.__dataclass_fields__


def tasks_of(shape: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["task_id"]: task for task in shape["tasks"]}


def test_the_bundled_shapes() -> None:
    assert set(SHAPES) >= {
        "etl", "fan_out_fan_in", "ml_training", "dataset_producer", "dataset_consumer",
        "flaky_api", "backfill", "branch", "sensor",
    }  # fmt: skip
    assert list(SHAPES) == sorted(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_is_a_dag(name: str) -> None:
    if name == "branch" and not BRANCH_LANDED:
        pytest.skip("Task.branch has not landed yet")
    shape = SHAPES[name]
    for needed in ("description", "doc_md", "schedule", "start_date", "tags", "owner", "tasks"):
        assert needed in shape, needed
    dag = dag_from_dict(apply_shape(SHAPES, {"use": name, "dag_id": f"my_{name}"}), KEY)
    assert dag.dag_id == f"my_{name}"
    assert dag.fileloc == f"/opt/airflow/dags/my_{name}.py"
    for task in dag.tasks.values():
        assert task.module_path.startswith(("airflow.", "astronomer.")), task.task_id
        assert task.operator != "BashOperator" or task.template_fields == ["bash_command", "env"]


def test_what_each_shape_models() -> None:
    etl = SHAPES["etl"]
    assert [t["task_id"] for t in etl["tasks"] if not t.get("upstream")] == [
        "extract_db", "extract_api",
    ]  # fmt: skip
    assert tasks_of(SHAPES["fan_out_fan_in"])["process_file"]["map_count"] > 1
    ml = tasks_of(SHAPES["ml_training"])
    assert ml["wait_for_training_data"]["operator"].endswith("Async")
    assert ml["wait_for_training_data"]["deferral"] > 0
    assert max(ml.values(), key=lambda t: t.get("duration", 0))["task_id"] == "train_model"
    assert list(ml)[1:] == ["build_features", "train_model", "evaluate_model", "register_model"]
    assert tasks_of(SHAPES["dataset_producer"])["publish_table"]["outlets"]
    assert set(SHAPES["dataset_consumer"]["schedule"]) == {"datasets"}
    flaky = tasks_of(SHAPES["flaky_api"])
    assert flaky["fetch_records"]["retries"] > 0 and flaky["fetch_records"]["fail_tries"] == [1]
    assert flaky["fetch_records"]["retry_exponential_backoff"] is True
    assert flaky["alert_on_failure"]["trigger_rule"] == "one_failed"
    backfill = SHAPES["backfill"]
    assert backfill["catchup"] is True and backfill["schedule"] == "@daily"
    assert len(backfill["tasks"]) >= 6 and backfill["tasks"][0]["depends_on_past"] is True
    sensor = tasks_of(SHAPES["sensor"])["wait_for_export"]
    assert sensor["operator"] == "S3KeySensor" and sensor["duration"] >= 600


def test_the_branch_shape() -> None:
    tasks = tasks_of(SHAPES["branch"])
    branches = [t for t in tasks.values() if t.get("branch")]
    assert [t["task_id"] for t in branches] == ["choose_load"]
    paths = [t for t in tasks.values() if "choose_load" in t.get("upstream", [])]
    assert len(paths) == 2
    join = tasks["join"]
    assert join["upstream"] == [t["task_id"] for t in paths]
    assert join["trigger_rule"] == "none_failed_min_one_success"


def test_overrides_replace_top_level_fields() -> None:
    definition = apply_shape(
        SHAPES,
        {"use": "etl", "dag_id": "d", "schedule": "@hourly", "tags": ["x"], "catchup": True},
    )
    assert next(iter(definition)) == "dag_id"
    assert definition["schedule"] == "@hourly" and definition["tags"] == ["x"]
    assert definition["catchup"] is True and "use" not in definition
    assert definition["tasks"] == SHAPES["etl"]["tasks"]
    # A deep copy: changing the DAG changes neither the shape nor the next DAG.
    definition["tasks"][2]["upstream"].append("z")
    definition["params"]["full_refresh"] = True
    assert SHAPES["etl"]["tasks"][2]["upstream"] == ["extract_db", "extract_api"]
    assert apply_shape(SHAPES, {"use": "etl", "dag_id": "e"})["params"]["full_refresh"] is False


def test_tasks_are_replaced_wholesale() -> None:
    tasks = [{"task_id": "only"}]
    definition = apply_shape(SHAPES, {"use": "sensor", "dag_id": "d", "tasks": tasks})
    assert definition["tasks"] == [{"task_id": "only"}]
    assert definition["tasks"] is not tasks


def test_dataset_uris_are_overridable() -> None:
    producer = apply_shape(
        SHAPES, {"use": "dataset_producer", "dag_id": "p", "outlets": ["s3://b/k.parquet"]}
    )
    assert "outlets" not in producer
    assert tasks_of(producer)["publish_table"]["outlets"] == ["s3://b/k.parquet"]
    assert not tasks_of(producer)["extract_source"].get("outlets")
    consumer = apply_shape(
        SHAPES,
        {"use": "dataset_consumer", "dag_id": "c", "schedule": {"datasets": ["s3://b/k.parquet"]}},
    )
    assert consumer["schedule"] == {"datasets": ["s3://b/k.parquet"]}
    with pytest.raises(ShapeError) as info:
        apply_shape(SHAPES, {"use": "etl", "dag_id": "d", "outlets": ["s3://b/k"]})
    assert str(info.value) == "shape etl: outlets given but no task of the DAG has outlets"


@pytest.mark.parametrize("use", ["nope", None, 3])
def test_an_unknown_shape_lists_the_known_ones(use: Any) -> None:
    with pytest.raises(ShapeError) as info:
        apply_shape({"b": {}, "a": {}}, {"use": use, "dag_id": "d"})
    assert str(info.value) == f"unknown shape {use!r}; known shapes: a, b"


def test_load_shapes_reads_yaml_files_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "zeta.yaml").write_text("schedule: '@daily'\n")
    (tmp_path / "alpha.yaml").write_text("# a comment\ntasks: [{task_id: t}]\n")
    (tmp_path / "README.md").write_text("not a shape")
    shapes = load_shapes(tmp_path)
    assert shapes == {"alpha": {"tasks": [{"task_id": "t"}]}, "zeta": {"schedule": "@daily"}}
    assert list(shapes) == ["alpha", "zeta"]


def test_load_shapes_from_a_traversable(tmp_path: Path) -> None:
    archive = tmp_path / "shapes.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("shapes/etl.yaml", (SHAPES_DIR / "etl.yaml").read_text())
    assert load_shapes(zipfile.Path(archive, "shapes/")) == {"etl": SHAPES["etl"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list\n", "shape bad: a shape is a mapping of DAG fields"),
        ("dag_id: x\n", "shape bad: a shape has no dag_id (its user gives one)"),
    ],
)
def test_load_shapes_errors(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ShapeError) as info:
        load_shapes(tmp_path)
    assert str(info.value) == message
