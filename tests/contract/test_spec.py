"""The vendored specs, as loaded and normalized for validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.spec import load_spec
from simulator.spec.loader import SPEC_DIR, normalize
from simulator.versions import VERSIONS

SHARED = Path(__file__).resolve().parents[3] / "shared" / "spec"


@pytest.mark.parametrize("version", VERSIONS)
def test_vendored_copy_is_the_official_spec(version: str) -> None:
    shared = SHARED / f"airflow-v1-{version}.yaml"
    if shared.exists():
        assert (SPEC_DIR / f"v1-{version}.yaml").read_bytes() == shared.read_bytes()
    assert load_spec(version).raw["info"]["version"] == version


@pytest.mark.parametrize(("version", "operations"), [("2.5.3", 73), ("2.10.5", 89)])
def test_each_version_has_its_operations(version: str, operations: int) -> None:
    spec = load_spec(version)
    assert len(spec.operations) == operations
    assert {op.version for op in spec.operations} == {version}


def test_nullable_beside_ref_becomes_a_nullable_alternative() -> None:
    doc = {"a": {"$ref": "#/components/schemas/X", "nullable": True, "description": "d"}}
    assert normalize(doc) == {
        "a": {"description": "d", "anyOf": [{"$ref": "#/components/schemas/X"}, {"enum": [None]}]}
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_no_nullable_ref_left_in_the_normalized_spec(version: str) -> None:
    def walk(node: object) -> None:
        if isinstance(node, dict):
            assert not ("$ref" in node and node.get("nullable")), node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(load_spec(version).document)


def test_served_spec_is_untouched() -> None:
    spec = load_spec()
    assert spec.raw is not spec.document
    assert "$ref" in str(
        spec.raw["components"]["schemas"]["TaskInstance"]["properties"]["sla_miss"]
    )
