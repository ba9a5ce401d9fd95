// The routing world's batch, one message at a time, without the WIT
// imports (so it runs under `node --test` on the build machine).
//
// The broker calls `route-batch` with up to 256 messages' metadata laid out
// as byte ranges of one buffer, and the publisher once. `walkRouteBatch`
// hands the plugin's `route` one `RouteRequest` at a time and returns
// verdicts only for messages that are not simply allowed: a policy that
// allows everything answers with an empty list, the cheapest reply.

import { MessageView } from "./message-view.js";
import { decode } from "./utf8.js";

/** One message's metadata, with lazy access to its payload. */
export class RouteRequest extends MessageView {
  #publisher;
  #fetch;
  #payload;

  constructor(data, ref, index, publisher, fetch) {
    super(data, ref, index);
    this.#publisher = publisher;
    this.#fetch = fetch;
  }

  /** Known without fetching the payload. */
  get payloadSize() {
    return this._ref.payloadSize;
  }

  /** Fetched from the broker on first use and cached; empty unless registered `withPayload()`. */
  get payload() {
    if (this.#payload === undefined) this.#payload = this.#fetch(this.index);
    return this.#payload;
  }

  /** The payload decoded as UTF-8. */
  get text() {
    return decode(this.payload);
  }

  /** `{user, clientId (BigInt), clientName}`: the same for every message of a batch. */
  get publisher() {
    return this.#publisher;
  }
}

const ALLOW = Object.freeze({ tag: "allow" });

/** Where a message goes; `Decision.allow` delivers it on its own subject. */
export const Decision = {
  allow: ALLOW,
  /** Discard it; a publisher that asked for a reply gets a 403 with `reason`. */
  deny: (reason) => ({ tag: "deny", val: String(reason) }),
  /** Deliver it on this literal subject instead. */
  reroute: (subject) => ({ tag: "reroute", val: subject }),
  /** Deliver it on its own subject and on each of these (at most 16). */
  fanOut: (subjects) => ({ tag: "fan-out", val: Array.from(subjects) }),
};

/**
 * Runs `decide` on every message of `batch` (`{publisher, data, messages}`),
 * fetching payloads with `fetch(index)`; returns `{index, decision}` for
 * those not allowed.
 */
export function walkRouteBatch(batch, fetch, decide) {
  const verdicts = [];
  const { publisher, data, messages } = batch;
  for (let index = 0; index < messages.length; index++) {
    const decision = decide(new RouteRequest(data, messages[index], index, publisher, fetch));
    if (decision && decision.tag !== "allow") verdicts.push({ index, decision });
  }
  return verdicts;
}
