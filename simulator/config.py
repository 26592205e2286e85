"""Settings: one frozen dataclass. CLI flags and AIRFLOW_SIM_* variables map onto it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Runs repeat from one fixed instant unless a start is given.
DEFAULT_START = datetime(2023, 4, 1, tzinfo=UTC)
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    auth: str = "basic"  # basic | none
    admin_user: str = "admin"
    admin_password: str = field(default="admin", repr=False)
    seed: int = 0
    validate_responses: bool = False
    access_log: bool = False
    expose_config: bool = False
    clock: str = "realtime"  # realtime | frozen
    speed: float = 1.0
    start: datetime = DEFAULT_START
    maximum_page_limit: int = 100
    fallback_page_limit: int = 100
    # werkzeug's default cost in Airflow 2.5; tests may lower it.
    password_hash_iterations: int = 260000
    secret_key: str = "simulator-secret-key"
    fixtures_dir: Path = FIXTURES_DIR
    # The DAG definitions the world starts with; None starts with no DAGs.
    dags_file: Path | None = FIXTURES_DIR / "dags.yaml"
