"""Uncaught exceptions, written to stderr before they end the call.

componentize-py turns an exception that escapes an export into a trap and
prints nothing; the broker logs what a plugin writes to stderr (tagged with
tenant and plugin, rate-limited), so the SDK writes the traceback there
first. Built by hand from the frames, not with `traceback.print_exc`: that
reads the source files for each line, and every filesystem call traps in
the broker. `sys` is imported at build time, like everything the SDK uses
at run time (see `_wit`)."""

import sys


def format_uncaught(error: BaseException) -> str:
    """The traceback of `error`, without source lines. Public for tests."""
    lines = ["Traceback (most recent call last):"]
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {code.co_name}')
        tb = tb.tb_next
    lines.append(f"{type(error).__qualname__}: {error}")
    return "\n".join(lines) + "\n"


def uncaught(error: BaseException) -> None:
    """Writes `error`'s traceback to stderr; never raises itself."""
    try:
        sys.stderr.write(format_uncaught(error))
    except BaseException:  # noqa: BLE001 - reporting must not replace the error
        pass


def reported(call, *args):
    """`call(*args)`, with an escaping exception written to stderr first,
    and what it printed flushed when it returns: stdout is not a terminal in
    the broker, so Python buffers it, and a line printed now would reach the
    log only when the buffer fills (one flush per batch, not per message)."""
    try:
        return call(*args)
    except BaseException as e:
        uncaught(e)
        raise
    finally:
        flush()


def flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed stream is not the plugin's error
            pass
