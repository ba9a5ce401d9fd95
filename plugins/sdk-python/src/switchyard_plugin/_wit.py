"""The bindings componentize-py generates for the plugin's world.

componentize-py writes them as the top-level package `wit_world` when it
builds a component (`componentize-py -d wit -w transform componentize app`)
and runs the app's imports at build time (pre-initialisation). Every
binding module is imported here, at that time: an import at run time would
make Python's import system look for files, and the broker traps every
filesystem call. The modules a world lacks (`kv` in auth, ...) are skipped.
Outside a build (unit tests on the build machine) none exist, and the SDK's
pure parts still work.
"""

import importlib

_NAMES = (
    "imports.types",
    "imports.host",
    "imports.kv",
    "imports.message_payload",
    "exports.transformer",
    "exports.router",
    "exports.authenticator",
)

_MODULES = {}
for _name in _NAMES:
    try:
        _MODULES[_name] = importlib.import_module(f"wit_world.{_name}")
    except ImportError:
        pass


def module(name: str):
    """`wit_world.<name>`, e.g. `imports.host`; a clear error when the world
    does not have it or the plugin is not being built by componentize-py."""
    try:
        return _MODULES[name]
    except KeyError:
        raise RuntimeError(
            f"switchyard_plugin: `wit_world.{name}` is not in this plugin's world "
            "(or the plugin was not built with componentize-py against Switchyard's wit/)"
        ) from None
