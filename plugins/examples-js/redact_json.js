// redact_json in JavaScript: the same plugin as plugins/redact_json (Rust).
//
// Replaces the values of configured fields in JSON payloads with a marker,
// keeping key order. Config (all optional): `fields` (dotted paths, default
// `password`; an array on the path applies the rest to each element),
// `subjects` (default `>`), `non_json` (`pass`, `drop` or `reject`),
// `replacement` (default `[REDACTED]`). A payload with nothing to redact
// passes unchanged; with `non_json = "pass"` a payload in which no field
// name occurs (and no backslash) is not even parsed.

import {
  Action,
  Registration,
  config,
  decodeStrict,
  exportTransform,
  log,
} from "@switchyard/plugin/transform";

function loadConfig() {
  const fields = config.list("fields") ?? ["password"];
  const paths = fields.map((f) => {
    const segments = f.split(".");
    if (segments.some((s) => s === "")) throw new Error(`config \`fields\`: bad path \`${f}\``);
    return segments;
  });
  const nonJson = config.get("non_json") ?? "pass";
  if (!["pass", "drop", "reject"].includes(nonJson)) {
    throw new Error(`config \`non_json\`: \`${nonJson}\` is not one of pass, drop, reject`);
  }
  return { paths, nonJson, replacement: config.get("replacement") ?? "[REDACTED]" };
}

// Without a backslash a JSON key is spelled literally, so the last segment
// of some path must occur in the payload for a redaction.
function mayContain(text, paths) {
  return text.includes("\\") || paths.some((p) => text.includes(p[p.length - 1]));
}

function redactPath(value, path, replacement) {
  if (Array.isArray(value)) {
    let changed = false;
    for (const item of value) changed = redactPath(item, path, replacement) || changed;
    return changed;
  }
  if (value !== null && typeof value === "object" && Object.hasOwn(value, path[0])) {
    if (path.length === 1) {
      value[path[0]] = replacement;
      return true;
    }
    return redactPath(value[path[0]], path.slice(1), replacement);
  }
  return false;
}

function notJson(policy) {
  if (policy === "drop") return Action.drop;
  if (policy === "reject") return Action.reject("payload is not JSON");
  return Action.pass;
}

let settings; // once per instance: `register` may have run in another one

export const transformer = exportTransform({
  register() {
    try {
      loadConfig();
    } catch (e) {
      // Refuse to load rather than redact the wrong fields.
      log.error(e.message);
      throw e;
    }
    return Registration.fromConfig("subjects", [">"]).withPayload();
  },

  transform(msg) {
    try {
      settings ??= loadConfig();
    } catch (e) {
      return Action.reject(`redact_json: ${e.message}`);
    }
    const { paths, nonJson, replacement } = settings;
    const text = decodeStrict(msg.payload);
    if (text === undefined) return notJson(nonJson); // not UTF-8, so not JSON
    if (!mayContain(text, paths)) {
      if (nonJson === "pass") return Action.pass;
      try {
        JSON.parse(text);
        return Action.pass;
      } catch {
        return notJson(nonJson);
      }
    }
    let doc;
    try {
      doc = JSON.parse(text);
    } catch {
      return notJson(nonJson);
    }
    let changed = false;
    for (const path of paths) changed = redactPath(doc, path, replacement) || changed;
    return changed ? Action.payload(JSON.stringify(doc)) : Action.pass;
  },
});
