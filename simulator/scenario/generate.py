"""A scenario's `generate:` section: bulk, realistic worlds made with faker.

    dags: {count, shapes: {name: weight}, schedules: [...], paused, start_date, prefix}
    connections: <count>
    variables: <count>
    users: <count>

Every value is a pure function of (seed, kind, index): one Faker instance is
re-seeded per item with a hash of the three, so `connections: 51` keeps the
first 50 of `connections: 50`, and another seed gives other names. The only
choices that look at other items look at earlier ones: a numeric suffix
(`_2`, `_3`...) keeps ids unique, and a dataset consumer follows producers
generated before it. So a longer list never changes an earlier item.

- DAGs are shapes (shapes.py) with generated ids, descriptions, owners,
  tags and durations scaled per DAG; time-scheduled shapes get a schedule
  from `schedules` (default: a realistic mix). A shape whose tasks have
  outlets produces a dataset URI of its own; one scheduled on datasets
  consumes the URIs of one or two earlier producers. A consumer drawn before
  any producer exists becomes a producer instead, so every consumer can run.
- A generated user's password is its username.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from random import Random
from typing import Any

from faker import Faker

from simulator.scenario.shapes import ShapeError, apply_shape

DEFAULT_DAG_COUNT = 10
DEFAULT_PAUSED = 0.1  # fraction of generated DAGs that start paused

DOMAINS = (
    "finance", "billing", "payments", "marketing", "sales", "crm", "growth", "product",
    "orders", "inventory", "logistics", "supply_chain", "fraud", "risk", "support", "hr",
    "ads", "search", "pricing", "catalog", "customer", "subscriptions", "analytics",
    "security", "compliance", "events", "mobile", "web", "partner", "reporting",
)  # fmt: skip
# What a DAG of each shape does, for its id; other shapes use GENERIC_VERBS.
VERBS = {
    "etl": ("etl", "sync", "ingest", "load", "import"), "sensor": ("wait", "watch", "landing"),
    "fan_out_fan_in": ("process", "split", "batch", "fanout"),
    "ml_training": ("train", "retrain", "model", "score"),
    "dataset_producer": ("publish", "build", "snapshot", "export"),
    "dataset_consumer": ("refresh", "report", "dashboard", "aggregate"),
    "flaky_api": ("api_sync", "fetch", "pull", "webhook"), "branch": ("route", "merge", "upsert"),
    "backfill": ("backfill", "rebuild", "reprocess", "partition"),
}  # fmt: skip
GENERIC_VERBS = ("pipeline", "job", "daily", "sync", "transform")
TEAM_SUFFIXES = ("data", "eng", "analytics", "platform", "data-eng")
EXTRA_TAGS = ("tier-1", "tier-2", "tier-3", "pii", "sla", "experimental", "critical")
TABLE_SUFFIXES = ("daily", "snapshot", "facts", "dim", "events", "summary", "cleaned")
DATASET_URIS = (
    "s3://{slug}-{dash}/{noun}/{noun}_{table}.parquet",
    "postgres://{dash}-db.{org}:5432/{domain}/public/{noun}_{table}",
)
ENVS = ("prod", "staging", "dev")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2")
# (weight, schedule template): mostly daily, some hourly, a few other crons,
# some manual only (None). {m} minute, {h} hour, {q} quarter hour, {n} hours.
SCHEDULE_MIX: tuple[tuple[int, str | None], ...] = (
    (30, "@daily"), (25, "{m} {h} * * *"), (12, "@hourly"), (8, "{m} * * * *"),
    (8, "{q} */{n} * * *"), (4, "@weekly"), (3, "{m} {h} * * 1-5"), (3, "@monthly"), (7, None),
)  # fmt: skip
ROLES = {"Viewer": 35, "User": 35, "Op": 22, "Admin": 8}  # weights: a few admins


class GenerateError(ValueError):
    pass


@dataclass(slots=True)
class Generated:
    dags: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    variables: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Org:
    slug: str  # "watkins"
    domain: str  # "watkins.com"


def generate(spec: Mapping[str, Any], seed: int, shapes: Mapping[str, dict[str, Any]]) -> Generated:
    """The DAG definitions, connections, variables and users `spec` asks for."""
    fake = _faker()
    _reseed(fake, seed, "org", 0)
    domain = fake.domain_name()
    org = _Org(slug=domain.split(".")[0], domain=domain)
    items: dict[str, Callable[[Faker, Random, _Org, _Unique], dict[str, Any]]] = {
        "connections": _connection, "variables": _variable, "users": _user,
    }  # fmt: skip
    generated = Generated()
    if spec.get("dags") is not None:
        generated.dags = _dags(spec["dags"], seed, shapes, fake, org)
    for kind, make in items.items():
        unique = _Unique()
        count = spec.get(kind) or 0
        rows = [make(fake, _reseed(fake, seed, kind, i), org, unique) for i in range(count)]
        setattr(generated, kind, rows)
    return generated


@cache
def _faker() -> Faker:
    # Constructing Faker costs ~15 ms; re-seeding it costs microseconds.
    return Faker("en_US")


def _reseed(fake: Faker, seed: int, kind: str, index: int) -> Random:
    """Re-seed `fake` for item `index` of `kind`; its draws depend on nothing else."""
    digest = hashlib.blake2b(f"{seed}:{kind}:{index}".encode(), digest_size=8).digest()
    fake.seed_instance(int.from_bytes(digest, "big"))
    rng: Random = fake.random
    return rng


class _Unique:
    """Names handed out once each: a taken name gets the first free `_<n>`."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


class _Values(dict[str, Any]):
    """An item's template fields, each drawn the first time a template asks."""

    def __init__(self, makers: Mapping[str, Callable[[], Any]]) -> None:
        super().__init__()
        self.makers = makers

    def __missing__(self, key: str) -> Any:
        value = self[key] = self.makers[key]()
        return value


def _values(fake: Faker, rng: Random, org: _Org) -> _Values:
    domain = rng.choice(DOMAINS)
    return _Values({
        "domain": lambda: domain, "dash": lambda: domain.replace("_", "-"),
        "upper": lambda: domain.upper(), "env": lambda: rng.choice(ENVS),
        "org": lambda: org.domain, "slug": lambda: org.slug, "noun": lambda: _noun(fake, rng),
        "vendor": fake.domain_name, "user": fake.user_name, "ip": fake.ipv4_private,
        "region": lambda: rng.choice(REGIONS), "n": lambda: rng.randint(100, 9999),
        "hex8": lambda: f"{rng.getrandbits(32):08x}",
        "hex32": lambda: f"{rng.getrandbits(128):032x}",
        "secret": lambda: fake.password(length=20, special_chars=False),
        "secret40": lambda: fake.password(length=40, special_chars=False),
        "token": lambda: fake.password(length=24, special_chars=False, upper_case=False),
        "akid": lambda: "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16)),
        "table": lambda: rng.choice(TABLE_SUFFIXES),
        "batch": lambda: rng.choice((100, 500, 1000, 5000, 10000)),
        "flag": lambda: rng.choice(("true", "false")), "v": lambda: rng.randint(1, 3),
        "ratio": lambda: round(rng.uniform(0.5, 0.99), 2),
        "date": lambda: f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "emails": lambda: json.dumps(
            [f"{fake.user_name()}@{org.domain}" for _ in range(rng.randint(1, 3))]
        ),
        "config": lambda: json.dumps({
            "enabled": rng.random() < 0.8, "threshold": round(rng.uniform(0.5, 0.99), 2),
            "lookback_days": rng.randint(1, 90), "owner": f"{fake.user_name()}@{org.domain}",
        }),
    })  # fmt: skip


def _fill(template: Any, values: _Values) -> Any:
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    return template


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _noun(fake: Faker, rng: Random) -> str:
    # Faker's English nouns, with its business nouns ("data-warehouse") now and then.
    if rng.random() < 0.25:
        return _snake(fake.catch_phrase().rsplit(" ", 1)[-1])
    return str(fake.word(part_of_speech="noun"))


# --- DAGs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DagSpec:
    count: int
    names: list[str]  # shapes to draw from, with their cumulative weights
    cum_weights: list[float]
    schedules: list[Any] | None
    paused: float
    start_date: Any
    prefix: str
    producer: str | None  # the shape a consumer with no producer before it becomes


def _dag_spec(section: Mapping[str, Any], shapes: Mapping[str, dict[str, Any]]) -> _DagSpec:
    weights = dict(section.get("shapes") or dict.fromkeys(shapes, 1))
    unknown = sorted(set(weights) - set(shapes))
    if unknown:
        known = ", ".join(sorted(shapes)) or "none"
        raise ShapeError(f"unknown shape {unknown[0]!r}; known shapes: {known}")
    names = sorted(n for n, w in weights.items() if w > 0)
    if not names:
        raise GenerateError("generate.dags.shapes: no shape has a positive weight")
    # A consumer with no producer before it becomes the first producer shape drawn from.
    producers = (n for n in (*names, *sorted(shapes)) if _only_produces(shapes[n]))
    return _DagSpec(
        count=int(section.get("count", DEFAULT_DAG_COUNT)), names=names,
        cum_weights=list(itertools.accumulate(weights[n] for n in names)),
        schedules=section.get("schedules"), paused=float(section.get("paused", DEFAULT_PAUSED)),
        start_date=section.get("start_date"), prefix=str(section.get("prefix") or ""),
        producer=next(producers, None),
    )  # fmt: skip


def _produces(shape: Mapping[str, Any]) -> bool:
    return any(task.get("outlets") for task in shape.get("tasks") or [])


def _consumes(shape: Mapping[str, Any]) -> bool:
    schedule = shape.get("schedule")
    return isinstance(schedule, dict) and "datasets" in schedule


def _only_produces(shape: Mapping[str, Any]) -> bool:
    return _produces(shape) and not _consumes(shape)


def _timed(schedule: Any) -> bool:
    """A cron, preset or timedelta schedule: the generator picks another."""
    if isinstance(schedule, dict):
        return "timedelta" in schedule
    return isinstance(schedule, str) and schedule != "@once"


def _dags(
    section: Mapping[str, Any], seed: int, shapes: Mapping[str, dict[str, Any]], fake: Faker,
    org: _Org,
) -> list[dict[str, Any]]:  # fmt: skip
    spec = _dag_spec(section, shapes)
    ids = _Unique()
    produced: list[str] = []  # the dataset URIs of the producers so far
    dags = []
    for index in range(spec.count):
        rng = _reseed(fake, seed, "dag", index)
        name = rng.choices(spec.names, cum_weights=spec.cum_weights)[0]
        if _consumes(shapes[name]) and not produced and spec.producer is not None:
            name = spec.producer
        entry = _dag_entry(fake, rng, spec, name, shapes[name], _values(fake, rng, org))
        entry["dag_id"] = ids(entry["dag_id"])
        if _consumes(shapes[name]) and produced:
            count = 2 if len(produced) > 1 and rng.random() < 0.2 else 1
            entry["schedule"] = {"datasets": sorted(set(rng.sample(produced, count)))}
        if "outlets" in entry:
            produced.extend(entry["outlets"])
        definition = apply_shape(shapes, entry)
        _vary_tasks(rng, definition.get("tasks") or [])
        dags.append(definition)
    return dags


def _dag_entry(
    fake: Faker, rng: Random, spec: _DagSpec, name: str, shape: Mapping[str, Any], values: _Values
) -> dict[str, Any]:
    """`{use: name, dag_id: ..., **overrides}` for one generated DAG (its id not yet unique)."""
    domain, noun = values["domain"], values["noun"]
    verb = rng.choice(VERBS.get(name, GENERIC_VERBS))
    if rng.random() < 0.2:  # a person's login now and then, else a team
        owner = _snake(f"{fake.first_name()[0]}{fake.last_name()}")
    else:
        owner = f"{values['dash']}-{rng.choice(TEAM_SUFFIXES)}"
    summary = shape.get("description") or name
    entry: dict[str, Any] = {
        "use": name,
        "dag_id": f"{spec.prefix}{domain}_{noun}_{verb}",
        "description": f"{domain.replace('_', ' ').capitalize()} {noun.replace('_', ' ')}: "
        f"{summary[:1].lower()}{summary[1:]} Part of the {fake.bs()} effort.",
        "doc_md": f"{shape.get('doc_md') or ''}\nContact: {owner} <{owner}@{values['org']}>\n",
        "owner": owner,
        "tags": list(dict.fromkeys([*shape.get("tags", []), domain])),
        "is_paused": rng.random() < spec.paused,
    }
    if rng.random() < 0.3:
        entry["tags"].append(rng.choice(EXTRA_TAGS))
    if spec.start_date is not None:
        entry["start_date"] = spec.start_date
    if _timed(shape.get("schedule")):
        entry["schedule"] = _schedule(rng, spec.schedules)
    if _produces(shape):
        entry["outlets"] = [_fill(rng.choices(DATASET_URIS, weights=(3, 2))[0], values)]
    return entry


def _schedule(rng: Random, schedules: list[Any] | None) -> Any:
    if schedules:
        return rng.choice(schedules)
    template = rng.choices([t for _, t in SCHEDULE_MIX], weights=[w for w, _ in SCHEDULE_MIX])[0]
    if template is None:
        return None
    return template.format(
        m=rng.randrange(0, 60, 5), h=rng.randrange(24), q=rng.choice((0, 15, 30, 45)),
        n=rng.choice((2, 3, 4, 6, 12)),
    )  # fmt: skip


def _vary_tasks(rng: Random, tasks: list[dict[str, Any]]) -> None:
    """Scale the shape's durations by one factor per DAG and redraw map counts,
    so that DAGs of one shape do not all run alike."""
    factor = rng.uniform(0.5, 2.0)
    for task in tasks:
        for key in ("duration", "deferral"):
            if task.get(key):
                task[key] = max(1, round(task[key] * factor))
        if task.get("map_count") is not None:
            task["map_count"] = rng.randint(2, 16)


# --- Connections, variables, users -----------------------------------------------------------

# conn_type: its weight, port, label (for the description) and field templates;
# a {name} in a template is drawn once per connection, on first use (_values).
DB = {"login": "{user}", "password": "{secret}", "schema": "{domain}"}
SF = "extra__snowflake__"
GCP = "extra__google_cloud_platform__"
CONNECTIONS: dict[str, dict[str, Any]] = {
    "postgres": {"weight": 20, "port": 5432, "label": "PostgreSQL database", **DB,
                 "host": "{dash}-db.{env}.{org}", "extra": {"sslmode": "require"}},
    "mysql": {"weight": 8, "port": 3306, "label": "MySQL database", **DB,
              "host": "{dash}-mysql.{env}.{org}", "extra": {"charset": "utf8mb4"}},
    "redshift": {"weight": 5, "port": 5439, "label": "Redshift cluster", **DB,
                 "host": "{slug}-{env}.{hex8}.{region}.redshift.amazonaws.com"},
    "snowflake": {"weight": 8, "label": "Snowflake warehouse", **DB, "schema": "{upper}",
                  "extra": {f"{SF}account": "{slug}{n}", f"{SF}region": "{region}",
                            f"{SF}warehouse": "{upper}_WH", f"{SF}database": "ANALYTICS",
                            f"{SF}role": "{upper}_TRANSFORMER"}},
    "http": {"weight": 15, "label": "Partner API", "host": "api.{vendor}", "schema": "https",
             "password": "{token}", "extra": {"Content-Type": "application/json"}},
    "aws": {"weight": 12, "label": "AWS account", "login": "AKIA{akid}", "password": "{secret40}",
            "extra": {"region_name": "{region}"}},
    "google_cloud_platform": {"weight": 8, "label": "Google Cloud project", "extra": {
        f"{GCP}project": "{slug}-{dash}-{env}", f"{GCP}num_retries": 5,
        f"{GCP}key_path": "/opt/airflow/secrets/{dash}-{env}.json"}},
    "sftp": {"weight": 6, "port": 22, "label": "SFTP drop", "host": "sftp.{vendor}",
             "login": "{user}", "extra": {"key_file": "/home/airflow/.ssh/id_rsa"}},
    "ssh": {"weight": 5, "port": 22, "label": "SSH host", "host": "{ip}", "login": "airflow",
            "extra": {"key_file": "/home/airflow/.ssh/id_ed25519", "no_host_key_check": "true"}},
    "redis": {"weight": 4, "port": 6379, "label": "Redis cache", "host": "{dash}-cache.{env}.{org}",
              "password": "{secret}", "extra": {"db": 0}},
    "slack": {"weight": 4, "label": "Slack workspace", "password": "xoxb-{n}-{token}"},
    "databricks": {"weight": 5, "label": "Databricks workspace", "password": "dapi{hex32}",
                   "host": "{slug}-{env}.cloud.databricks.com"},
}  # fmt: skip
CONN_TYPES = list(CONNECTIONS)
CONN_WEIGHTS = [c["weight"] for c in CONNECTIONS.values()]
CONN_FIELDS = ("host", "login", "password", "schema")
# kind: (key, value, description) templates.
VARIABLES = {
    "bucket": ("{domain}_{noun}_bucket", "{slug}-{dash}-{env}",
               "S3 bucket the {domain} {noun} DAGs write to."),
    "batch_size": ("{domain}_batch_size", "{batch}", "Rows per batch of the {domain} loads."),
    "config": ("{domain}_{noun}_config", "{config}", "Settings of the {noun} pipeline (JSON)."),
    "alert_emails": ("{domain}_alert_emails", "{emails}", "Addresses alerted on failure (JSON)."),
    "enabled": ("{domain}_{noun}_enabled", "{flag}", "Feature flag: run the {noun} steps."),
    "api_url": ("{domain}_{noun}_api_url", "https://api.{org}/v{v}/{noun}",
                "Base URL of the {noun} service."),
    "start_date": ("{domain}_{noun}_start_date", "{date}", "First day the {noun} backfill covers."),
    "api_key": ("{domain}_{noun}_api_key", "{hex32}", "Key of the {noun} API (rotated quarterly)."),
    "threshold": ("{domain}_{noun}_threshold", "{ratio}", "Data-quality threshold for {noun}."),
}  # fmt: skip


def _connection(fake: Faker, rng: Random, org: _Org, unique: _Unique) -> dict[str, Any]:
    conn_type = rng.choices(CONN_TYPES, weights=CONN_WEIGHTS)[0]
    kind, values = CONNECTIONS[conn_type], _values(fake, rng, org)
    stem = "gcp" if conn_type == "google_cloud_platform" else conn_type
    domain, env = values["domain"], values["env"]
    team = f"{kind['label']} of the {domain.replace('_', ' ')} team ({env})"
    extra = _fill(kind.get("extra"), values)
    return {
        "conn_id": unique(f"{stem}_{domain}" + ("" if env == "prod" else f"_{env}")),
        "conn_type": conn_type,
        "description": None if rng.random() < 0.2 else team,
        **{name: _fill(kind[name], values) if name in kind else None for name in CONN_FIELDS},
        "port": kind.get("port"),
        "extra": None if extra is None else json.dumps(extra),
    }


def _variable(fake: Faker, rng: Random, org: _Org, unique: _Unique) -> dict[str, Any]:
    key, value, description = VARIABLES[rng.choice(list(VARIABLES))]
    values = _values(fake, rng, org)
    return {
        "key": unique(_fill(key, values)),
        "value": _fill(value, values),
        "description": None if rng.random() < 0.4 else _fill(description, values),
    }


def _user(fake: Faker, rng: Random, org: _Org, unique: _Unique) -> dict[str, Any]:
    first, last = fake.first_name(), fake.last_name()
    username = unique(_snake(f"{first[0]}{last}"))
    return {
        "username": username,
        "password": username,
        "first_name": first,
        "last_name": last,
        "email": f"{username}@{org.domain}",
        "roles": rng.choices(list(ROLES), weights=list(ROLES.values())),
    }
