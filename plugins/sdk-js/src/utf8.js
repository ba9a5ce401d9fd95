// UTF-8 both ways. StarlingMonkey has TextEncoder/TextDecoder; QuickJS
// does not, and gets ./utf8-fallback.js, which decodes and encodes alike.
// Invalid UTF-8 decodes to U+FFFD rather than throwing: a hostile
// publisher must not make a plugin trap.

import { decodeUtf8, encodeUtf8 } from "./utf8-fallback.js";

const hasDecoder = typeof TextDecoder === "function";
// `ignoreBOM` keeps a leading U+FEFF as text: decoding never drops a
// character of a payload, on either engine.
const decoder = hasDecoder ? new TextDecoder("utf-8", { ignoreBOM: true }) : null;
const strictDecoder = hasDecoder ? new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }) : null;
const encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;

/** `bytes` as text; invalid sequences become U+FFFD. */
export function decode(bytes) {
  return decoder ? decoder.decode(bytes) : decodeUtf8(bytes);
}

/** `bytes` as text, or `undefined` if they are not valid UTF-8. */
export function decodeStrict(bytes) {
  if (strictDecoder) {
    try {
      return strictDecoder.decode(bytes);
    } catch {
      return undefined;
    }
  }
  return decodeUtf8(bytes, true);
}

/** `text` as bytes; a lone surrogate becomes U+FFFD. */
export function encode(text) {
  return encoder ? encoder.encode(text) : encodeUtf8(text);
}

/** `text` as bytes, `bytes` kept as they are. */
export function toBytes(value) {
  return typeof value === "string" ? encode(value) : value;
}
