// Checks the JWTs and creds file Switchyard issued (../ours, written by the
// Rust test auth::jwt::golden_tests) with @nats-io/jwt: signatures verify,
// issuers and subjects are the keys in ../jwt/keys.json, the claims read as
// Switchyard wrote them, the `jti` is the one Go's nats-io/jwt would compute,
// and the creds file parses.
//
//   cd tests/vectors/gen && npm install && node verify.mjs
//
// Exits non-zero when any check fails.

import { decode, parseCreds } from "@nats-io/jwt";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { goJti } from "./go-jti.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const ours = join(here, "..", "ours");
const keys = JSON.parse(readFileSync(join(here, "..", "jwt", "keys.json"), "utf8"));
const pk = (role) => keys[role].public_key;

let passed = 0;
let failed = 0;
function check(what, ok, detail = "") {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${what} ${detail}`);
  }
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function load(file, type, issuer, subject) {
  const token = readFileSync(join(ours, file), "utf8").trim();
  let claims;
  try {
    claims = decode(token); // verifies the signature against `iss`
  } catch (e) {
    check(`${file}: @nats-io/jwt decodes and verifies it`, false, e.message);
    return null;
  }
  check(`${file}: @nats-io/jwt decodes and verifies it`, true);
  const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
  check(`${file}: header`, same(header, { typ: "JWT", alg: "ed25519-nkey" }), JSON.stringify(header));
  check(`${file}: type`, claims.nats.type === type, claims.nats.type);
  check(`${file}: version 2`, claims.nats.version === 2);
  check(`${file}: issuer`, claims.iss === pk(issuer), claims.iss);
  check(`${file}: subject`, claims.sub === pk(subject), claims.sub);
  check(`${file}: iat`, claims.iat === 1700000000, claims.iat);
  check(`${file}: jti is the Go jti`, claims.jti === goJti(claims), `${claims.jti} vs ${goJti(claims)}`);
  return claims;
}

const op = load("operator.jwt", "operator", "operator", "operator");
if (op) {
  check("operator: signing keys", same(op.nats.signing_keys, [pk("operator_signing")]));
  check("operator: system account", op.nats.system_account === pk("system_account"));
}

const act = load("activation.jwt", "activation", "exporter", "account");
if (act) {
  check("activation: subject and kind", act.nats.subject === "prices.>" && act.nats.kind === "stream");
}

const acc = load("account.jwt", "account", "operator_signing", "account");
if (acc) {
  const n = acc.nats;
  check("account: name with & and <", acc.name === "switchyard-account R&D <1>", acc.name);
  check(
    "account: limits",
    same(n.limits, {
      subs: 100,
      data: -1,
      payload: 65536,
      imports: 5,
      exports: 5,
      wildcards: true,
      disallow_bearer: true,
      conn: 10,
      leaf: -1,
    }),
    JSON.stringify(n.limits),
  );
  check("account: exports sorted by subject", same(n.exports.map((e) => e.subject), ["help.request", "orders.>"]));
  const help = n.exports[0];
  check(
    "account: service export",
    help.type === "service" && help.token_req === true && help.response_type === "Chunked" &&
      help.response_threshold === 2000000000,
    JSON.stringify(help),
  );
  const imp = n.imports[0];
  check(
    "account: import with activation token",
    imp.account === pk("exporter") && imp.type === "stream" && imp.local_subject === "vendor.prices.>" &&
      decode(imp.token).sub === pk("account"),
    JSON.stringify(imp),
  );
  check("account: plain signing key", n.signing_keys[0] === pk("account_signing"));
  const scope = n.signing_keys[1];
  check(
    "account: scoped signing key",
    scope.kind === "user_scope" && scope.key === pk("account_scoped_signing") && scope.role === "support" &&
      same(scope.template.pub, { allow: ["support.>"] }) && scope.template.subs === -1,
    JSON.stringify(scope),
  );
  check(
    "account: revocations",
    n.revocations[pk("revoked_user")] === 1700000000 && n.revocations["*"] === 1600000000,
  );
  check("account: default permissions", same(n.default_permissions, { pub: { allow: ["public.>"] }, sub: {} }));
  check("account: mappings", same(n.mappings, { canary: [{ subject: "canary.a", weight: 90 }] }));
  check("account: tags", same(n.tags, ["tenant:acme"]));
}

const user = load("user.jwt", "user", "account", "user");
if (user) {
  const n = user.nats;
  check("user: exp", user.exp === 4102444800);
  check("user: pub", same(n.pub, { allow: ["orders.>", "_INBOX.>"], deny: ["orders.secret"] }), JSON.stringify(n.pub));
  check("user: sub", same(n.sub, { allow: ["help.request", "orders.* workers"] }), JSON.stringify(n.sub));
  check("user: resp", same(n.resp, { max: 1, ttl: 60000000000 }), JSON.stringify(n.resp));
  check("user: src", same(n.src, ["192.168.1.0/24"]));
  check("user: times", same(n.times, [{ start: "08:00:00", end: "17:00:00" }]));
  check("user: times_location", n.times_location === "Europe/Berlin");
  check("user: limits", n.subs === 50 && n.data === -1 && n.payload === 65536);
  check("user: not a bearer token", n.bearer_token === undefined);
  check("user: connection types", same(n.allowed_connection_types, ["STANDARD"]));
}

const byKey = load("user_signing_key.jwt", "user", "account_signing", "signing_key_user");
if (byKey) {
  check("signing-key user: issuer_account", byKey.nats.issuer_account === pk("account"));
}

try {
  const creds = await parseCreds(readFileSync(join(ours, "user.creds")));
  const userJwt = readFileSync(join(ours, "user.jwt"), "utf8").trim();
  check("creds: JWT", creds.jwt === userJwt);
  check("creds: seed", creds.key === keys.user.seed);
  check("creds: account", creds.aid === pk("account"));
} catch (e) {
  check("creds: @nats-io/jwt parses it", false, e.message);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
