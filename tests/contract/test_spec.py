"""The vendored spec, as loaded and normalized for validation."""

from __future__ import annotations

from pathlib import Path

from simulator.spec import load_spec
from simulator.spec.loader import SPEC_PATH, normalize

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "airflow-v1-2.5.3.yaml"


def test_vendored_copy_is_the_official_spec() -> None:
    if SHARED_SPEC.exists():
        assert SPEC_PATH.read_bytes() == SHARED_SPEC.read_bytes()
    assert load_spec().raw["info"]["version"] == "2.5.3"


def test_nullable_beside_ref_becomes_a_nullable_alternative() -> None:
    doc = {"a": {"$ref": "#/components/schemas/X", "nullable": True, "description": "d"}}
    assert normalize(doc) == {
        "a": {"description": "d", "anyOf": [{"$ref": "#/components/schemas/X"}, {"enum": [None]}]}
    }


def test_no_nullable_ref_left_in_the_normalized_spec() -> None:
    def walk(node: object) -> None:
        if isinstance(node, dict):
            assert not ("$ref" in node and node.get("nullable")), node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(load_spec().document)


def test_served_spec_is_untouched() -> None:
    spec = load_spec()
    assert spec.raw is not spec.document
    assert "$ref" in str(
        spec.raw["components"]["schemas"]["TaskInstance"]["properties"]["sla_miss"]
    )
