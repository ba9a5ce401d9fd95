"""The bindings componentize-py generates for the plugin's world.

componentize-py writes them as the top-level package `wit_world` when it
builds a component (`componentize-py -d wit -w transform componentize app`).
The SDK imports them only when a plugin calls into the host, so the SDK's
pure parts (headers, batch walking) can be imported and tested on the build
machine without them.
"""

import importlib


def module(name: str):
    """`wit_world.<name>`, e.g. `imports.host`; a clear error outside a build."""
    try:
        return importlib.import_module(f"wit_world.{name}")
    except ImportError as e:  # pragma: no cover - only outside componentize-py
        raise RuntimeError(
            f"switchyard_plugin: `wit_world.{name}` is missing: build the plugin with "
            "componentize-py against Switchyard's wit/ directory (scripts/build-plugins-python.sh)"
        ) from e
