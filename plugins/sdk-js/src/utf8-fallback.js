// UTF-8 for engines without TextEncoder/TextDecoder: QuickJS as
// componentize-qjs builds it (quickjs-ng) has neither.
//
// No loop here runs per byte. A JavaScript loop costs ~0.1-0.3 µs an
// iteration in QuickJS compiled to wasm, so the per-byte decoder this
// replaces spent ~0.6 ms decoding a 1 KiB payload and 0.3-0.6 ms encoding
// one (issue 16). The work goes to builtins written in C instead, through a
// "binary string" (one char, 0-255, per byte):
//
// - bytes to binary string: `atob(bytes.toBase64())`; binary string to
//   bytes: `Uint8Array.fromBase64(btoa(s))` (quickjs-ng has both);
// - decoding: ASCII is its own binary string; from the first other byte
//   on, `decodeURIComponent(escape(rest))` decodes, and throws if the
//   rest is not well-formed UTF-8 (overlong forms, surrogates and code
//   points past U+10FFFF included). Only then does a regular expression
//   split the rest into well-formed runs and what is replaced;
// - encoding: `unescape(encodeURIComponent(text))` is the UTF-8 binary
//   string of `text`.
//
// Both directions work in pieces of at most 8 KiB, cut where no sequence
// is split, which bounds what a large payload costs in memory: a regular
// expression match keeps backtracking state for every byte it spans (~85
// bytes each in QuickJS: 1 MiB of text in one match took ~85 MiB), and
// `escape` and `encodeURIComponent` triple the text they are given.
//
// Where the base64 builtins are missing (node 20, where the tests also run
// this module) binary strings are made by `String.fromCharCode` over chunks
// and a loop.
//
// Invalid input decodes as TextDecoder decodes it: each maximal start of a
// well-formed sequence that is cut short, and each byte that starts none,
// becomes one U+FFFD (the WHATWG Encoding Standard; Unicode's "best
// practice" in section 3.9). A byte-order mark is kept, as TextDecoder with
// `ignoreBOM` keeps it.

// Bytes (or UTF-16 units) a piece; also what one `String.fromCharCode.apply`
// is given, well under QuickJS's limit of 65535 arguments a call.
const PIECE = 8192;

const NON_ASCII = /[\x80-\xff]/;

// Unicode's table 3-7 of well-formed sequences, as bytes of a binary
// string: a run of well-formed text (group 1), else the longest start of a
// multi-byte sequence that is cut short, else any other byte on its own.
// Linear: nothing after a run can make it backtrack.
const SEQUENCES = new RegExp(
  "((?:[\\x00-\\x7f]|[\\xc2-\\xdf][\\x80-\\xbf]" +
    "|\\xe0[\\xa0-\\xbf][\\x80-\\xbf]|[\\xe1-\\xec\\xee\\xef][\\x80-\\xbf]{2}|\\xed[\\x80-\\x9f][\\x80-\\xbf]" +
    "|\\xf0[\\x90-\\xbf][\\x80-\\xbf]{2}|[\\xf1-\\xf3][\\x80-\\xbf]{3}|\\xf4[\\x80-\\x8f][\\x80-\\xbf]{2})+)" +
    "|\\xe0[\\xa0-\\xbf]?|[\\xe1-\\xec\\xee\\xef][\\x80-\\xbf]?|\\xed[\\x80-\\x9f]?" +
    "|\\xf0(?:[\\x90-\\xbf][\\x80-\\xbf]?)?|[\\xf1-\\xf3](?:[\\x80-\\xbf][\\x80-\\xbf]?)?|\\xf4(?:[\\x80-\\x8f][\\x80-\\xbf]?)?" +
    "|[\\x80-\\xff]",
  "g",
);

const hasBase64 =
  typeof Uint8Array.prototype.toBase64 === "function" &&
  typeof Uint8Array.fromBase64 === "function" &&
  typeof atob === "function" &&
  typeof btoa === "function";

/** One char per byte of `bytes` (a Uint8Array). */
function binaryString(bytes) {
  if (hasBase64) return atob(bytes.toBase64());
  if (bytes.length <= PIECE) return String.fromCharCode.apply(null, bytes);
  const parts = [];
  for (let i = 0; i < bytes.length; i += PIECE) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + PIECE)));
  }
  return parts.join("");
}

/** The bytes of a binary string. */
function fromBinaryString(s) {
  if (hasBase64) return Uint8Array.fromBase64(btoa(s));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A Uint8Array over what TextDecoder accepts (and arrays of bytes). */
function asBytes(input) {
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(input);
}

/**
 * Where a piece of `binary` meant to end at `end` ends: before the first
 * byte from `end` back that cannot continue a sequence, so none is cut.
 * When `end` and the three bytes before it all can, no sequence reaching
 * `end` can have started within a sequence's length of it: `end` is safe.
 */
function pieceEnd(binary, end) {
  if (end >= binary.length) return binary.length;
  for (let at = end; at > end - 4; at--) {
    const c = binary.charCodeAt(at);
    if (c < 0x80 || c > 0xbf) return at;
  }
  return end;
}

/** One piece of a binary string as text; see `decodeUtf8`. */
function decodePiece(piece, strict) {
  try {
    return decodeURIComponent(escape(piece));
  } catch {
    // A URIError: the piece is not well-formed.
    if (strict) return undefined;
  }
  return piece.replace(SEQUENCES, (_, run) =>
    run === undefined ? "\uFFFD" : decodeURIComponent(escape(run)),
  );
}

/**
 * `bytes` as text. Ill-formed sequences become U+FFFD, or, when `strict`,
 * make the answer `undefined`.
 */
export function decodeUtf8(bytes, strict = false) {
  const binary = binaryString(asBytes(bytes));
  const first = binary.search(NON_ASCII);
  if (first < 0) return binary;
  const parts = [binary.slice(0, first)];
  for (let start = first; start < binary.length; ) {
    const end = pieceEnd(binary, start + PIECE);
    const text = decodePiece(binary.slice(start, end), strict);
    if (text === undefined) return undefined;
    parts.push(text);
    start = end;
  }
  return parts.join("");
}

/** `text` as UTF-8; a lone surrogate becomes U+FFFD, as TextEncoder does. */
export function encodeUtf8(text) {
  const parts = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + PIECE, text.length);
    // Not between the halves of a surrogate pair.
    if (end < text.length && (text.charCodeAt(end - 1) & 0xfc00) === 0xd800) end--;
    const piece = text.slice(start, end);
    const wellFormed = piece.isWellFormed() ? piece : piece.toWellFormed();
    parts.push(unescape(encodeURIComponent(wellFormed)));
    start = end;
  }
  return fromBinaryString(parts.join(""));
}
