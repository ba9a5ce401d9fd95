// The tenant's in-memory key-value store, shared by all its plugins and
// instances, never by another tenant. Transform and routing plugins only.
// Limits: keys up to 256 bytes, values up to 4 KiB, 10,000 live keys per
// tenant; a write past a limit throws and changes nothing.

import * as kv from "switchyard:plugin/kv@0.2.0";
import { toBytes } from "./utf8.js";

const ttl = (ms) => (ms == null ? undefined : BigInt(ms));

/** The value at `key` (a Uint8Array), `undefined` if absent or expired. */
export const get = (key) => kv.get(key) ?? undefined;
/** Stores `value` (bytes or a string); with `ttlMs` it expires that long from now. */
export const set = (key, value, ttlMs) => kv.set(key, toBytes(value), ttl(ttlMs));
/** Removes `key`; absent keys are fine. */
export const del = (key) => kv.delete(key);
/** Adds `delta` to the counter at `key`; returns the new value as a BigInt. */
export const increment = (key, delta, ttlMs) => kv.increment(key, BigInt(delta), ttl(ttlMs));
