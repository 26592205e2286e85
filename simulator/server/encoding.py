"""Airflow's JSON body format: 2-space indent, sorted keys, ASCII, trailing newline."""

from __future__ import annotations

import json
from typing import Any


def dump_json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()
