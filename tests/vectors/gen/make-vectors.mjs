// Writes NATS JWT test vectors made by an implementation independent of
// Switchyard's: @nats-io/jwt (the JavaScript library) with @nats-io/nkeys.
// Output: ../jwt/ (keys.json, *.jwt, user.creds, expected.json).
//
//   cd tests/vectors/gen && npm install && node make-vectors.mjs
//
// Keys are new on every run, so regenerating changes every file; after it,
// regenerate ../ours too (see ../README.md).

import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeActivation,
  encodeOperator,
  encodeUser,
  fmtCreds,
  newScopedSigner,
} from "@nats-io/jwt";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { goJti, decodePayload } from "./go-jti.mjs";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "jwt");
mkdirSync(out, { recursive: true });

// 2100-01-01T00:00:00Z: "far in the future" for expiry and not-before.
const FAR_FUTURE = 4102444800;

const keys = {
  operator: createOperator(),
  operator_signing: createOperator(),
  system_account: createAccount(),
  account: createAccount(),
  account_signing: createAccount(),
  account_scoped_signing: createAccount(),
  exporter: createAccount(),
  user: createUser(),
  signing_key_user: createUser(),
  scoped_user: createUser(),
  revoked_user: createUser(),
};
const pk = (name) => keys[name].getPublicKey();
const seed = (name) => new TextDecoder().decode(keys[name].getSeed());

const files = {};

files["operator.jwt"] = await encodeOperator("vectors-operator", keys.operator, {
  signing_keys: [pk("operator_signing")],
  system_account: pk("system_account"),
  account_server_url: "http://127.0.0.1:9090/jwt/v1",
  operator_service_urls: ["nats://127.0.0.1:4222"],
  tags: ["env:test"],
});

// The exporter is signed by the operator's signing key, not its identity.
files["exporter.jwt"] = await encodeAccount(
  "vectors-exporter",
  keys.exporter,
  {
    exports: [
      { name: "prices", subject: "prices.>", type: "stream", token_req: true },
      { name: "quotes", subject: "quotes.request", type: "service" },
    ],
    limits: { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 },
  },
  { signer: keys.operator_signing },
);

files["activation.jwt"] = await encodeActivation(
  "prices for vectors-account",
  keys.account,
  keys.exporter,
  "stream",
  { subject: "prices.>" },
);

// Signed by the operator's identity key. (@nats-io/jwt signs an account
// JWT with the account's own key unless given a signer.)
files["account.jwt"] = await encodeAccount("vectors-account", keys.account, {
  imports: [
    {
      name: "prices",
      subject: "prices.>",
      account: pk("exporter"),
      token: files["activation.jwt"],
      local_subject: "vendor.prices.>",
      type: "stream",
    },
    { name: "quotes", subject: "quotes.request", account: pk("exporter"), type: "service", share: true },
  ],
  exports: [
    {
      name: "help",
      subject: "help.request",
      type: "service",
      token_req: true,
      response_type: "Stream",
      response_threshold: 5_000_000_000,
      description: "help desk",
    },
    { name: "orders", subject: "orders.>", type: "stream" },
  ],
  limits: {
    subs: 1000,
    data: -1,
    payload: 1048576,
    imports: 10,
    exports: 10,
    wildcards: true,
    conn: 100,
    leaf: -1,
    disallow_bearer: true,
  },
  signing_keys: [
    pk("account_signing"),
    newScopedSigner(keys.account_scoped_signing, "support", {
      pub: { allow: ["support.>"] },
      sub: { allow: ["support.>", "_INBOX.>"] },
      subs: 10,
    }),
  ],
  revocations: { [pk("revoked_user")]: 1700000000, "*": 1600000000 },
  default_permissions: { pub: { allow: ["public.>"] }, sub: { allow: ["public.>", "_INBOX.>"] } },
  mappings: {
    canary: [
      { subject: "canary.a", weight: 90 },
      { subject: "canary.b", weight: 10 },
    ],
  },
  tags: ["tenant:acme"],
  description: "vectors account",
}, { signer: keys.operator });

// Self-signed: nats-io/jwt decodes it, Switchyard's decoder refuses it.
files["account_self_signed.jwt"] = await encodeAccount("vectors-self-signed", keys.exporter, {});

const userPermissions = {
  pub: { allow: ["orders.>", "_INBOX.>"], deny: ["orders.secret"] },
  sub: { allow: ["help.request", "orders.* workers"], deny: ["orders.internal"] },
  resp: { max: 1, ttl: 60_000_000_000 },
  src: ["192.168.1.0/24", "10.0.0.1/32"],
  times: [{ start: "08:00:00", end: "17:00:00" }],
  // The Go name; @nats-io/jwt's own UserLimits type calls it `locale`.
  times_location: "Europe/Berlin",
  subs: 50,
  data: 10485760,
  payload: 65536,
  bearer_token: false,
  allowed_connection_types: ["STANDARD", "WEBSOCKET"],
  tags: ["team:blue"],
};

files["user.jwt"] = await encodeUser("vectors-user", keys.user, keys.account, userPermissions, {
  exp: FAR_FUTURE,
});

files["user_signing_key.jwt"] = await encodeUser(
  "vectors-signing-key-user",
  keys.signing_key_user,
  keys.account,
  { pub: { allow: ["orders.>"] }, sub: { allow: ["_INBOX.>"] } },
  { signer: keys.account_signing, exp: FAR_FUTURE },
);

files["user_scoped.jwt"] = await encodeUser(
  "vectors-scoped-user",
  keys.scoped_user,
  keys.account,
  {},
  { signer: keys.account_scoped_signing, scopedUser: true },
);

files["user_expired.jwt"] = await encodeUser("vectors-expired-user", keys.user, keys.account, {}, {
  exp: 1000000000,
});

files["user_not_yet_valid.jwt"] = await encodeUser("vectors-future-user", keys.user, keys.account, {}, {
  nbf: FAR_FUTURE,
});

const expected = {};
for (const [name, token] of Object.entries(files)) {
  writeFileSync(join(out, name), token + "\n");
  expected[name] = { go_jti: goJti(decodePayload(token)) };
}

writeFileSync(join(out, "user.creds"), fmtCreds(files["user.jwt"], keys.user));

const keyFile = {};
for (const name of Object.keys(keys)) {
  keyFile[name] = { seed: seed(name), public_key: pk(name) };
}
writeFileSync(join(out, "keys.json"), JSON.stringify(keyFile, null, 2) + "\n");
writeFileSync(join(out, "expected.json"), JSON.stringify(expected, null, 2) + "\n");

console.log(`wrote ${Object.keys(files).length} JWTs, user.creds, keys.json, expected.json to ${out}`);
