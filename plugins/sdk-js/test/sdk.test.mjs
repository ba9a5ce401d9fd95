// The SDK's pure parts on the build machine (node --test): header parsing
// and UTF-8. The world modules import `switchyard:plugin/...`, which only
// exists inside a component, so they are exercised by the broker's tests.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Headers } from "../src/headers.js";
import { decode, decodeStrict, encode } from "../src/utf8.js";

const BLOCK = "NATS/1.0\r\nX-Region: eu\r\nTrace:  a1 \r\nX-Region: us\r\n\r\n";

test("headers in order, with repeats and case rules", () => {
  const h = new Headers(encode(BLOCK));
  assert.deepEqual([...h], [["X-Region", "eu"], ["Trace", "a1"], ["X-Region", "us"]]);
  assert.equal(h.get("x-region"), undefined);
  assert.equal(h.getIgnoreCase("x-region"), "eu");
  assert.deepEqual(h.getAll("X-Region"), ["eu", "us"]);
  assert.equal(new Headers("NATS/1.0 503\r\n\r\n").status(), 503);
  assert.equal(h.status(), undefined);
});

test("malformed header lines are skipped, not thrown", () => {
  const raw = new Uint8Array([...encode("NATS/1.0\r\nno colon\r\n: empty\r\nA:"), 0xff, ...encode("\r\nB: ok\r\n\r\nC: x\r\n")]);
  assert.deepEqual([...new Headers(raw)], [["B", "ok"]]);
  assert.ok(new Headers(undefined).isEmpty());
});

test("strict UTF-8 refuses what the lenient decoder replaces", () => {
  assert.equal(decodeStrict(encode("héllo €")), "héllo €");
  assert.equal(decodeStrict(new Uint8Array([0x61, 0xff])), undefined);
  assert.equal(decode(new Uint8Array([0x61, 0xff])), "a\uFFFD");
});
