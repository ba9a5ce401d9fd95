"""SDK for Switchyard plugins in Python: WebAssembly components for the
`switchyard:plugin@0.2.0` worlds, built with componentize-py.

A plugin is a class exported with one function, bound to the name
componentize-py looks for in the app module:

| world | methods | export |
|---|---|---|
| transform | `register() -> Registration`, `transform(msg) -> Action` | `Transformer = export_transform(P)` |
| routing | `register() -> Registration`, `route(req) -> Decision` | `Router = export_routing(P)` |
| auth | `authenticate(req) -> Grant` (raise `Denied`) | `Authenticator = export_auth(P)` |

Host imports: `log`, `config`, `clock`, `kv`. The generated bindings are
the package `wit_world`, for anything the SDK does not cover.
"""

from . import clock, config, kv, log
from .auth import Denied, Grant, Permissions, export_auth
from .headers import Header, Headers
from .registration import Registration
from .routing import ALLOW, Decision, RouteRequest, export_routing
from .transform import DROP, PASS, Action, Message, OutMessage, export_transform

__all__ = [
    "ALLOW",
    "Action",
    "DROP",
    "Decision",
    "Denied",
    "Grant",
    "Header",
    "Headers",
    "Message",
    "OutMessage",
    "PASS",
    "Permissions",
    "Registration",
    "RouteRequest",
    "clock",
    "config",
    "export_auth",
    "export_routing",
    "export_transform",
    "kv",
    "log",
]
