// What a script prints and what escapes it, into the broker's log.
//
// The QuickJS engine the components are built with has no `console`, and
// its WASI is stubbed inside the component, so nothing a script could
// write to stdout reaches the broker. This module gives the script a
// `console` whose methods write through the `host` log import (tagged
// with tenant and plugin by the broker), and reports an exception that
// escapes an export (which the broker sees as a trap) with its stack
// first. Pure: the log function is passed in, so it is tested on the build
// machine.

/** One printable line from `console.log`'s arguments. */
export function formatArgs(args) {
  return args.map(describe).join(" ");
}

function describe(value) {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.stack ? `${value}\n${value.stack}` : String(value);
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * A `console` writing to `log(level, line)`: `log`/`info` at info,
 * `debug`, `trace`, `warn` and `error` at their own level.
 */
export function makeConsole(log) {
  const at = (level) => (...args) => log(level, formatArgs(args));
  return {
    log: at("info"),
    info: at("info"),
    debug: at("debug"),
    trace: at("trace"),
    warn: at("warn"),
    error: at("error"),
  };
}

/** `call()`, with an escaping exception logged at error (stack included) first. */
export function reported(log, call) {
  try {
    return call();
  } catch (e) {
    try {
      log("error", `uncaught exception: ${describe(e)}`);
    } catch {
      // Reporting must never replace the error.
    }
    throw e;
  }
}
