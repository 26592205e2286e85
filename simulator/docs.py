"""The README's generated tables: operation coverage and the quirks registry.

`python -m simulator.docs --write README.md` rewrites both; a test keeps them in step.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from simulator.quirks import QUIRKS
from simulator.server.routing import resolve_handler
from simulator.spec import Operation, load_spec
from simulator.versions import VERSIONS

COVERAGE_START = "<!-- coverage:start -->"
COVERAGE_END = "<!-- coverage:end -->"
QUIRKS_START = "<!-- quirks:start -->"
QUIRKS_END = "<!-- quirks:end -->"


def coverage_table() -> str:
    """Every operation of every served version; the newest spec describes it."""
    found: dict[str, tuple[Operation, list[str]]] = {}
    for version in VERSIONS:
        for op in load_spec(version).operations:
            found[op.operation_id] = (op, [*found.get(op.operation_id, (op, []))[1], version])
    rows = [
        "| tag | operationId | method | path | handler | versions |",
        "|---|---|---|---|---|---|",
    ]
    for op, versions in sorted(found.values(), key=lambda f: (f[0].tag, f[0].path, f[0].method)):
        handler = resolve_handler(op)
        rows.append(
            f"| {op.tag} | `{op.operation_id}` | {op.method} | `{op.path}` "
            f"| `{handler.__module__.removeprefix('simulator.')}` | {_versions(versions)} |"
        )
    return "\n".join(rows)


def quirks_table() -> str:
    rows = [
        "| id | kind | operations | versions | what the simulator does |",
        "|---|---|---|---|---|",
    ]
    for quirk in QUIRKS:
        ops = ", ".join(f"`{o}`" for o in quirk.operations) if quirk.operations != ("*",) else "all"
        versions = _versions(quirk.versions)
        rows.append(f"| `{quirk.id}` | {quirk.kind} | {ops} | {versions} | {quirk.summary} |")
    return "\n".join(rows)


def _versions(versions: Sequence[str]) -> str:
    return "both" if set(versions) == set(VERSIONS) else ", ".join(versions)


def _replace(text: str, start: str, end: str, table: str) -> str:
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{table}\n{end}{tail}"


def main(argv: list[str] | None = None) -> None:
    """Print the tables, or with `--write README.md` rewrite them in place."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--write"]:
        path = Path(args[1])
        text = _replace(path.read_text(), COVERAGE_START, COVERAGE_END, coverage_table())
        path.write_text(_replace(text, QUIRKS_START, QUIRKS_END, quirks_table()))
        return
    print(COVERAGE_START, coverage_table(), COVERAGE_END, sep="\n")
    print()
    print(QUIRKS_START, quirks_table(), QUIRKS_END, sep="\n")


if __name__ == "__main__":
    main()
