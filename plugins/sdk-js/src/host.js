// The `host` import, shared by every world: log lines, the plugin's config
// table, and clocks. Each call crosses into the broker: read configuration
// once per instance, and do not format log lines per message.

import * as host from "switchyard:plugin/host@0.2.0";
import { makeConsole, reported as reportedTo } from "./output.js";

const hostLog = (level, message) => host.log(level, message);

// QuickJS has no console of its own: `console.log` and friends go to the
// broker's log through `host.log` (see ./output.js).
if (typeof globalThis.console === "undefined") globalThis.console = makeConsole(hostLog);

/** `call()`, with an exception that escapes it logged (with its stack) first. */
export const reported = (call) => reportedTo(hostLog, call);

export const log = {
  trace: (message) => host.log("trace", message),
  debug: (message) => host.log("debug", message),
  info: (message) => host.log("info", message),
  warn: (message) => host.log("warn", message),
  error: (message) => host.log("error", message),
};

/** The comma-separated list format used by every Switchyard plugin. */
export function splitList(value) {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export const config = {
  /** One value, `undefined` when the key is absent. */
  get: (key) => host.configGet(key) ?? undefined,
  /** Every `[key, value]`, sorted by key. */
  entries: () => host.configEntries(),
  /** A value split on commas, items trimmed, empty items skipped. */
  list: (key) => {
    const v = host.configGet(key);
    return v === undefined || v === null ? undefined : splitList(v);
  },
};

export const clock = {
  /** Wall-clock milliseconds since the Unix epoch, as a Number. */
  nowMs: () => Number(host.nowMs()),
  /** Monotonic nanoseconds from an arbitrary start, as a BigInt. */
  monotonicNs: () => BigInt(host.monotonicNs()),
};
