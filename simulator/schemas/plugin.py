"""Plugin bodies (Airflow's PluginSchema).

Airflow 2.5.3 dumps macros, flask_blueprints and both extra-link lists as
strings through a dict field and crashes (500) on any non-empty one; later
2.x releases answer them as lists of strings, as here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.state.entities import Plugin


def dump_plugin(plugin: Plugin) -> dict[str, Any]:
    return {
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


def dump_plugin_collection(plugins: Iterable[Plugin], total: int) -> dict[str, Any]:
    return {"plugins": [dump_plugin(plugin) for plugin in plugins], "total_entries": total}
