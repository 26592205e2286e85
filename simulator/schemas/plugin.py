"""Plugin bodies (Airflow's PluginSchema).

Airflow 2.5.3 dumps macros, flask_blueprints and both extra-link lists as
strings through a dict field and crashes (500) on any non-empty one; later
2.x releases answer them as lists of strings, as here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.state.entities import Plugin
from simulator.versions import V2_5, AirflowVersion


def dump_plugin(plugin: Plugin, version: AirflowVersion = V2_5) -> dict[str, Any]:
    body = {
        "name": plugin.name,
        "hooks": list(plugin.hooks),
        "executors": list(plugin.executors),
        "macros": list(plugin.macros),
        "flask_blueprints": list(plugin.flask_blueprints),
        "appbuilder_views": [dict(view) for view in plugin.appbuilder_views],
        "appbuilder_menu_items": [dict(item) for item in plugin.appbuilder_menu_items],
        "global_operator_extra_links": list(plugin.global_operator_extra_links),
        "operator_extra_links": list(plugin.operator_extra_links),
        "source": plugin.source,
    }
    if version.at_least("2.10"):
        body["ti_deps"] = list(plugin.ti_deps)
        body["listeners"] = list(plugin.listeners)
        body["timetables"] = list(plugin.timetables)
    return body


def dump_plugin_collection(
    plugins: Iterable[Plugin], total: int, version: AirflowVersion = V2_5
) -> dict[str, Any]:
    return {
        "plugins": [dump_plugin(plugin, version) for plugin in plugins],
        "total_entries": total,
    }
