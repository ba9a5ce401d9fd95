// The UTF-8 fallback that QuickJS plugins run (src/utf8-fallback.js),
// checked against node's own TextDecoder and TextEncoder, which follow the
// WHATWG Encoding Standard the fallback promises to match.
//
// The fallback makes binary strings one of two ways: with the base64
// builtins quickjs-ng has (`toBase64`, `fromBase64`), or without them. Node
// 20 has neither, so the module is loaded twice: once as it is, and once
// more (a second instance, by query string) after node's Buffer has been
// installed in their place, which is the path QuickJS takes.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as plain from "../src/utf8-fallback.js";
import { decode, decodeStrict, encode } from "../src/utf8.js";

if (typeof Uint8Array.fromBase64 !== "function") {
  Uint8Array.prototype.toBase64 = function () {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString("base64");
  };
  Uint8Array.fromBase64 = (s) => new Uint8Array(Buffer.from(s, "base64"));
}
const base64 = await import("../src/utf8-fallback.js?base64");

const PATHS = [
  ["without base64 builtins", plain],
  ["with base64 builtins", base64],
];

const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

function expectedStrict(bytes) {
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

const bytes = (...b) => new Uint8Array(b);

/** Numbers below `n` from a fixed LCG: a failure reproduces. */
function seeded(seed) {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
}

// Mostly bytes where the rules change, so most inputs are near-misses.
const EDGES = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
  0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff];
const nearMiss = (random) => (random(5) < 4 ? EDGES[random(EDGES.length)] : random(256));

// Ill-formed input and what TextDecoder makes of it: one U+FFFD for each
// maximal start of a sequence that is cut short, and for each other byte.
const ILL_FORMED = [
  ["lone continuation byte", bytes(0x61, 0x80, 0x62), "a\uFFFDb"],
  ["byte that starts nothing", bytes(0xff, 0xfe), "\uFFFD\uFFFD"],
  ["overlong 2-byte", bytes(0xc0, 0xaf), "\uFFFD\uFFFD"],
  ["overlong 3-byte", bytes(0xe0, 0x80, 0xaf), "\uFFFD\uFFFD\uFFFD"],
  ["overlong 4-byte", bytes(0xf0, 0x80, 0x80, 0xaf), "\uFFFD\uFFFD\uFFFD\uFFFD"],
  ["encoded surrogate", bytes(0xed, 0xa0, 0x80), "\uFFFD\uFFFD\uFFFD"],
  ["above U+10FFFF", bytes(0xf4, 0x90, 0x80, 0x80), "\uFFFD\uFFFD\uFFFD\uFFFD"],
  ["lead byte F5", bytes(0xf5, 0x80), "\uFFFD\uFFFD"],
  ["3-byte cut short at the end", bytes(0x61, 0xe2, 0x82), "a\uFFFD"],
  ["3-byte cut short by ASCII", bytes(0xe2, 0x82, 0x41), "\uFFFDA"],
  ["4-byte cut short by another lead", bytes(0xf0, 0x9f, 0x98, 0xf0, 0x9f, 0x98, 0x80), "\uFFFD😀"],
  ["2-byte lead then ASCII", bytes(0xc3, 0x41, 0xc3, 0xa9), "\uFFFDAé"],
];

for (const [path, { decodeUtf8, encodeUtf8 }] of PATHS) {
  test(`${path}: ASCII passes through`, () => {
    const all = new Uint8Array(128).map((_, i) => i);
    assert.equal(decodeUtf8(all), String.fromCharCode(...all));
    assert.equal(decodeUtf8(all, true), String.fromCharCode(...all));
    assert.deepEqual(encodeUtf8(String.fromCharCode(...all)), all);
    assert.equal(decodeUtf8(new Uint8Array(0)), "");
    assert.deepEqual(encodeUtf8(""), new Uint8Array(0));
  });

  test(`${path}: 2-, 3- and 4-byte sequences, boundaries included`, () => {
    const text = "h\u00e9llo \u20ac \u0080\u07ff\u0800\uffff \u{10000}\u{1F600}\u{10FFFF}";
    const utf8 = encoder.encode(text);
    assert.equal(decodeUtf8(utf8), text);
    assert.equal(decodeUtf8(utf8, true), text);
    assert.deepEqual(encodeUtf8(text), utf8);
    assert.deepEqual(encodeUtf8("😀"), bytes(0xf0, 0x9f, 0x98, 0x80));
    // U+FFFD itself is valid text, and a byte-order mark is kept.
    assert.equal(decodeUtf8(bytes(0xef, 0xbf, 0xbd), true), "\uFFFD");
    assert.equal(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x41), true), "\uFEFFA");
  });

  test(`${path}: ill-formed input becomes U+FFFD, or undefined when strict`, () => {
    for (const [what, input, text] of ILL_FORMED) {
      assert.equal(decodeUtf8(input), text, what);
      assert.equal(decodeUtf8(input), lenient.decode(input), `${what}: as TextDecoder`);
      assert.equal(decodeUtf8(input, true), undefined, what);
    }
  });

  test(`${path}: a lone surrogate encodes as U+FFFD`, () => {
    const fffd = [0xef, 0xbf, 0xbd];
    assert.deepEqual(encodeUtf8("a\ud800b"), bytes(0x61, ...fffd, 0x62));
    assert.deepEqual(encodeUtf8("\udc00"), bytes(...fffd));
    assert.deepEqual(encodeUtf8("\udc00\ud800"), bytes(...fffd, ...fffd));
    assert.deepEqual(encodeUtf8("x\ud83d"), bytes(0x78, ...fffd));
    for (const s of ["a\ud800b", "\udc00\ud800", "x\ud83d", "\ud83d\ude00\ud83d"]) {
      assert.deepEqual(encodeUtf8(s), encoder.encode(s), JSON.stringify(s));
    }
  });

  test(`${path}: views, ArrayBuffers and arrays of bytes`, () => {
    const buffer = encoder.encode("xx\u00e9t\u00e9xx");
    assert.equal(decodeUtf8(buffer.subarray(2, 7)), "\u00e9t\u00e9");
    assert.equal(decodeUtf8(buffer.subarray(3, 7)), "\uFFFDt\u00e9");
    assert.equal(decodeUtf8(new DataView(buffer.buffer, 2, 5)), "\u00e9t\u00e9");
    assert.equal(decodeUtf8(buffer.buffer), "xx\u00e9t\u00e9xx");
    assert.equal(decodeUtf8([0xc3, 0xa9]), "\u00e9");
  });

  test(`${path}: large input, sequences across every chunk boundary`, () => {
    const ascii = "x".repeat(1 << 20);
    assert.equal(decodeUtf8(encoder.encode(ascii)), ascii);
    assert.deepEqual(encodeUtf8(ascii), encoder.encode(ascii));
    // 1-, 2-, 3- and 4-byte characters, 10 bytes a round: pieces of 8 KiB
    // cannot end between rounds every time.
    const mixed = "a\u00e9\u20ac\u{1F600}".repeat(100_000);
    const utf8 = encoder.encode(mixed);
    assert.equal(decodeUtf8(utf8), mixed);
    assert.equal(decodeUtf8(utf8, true), mixed);
    assert.deepEqual(encodeUtf8(mixed), utf8);
    // ASCII with one bad byte deep inside.
    const broken = encoder.encode(ascii);
    broken[700_000] = 0xff;
    assert.equal(decodeUtf8(broken), lenient.decode(broken));
    assert.equal(decodeUtf8(broken, true), undefined);
  });

  test(`${path}: random bytes decode as TextDecoder decodes them`, () => {
    const random = seeded(16);
    for (let round = 0; round < 20_000; round++) {
      const input = new Uint8Array(random(9));
      for (let i = 0; i < input.length; i++) input[i] = nearMiss(random);
      const hex = Buffer.from(input).toString("hex");
      assert.equal(decodeUtf8(input), lenient.decode(input), hex);
      assert.equal(decodeUtf8(input, true), expectedStrict(input), hex);
    }
  });

  test(`${path}: pieces end where no sequence is cut`, () => {
    // Pieces of 8 KiB start at the first non-ASCII byte: one at 0, then
    // random bytes around the first boundary.
    const random = seeded(8192);
    for (let round = 0; round < 2_000; round++) {
      const input = new Uint8Array(8192 + 8).fill(0x61);
      input.set([0xc3, 0xa9]);
      for (let i = 8192 - 8; i < input.length; i++) input[i] = nearMiss(random);
      const hex = Buffer.from(input.subarray(8192 - 8)).toString("hex");
      assert.equal(decodeUtf8(input), lenient.decode(input), hex);
      assert.equal(decodeUtf8(input, true), expectedStrict(input), hex);
    }
    const continuations = new Uint8Array(8192 + 8).fill(0x80);
    continuations[0] = 0xc3;
    assert.equal(decodeUtf8(continuations), lenient.decode(continuations));
    // Text is cut into pieces of 8192 UTF-16 units: a surrogate pair, or
    // half of one, at the boundary.
    for (const at of [8190, 8191, 8192]) {
      for (const insert of ["\u{1F600}", "\ud83d", "\ude00", "\u{1F600}\u{1F600}"]) {
        const text = "a".repeat(at) + insert + "b";
        assert.deepEqual(encodeUtf8(text), encoder.encode(text), `${at} ${JSON.stringify(insert)}`);
      }
    }
  });
}

test("node's own decoders keep a byte-order mark, as the fallback does", () => {
  const withBom = bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d);
  assert.equal(decode(withBom), "\uFEFF{}");
  assert.equal(decodeStrict(withBom), "\uFEFF{}");
  assert.equal(plain.decodeUtf8(withBom), "\uFEFF{}");
  assert.deepEqual(encode("\uFEFF{}"), withBom);
});
