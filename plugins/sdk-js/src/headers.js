// Read access to a raw NATS header block, parsed lazily. The broker hands
// plugins the block exactly as published
// (`NATS/1.0[ status]\r\nName: value\r\n...\r\n\r\n`). Malformed lines are
// skipped, never thrown, so a hostile publisher cannot make a plugin trap.

import { decode } from "./utf8.js";

export class Headers {
  /** @param {Uint8Array | string | undefined} raw */
  constructor(raw) {
    this.raw = raw === undefined || raw === null ? "" : typeof raw === "string" ? raw : decode(raw);
  }

  *#lines() {
    for (let line of this.raw.split("\n")) {
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") return;
      yield line;
    }
  }

  /** Every `[name, value]` pair in order; a name may repeat. */
  *[Symbol.iterator]() {
    let first = true;
    for (const line of this.#lines()) {
      if (first) {
        first = false;
        continue;
      }
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      if (name === "" || line.includes("\uFFFD")) continue;
      yield [name, line.slice(colon + 1).trim()];
    }
  }

  isEmpty() {
    return this[Symbol.iterator]().next().done;
  }

  /** The status code of the first line (`NATS/1.0 503`), if any. */
  status() {
    const first = this.#lines().next().value;
    if (first === undefined || !first.startsWith("NATS/1.0")) return undefined;
    const code = first.slice(8).trim().split(" ")[0];
    return /^[0-9]+$/.test(code) ? Number(code) : undefined;
  }

  /** The first value of `name`, compared exactly (NATS names are case-sensitive). */
  get(name) {
    for (const [n, v] of this) if (n === name) return v;
    return undefined;
  }

  /** The first value of `name`, ignoring ASCII case. */
  getIgnoreCase(name) {
    const lowered = name.toLowerCase();
    for (const [n, v] of this) if (n.toLowerCase() === lowered) return v;
    return undefined;
  }

  getAll(name) {
    const out = [];
    for (const [n, v] of this) if (n === name) out.push(v);
    return out;
  }

  /** Copies the headers into `{name, value}` objects, e.g. to edit and return them. */
  toList() {
    return Array.from(this, ([name, value]) => ({ name, value }));
  }
}
