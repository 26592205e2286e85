"""Snapshots: the whole world as one JSON document, and back.

`Simulator.snapshot()` answers the document (plain JSON data: dicts,
lists, strings, numbers, booleans, null); `Simulator.restore(document)`
serves the world it describes, so that the simulation carries on exactly
as the original would: the same events, the same answers. A document that
cannot be restored raises SnapshotError (a ValueError naming the place,
`snapshot: dag_runs.columns.state[12]: ...`) and changes nothing.

The document (version 1), key by key:

    format, version   "airflow-sim-snapshot", 1
    scenario          where the world came from (origin.py): name, source,
                      digest, and the content unless it is bundled
    settings          seed and start (the instant the world was served from),
                      and retention_days when the world has a retention
    clock             now, mode, speed
    random            characters drawn from each password salt stream
    security, config  FAB's actions and resources; Airflow's configuration
    tables            connections, variables, pools, roles, users, import
                      errors, DAG warnings, plugins, providers, datasets,
                      dataset events (tables.py)
    dags              each DAG's definition and state (dags.py)
    dag_runs          runs and their instances' layouts (runs.py)
    task_instances, task_tries  (instances.py; a fault's effect on a try
                      in four more columns, when some try has one)
    xcoms             (xcoms.py)
    event_logs        (logs.py)
    engine            now, the event seq counter, the live events (scheduling.py)
    scheduler         its seq counter, waiting and parked instances, DAGs
                      that released a slot, the dataset-triggered queue, and,
                      while it is down, its outage (depth, since, held events)

Instants are integers, microseconds since the Unix epoch, when in UTC, and
ISO texts otherwise; the big tables are columns (codec.py). Counters (row
ids, seqs) are stored; what derives from the rest is rebuilt on restore:
the store's indices (runs by DAG and date, live runs, active instances,
slots held), instances' pending events and DAGs' creation events (from
the engine's events), layouts, and every cache (scheduler plans, dataset
consumers, shared values). Users' passwords are stored as the hashes
Airflow's database holds (pending ones are hashed first); connections keep
their passwords, as Airflow's database does.
"""

from simulator.snapshot.reading import SnapshotError
from simulator.snapshot.world import FORMAT, VERSION, Restored, export, restore

__all__ = ["FORMAT", "VERSION", "Restored", "SnapshotError", "export", "restore"]
