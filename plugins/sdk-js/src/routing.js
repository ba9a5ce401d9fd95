// The routing world: decide where each message goes inside the tenant.
//
// A routing call carries metadata only; the payload stays in the broker
// until the plugin reads `req.payload`, which fetches it once and keeps it
// for the rest of the call.

import { payload as fetchPayload } from "switchyard:plugin/message-payload@0.1.0";
import { Headers } from "./headers.js";
import { decode } from "./utf8.js";

export { Registration } from "./registration.js";
export { log, config, clock } from "./host.js";
export { Headers } from "./headers.js";
export { decode, decodeStrict, encode } from "./utf8.js";

/** One message's metadata, with lazy access to its payload. */
export class RouteRequest {
  #inner;
  #payload;

  constructor(inner) {
    this.#inner = inner;
  }

  get subject() {
    return this.#inner.subject;
  }

  get reply() {
    return this.#inner.reply ?? undefined;
  }

  /** Empty unless registered `withHeaders()` and present. */
  get headers() {
    return new Headers(this.#inner.headers);
  }

  /** Known without fetching the payload. */
  get payloadSize() {
    return this.#inner.payloadSize;
  }

  /** Fetched on first use and cached; empty unless registered `withPayload()`. */
  get payload() {
    if (this.#payload === undefined) this.#payload = fetchPayload();
    return this.#payload;
  }

  /** The payload decoded as UTF-8. */
  get text() {
    return decode(this.payload);
  }

  /** `{user, clientId (BigInt), clientName}`. */
  get publisher() {
    return this.#inner.publisher;
  }
}

/** Where a message goes; `Decision.allow` delivers it on its own subject. */
export const Decision = {
  allow: Object.freeze({ tag: "allow" }),
  /** Discard it; a publisher that asked for a reply gets a 403 with `reason`. */
  deny: (reason) => ({ tag: "deny", val: String(reason) }),
  /** Deliver it on this literal subject instead. */
  reroute: (subject) => ({ tag: "reroute", val: subject }),
  /** Deliver it on its own subject and on each of these (at most 16). */
  fanOut: (subjects) => ({ tag: "fan-out", val: Array.from(subjects) }),
};

/**
 * The component's `router` export for `plugin`, an object with
 * `register()` and `route(req)`. Export it under that name:
 *
 *     export const router = exportRouting(myPolicy);
 */
export function exportRouting(plugin) {
  return {
    register: () => plugin.register().toWit(),
    route: (request) => plugin.route(new RouteRequest(request)) ?? Decision.allow,
  };
}
