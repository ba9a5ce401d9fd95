// UTF-8 both ways. StarlingMonkey has TextEncoder/TextDecoder; the QuickJS
// backend may not, so there is a small fallback. Invalid UTF-8 decodes to
// U+FFFD rather than throwing: a hostile publisher must not make a plugin
// trap.

const hasDecoder = typeof TextDecoder === "function";
const decoder = hasDecoder ? new TextDecoder() : null;
const strictDecoder = hasDecoder ? new TextDecoder("utf-8", { fatal: true }) : null;
const encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;

/** `bytes` as text; invalid sequences become U+FFFD. */
export function decode(bytes) {
  return decoder ? decoder.decode(bytes) : fallbackDecode(bytes, false);
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
  return fallbackDecode(bytes, true);
}

function fallbackDecode(bytes, strict) {
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let cp = 0xfffd;
    let n = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b < 0xe0) n = 2;
    else if (b >= 0xe0 && b < 0xf0) n = 3;
    else if (b >= 0xf0 && b < 0xf5) n = 4;
    if (n > 1) {
      let v = b & (0xff >> (n + 1));
      let ok = i + n <= bytes.length;
      for (let k = 1; ok && k < n; k++) {
        const c = bytes[i + k];
        if ((c & 0xc0) !== 0x80) ok = false;
        else v = (v << 6) | (c & 0x3f);
      }
      const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
      if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) cp = v;
      else n = 1;
    }
    if (strict && cp === 0xfffd && !(n === 3 && bytes[i] === 0xef)) return undefined;
    out += String.fromCodePoint(cp);
    i += n;
  }
  return out;
}

export function encode(text) {
  if (encoder) return encoder.encode(text);
  const out = [];
  for (const ch of text) {
    let cp = ch.codePointAt(0);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000)
      out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else
      out.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
  }
  return new Uint8Array(out);
}

/** `text` as bytes, `bytes` kept as they are. */
export function toBytes(value) {
  return typeof value === "string" ? encode(value) : value;
}
