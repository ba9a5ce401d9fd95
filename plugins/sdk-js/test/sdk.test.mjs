// The SDK's pure parts on the build machine (node --test): header parsing,
// UTF-8 and the routing batch walk. The world modules import
// `switchyard:plugin/...`, which only exists inside a component, so they
// are exercised by the broker's tests.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { Headers } from "../src/headers.js";
import { Decision, walkRouteBatch } from "../src/route-batch.js";
import { decode, decodeStrict, encode } from "../src/utf8.js";
import { formatArgs, makeConsole, reported } from "../src/output.js";

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

// Lays messages out the way the broker does: one buffer, spans into it.
function routeBatch(messages) {
  const bytes = [];
  const put = (s) => {
    const b = typeof s === "string" ? encode(s) : s;
    const span = { offset: bytes.length, len: b.length };
    bytes.push(...b);
    return span;
  };
  const refs = messages.map(({ subject, reply, headers, size = 0 }) => ({
    subject: put(subject),
    reply: reply === undefined ? undefined : put(reply),
    headers: headers === undefined ? undefined : put(headers),
    payloadSize: size,
  }));
  const publisher = { user: "alice", clientId: 7n, clientName: undefined };
  return { publisher, data: new Uint8Array(bytes), messages: refs };
}

test("route batches: one decision per message, in order, only those not allowed", () => {
  const batch = routeBatch([
    { subject: "orders.1", size: 3 },
    { subject: "orders.2", reply: "_INBOX.x", headers: "NATS/1.0\r\nRegion: eu\r\n\r\n" },
    { subject: "orders.3", size: 5 },
  ]);
  const fetched = [];
  const fetch = (index) => {
    fetched.push(index);
    return encode(`payload ${index}`);
  };
  const seen = [];
  const verdicts = walkRouteBatch(batch, fetch, (req) => {
    seen.push([req.index, req.subject, req.reply, req.publisher.user]);
    if (req.headers.get("Region")) return Decision.reroute(`eu.${req.subject}`);
    if (req.index === 2) {
      assert.equal(req.text, "payload 2");
      assert.equal(req.text, "payload 2"); // cached: fetched once
      return Decision.deny("no");
    }
    return Decision.allow;
  });
  assert.deepEqual(seen, [
    [0, "orders.1", undefined, "alice"],
    [1, "orders.2", "_INBOX.x", "alice"],
    [2, "orders.3", undefined, "alice"],
  ]);
  assert.deepEqual(fetched, [2]);
  assert.deepEqual(verdicts, [
    { index: 1, decision: { tag: "reroute", val: "eu.orders.2" } },
    { index: 2, decision: { tag: "deny", val: "no" } },
  ]);
  assert.deepEqual(walkRouteBatch(batch, fetch, () => undefined), []);
});

test("route spans outside the buffer read as empty", () => {
  const batch = routeBatch([{ subject: "ok" }]);
  batch.messages[0].subject = { offset: 1, len: 9 };
  walkRouteBatch(batch, () => new Uint8Array(0), (req) => assert.equal(req.subject, ""));
});

test("every WIT import names the package version of wit/", () => {
  const wit = readFileSync(new URL("../../../wit/types.wit", import.meta.url), "utf8");
  const version = /^package switchyard:plugin@([0-9.]+);/m.exec(wit)[1];
  const src = new URL("../src/", import.meta.url);
  for (const file of readdirSync(src)) {
    const text = readFileSync(new URL(file, src), "utf8");
    for (const [, v] of text.matchAll(/"switchyard:plugin\/[a-z-]+@([0-9.]+)"/g)) {
      assert.equal(v, version, `${file} imports @${v}, wit/ is @${version}`);
    }
  }
});

test("console methods log at their level, objects as JSON", () => {
  const lines = [];
  const c = makeConsole((level, line) => lines.push([level, line]));
  c.log("a", 1, { b: 2n }, null);
  c.error("bad");
  c.debug([1]);
  assert.deepEqual(lines, [
    ["info", 'a 1 {"b":"2n"} null'],
    ["error", "bad"],
    ["debug", "[1]"],
  ]);
  const cyclic = {};
  cyclic.self = cyclic;
  assert.equal(formatArgs([cyclic]), "[object Object]");
});

test("an escaping exception is logged with its stack, then rethrown", () => {
  const lines = [];
  const log = (level, line) => lines.push([level, line]);
  assert.equal(reported(log, () => 7), 7);
  assert.deepEqual(lines, []);
  assert.throws(
    () =>
      reported(log, () => {
        throw new TypeError("boom");
      }),
    TypeError,
  );
  assert.equal(lines.length, 1);
  assert.equal(lines[0][0], "error");
  assert.match(lines[0][1], /^uncaught exception: TypeError: boom\n/);
});
