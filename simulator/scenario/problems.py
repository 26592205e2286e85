"""What is wrong with a scenario, said the same way everywhere: the file, the
path in it (`dags[3].tasks[1].trigger_rule`), what was expected and what was
found. A file with errors reports all of them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    path: str | None  # None: the file as a whole (unreadable, not YAML)
    message: str

    def __str__(self) -> str:
        if self.path is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}: {self.path or '(top level)'}: {self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; `problems` lists every reason."""

    def __init__(self, problems: Sequence[Problem | str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def join_path(*parts: str | int) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part:
            text += f".{part}" if text else part
    return text


def describe(value: Any) -> str:
    """The found value, briefly."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _expected(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    hint = schema.get("x-expected")
    if hint and error.validator in ("anyOf", "oneOf", "pattern", "const", "minLength", "maxLength"):
        return str(hint)
    value = error.validator_value
    if error.validator == "type":
        kinds = value if isinstance(value, list) else [value]
        return " or ".join(TYPE_NAMES.get(str(k), str(k)) for k in kinds)
    if error.validator == "enum":
        return "one of " + ", ".join(describe(v) for v in value)
    bounds = {
        "minimum": ">=",
        "maximum": "<=",
        "exclusiveMinimum": ">",
        "exclusiveMaximum": "<",
    }
    if error.validator in bounds:
        return f"a number {bounds[str(error.validator)]} {value}"
    if error.validator == "minLength":
        return "a non-empty string" if value == 1 else f"at least {value} characters"
    if error.validator == "maxLength":
        return f"at most {value} characters"
    if error.validator == "minItems":
        return f"at least {value} item(s)"
    if error.validator == "maxItems":
        return f"at most {value} items"
    if error.validator == "pattern":
        return f"a string matching {value}"
    return error.message


def _unknown_keys(error: ValidationError) -> Iterable[tuple[str, str]]:
    allowed = sorted(error.schema.get("properties", {}))
    declared = set(allowed)
    for key in error.instance:
        if key in declared:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        yield str(key), f"unknown key {key!r}{hint}"


def from_schema(file: str, error: ValidationError) -> list[Problem]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return [Problem(file, join_path(*path, key), text) for key, text in _unknown_keys(error)]
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return [Problem(file, join_path(*path), f"missing required key {k!r}") for k in missing]
    found = describe(error.instance)
    return [Problem(file, join_path(*path), f"expected {_expected(error)}, found {found}")]
