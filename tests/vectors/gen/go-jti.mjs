// The `jti` nats-io/jwt (Go) computes, written independently of the Rust
// code: base32 (standard alphabet, no padding) of SHA-512/256 over the JSON
// of the registered claims only, in Go's field order, zero values left out,
// `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's encoding/json does.
//
// @nats-io/jwt (JavaScript) computes its `jti` differently (SHA-512 of the
// whole payload, standard base64), so its tokens carry a different `jti`;
// this recomputes what Go would have written for the same claims.

import { createHash } from "node:crypto";

const GO_ORDER = ["aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub"];

export function decodePayload(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

function goJson(value) {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

export function base32NoPad(bytes) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) {
    out += alphabet[(value << (5 - bits)) & 31];
  }
  return out;
}

export function goJti(claims) {
  const registered = {};
  for (const key of GO_ORDER) {
    const v = claims[key];
    if (key !== "jti" && v !== undefined && v !== null && v !== "" && v !== 0) {
      registered[key] = v;
    }
  }
  const digest = createHash("sha512-256").update(goJson(registered), "utf8").digest();
  return base32NoPad(digest);
}
