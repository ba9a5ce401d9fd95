// content_router in TypeScript: the same plugin as plugins/content_router
// (Rust). jco bundles TypeScript before componentizing (types are stripped,
// not checked).
//
// Reroutes each message to a subject built from a value it carries: a
// header (`header`, matched ignoring ASCII case) or a JSON payload field
// (`field`, a dotted path), put into `target` at `{value}`. `subjects` and
// `target` are required; `default` is the subject for messages without the
// value (without it they are delivered unchanged). A value that is not a
// single subject token is denied, so a publisher cannot steer a message
// outside the template.

import {
  Decision,
  Registration,
  RouteRequest,
  config,
  decodeStrict,
  exportRouting,
  log,
} from "@switchyard/plugin/routing";

type Source = { kind: "header"; name: string } | { kind: "field"; path: string[] };

interface Settings {
  subjects: string[];
  source: Source;
  target: string;
  fallback: string | undefined;
}

function loadSettings(): Settings {
  const subjects: string[] = config.list("subjects") ?? [];
  if (subjects.length === 0) throw new Error("config `subjects` is required");
  const header: string | undefined = config.get("header");
  const field: string | undefined = config.get("field");
  let source: Source;
  if (header !== undefined && field === undefined && header.trim() !== "") {
    source = { kind: "header", name: header.trim() };
  } else if (header === undefined && field !== undefined) {
    const path = field.trim().split(".");
    if (path.some((s) => s === "")) throw new Error(`config \`field\`: bad path \`${field}\``);
    source = { kind: "field", path };
  } else {
    throw new Error("config: set exactly one of `header` and `field`");
  }
  const target: string | undefined = config.get("target");
  if (target === undefined) throw new Error("config `target` is required");
  if (!target.includes("{value}")) throw new Error(`config \`target\`: \`${target}\` has no \`{value}\``);
  return { subjects, source, target, fallback: config.get("default") };
}

/** The scalar at `path` as text; `undefined` when absent, not a scalar or not JSON. */
function jsonField(payload: Uint8Array, path: string[]): string | undefined {
  const text = decodeStrict(payload);
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const key of path) {
    if (v === null || typeof v !== "object" || Array.isArray(v) || !Object.hasOwn(v, key)) {
      return undefined;
    }
    v = (v as Record<string, unknown>)[key];
  }
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "number") return String(v);
  return undefined;
}

/** One literal subject token: no separators, wildcards, whitespace or control characters. */
function isToken(v: string): boolean {
  return v !== "" && !/[.*>\s\u0000-\u001f\u007f-\u009f]/u.test(v);
}

let settings: Settings | undefined; // once per instance

export const router = exportRouting({
  register() {
    let s: Settings;
    try {
      s = loadSettings();
    } catch (e) {
      log.error((e as Error).message);
      throw e;
    }
    const r = Registration.subjects(s.subjects);
    return s.source.kind === "header" ? r.withHeaders() : r.withPayload();
  },

  route(req: RouteRequest) {
    try {
      settings ??= loadSettings();
    } catch (e) {
      return Decision.deny(`content_router: ${(e as Error).message}`);
    }
    const { source, target, fallback } = settings;
    let found: string | undefined;
    if (source.kind === "header") {
      found = req.headers.getIgnoreCase(source.name);
    } else if (req.payloadSize > 0) {
      // The payload is fetched only here, and only when there is one.
      found = jsonField(req.payload, source.path);
    }
    if (found === undefined) return fallback === undefined ? Decision.allow : Decision.reroute(fallback);
    if (!isToken(found)) return Decision.deny(`content_router: \`${found}\` is not a subject token`);
    return Decision.reroute(target.replaceAll("{value}", found));
  },
});
