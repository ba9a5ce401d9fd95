// The transform world, one message at a time.
//
// The broker calls `transform-batch` with up to 256 messages laid out as
// byte ranges of one buffer. `exportTransform` walks that batch, hands the
// plugin's `transform` one `Message` at a time, and returns verdicts only
// for messages that do not simply pass: a plugin that passes everything
// answers with an empty list, the cheapest reply.

import { EMPTY, MessageView } from "./message-view.js";
import { decode, toBytes } from "./utf8.js";
import { reported } from "./host.js";

export { Registration } from "./registration.js";
export { log, config, clock } from "./host.js";
export { Headers } from "./headers.js";
export { decode, decodeStrict, encode } from "./utf8.js";

/** One published message, as views into the batch buffer. */
export class Message extends MessageView {
  /** The payload bytes; empty unless registered `withPayload()`. */
  get payload() {
    return this._bytes(this._ref.payload);
  }

  /** The payload decoded as UTF-8. */
  get text() {
    return decode(this.payload);
  }
}

const PASS = Object.freeze({ tag: "pass" });
const DROP = Object.freeze({ tag: "drop" });

function witHeaders(headers) {
  return headers.map(({ name, value }) => ({ name, value }));
}

/** What happens to one message; `Action.pass` is the cheap default. */
export const Action = {
  pass: PASS,
  drop: DROP,
  /** Discard it; a publisher that asked for a reply gets a 403 with `reason`. */
  reject: (reason) => ({ tag: "reject", val: String(reason) }),
  /**
   * Deliver it with the given parts replaced (`subject`, `headers` as
   * `{name, value}` objects, `payload` as bytes or a string); parts left out
   * are kept. `headers: []` removes every header.
   */
  modify: ({ subject, headers, payload } = {}) => ({
    tag: "modify",
    val: {
      subject,
      headers: headers === undefined ? undefined : witHeaders(headers),
      payload: payload === undefined ? undefined : toBytes(payload),
    },
  }),
  /** Replace only the payload (bytes or a string). */
  payload: (payload) => Action.modify({ payload }),
  /** Replace only the subject. */
  subject: (subject) => Action.modify({ subject }),
  /** Deliver these `{subject, payload, reply?, headers?}` instead (at most 16). */
  split: (messages) => ({
    tag: "split",
    val: messages.map((m) => ({
      subject: m.subject,
      reply: m.reply,
      headers: witHeaders(m.headers ?? []),
      payload: toBytes(m.payload ?? EMPTY),
    })),
  }),
};

/** Runs `decide` on every message; `[index, action]` for those that do not pass. */
export function walkBatch(batch, decide) {
  const verdicts = [];
  const { data, messages } = batch;
  for (let index = 0; index < messages.length; index++) {
    const action = decide(new Message(data, messages[index], index));
    if (action && action.tag !== "pass") verdicts.push({ index, action });
  }
  return verdicts;
}

/**
 * The component's `transformer` export for `plugin`, an object with
 * `register()` and `transform(msg)`. Export it under that name:
 *
 *     export const transformer = exportTransform(myPlugin);
 */
export function exportTransform(plugin) {
  return {
    register: () => reported(() => plugin.register().toWit()),
    transformBatch: (batch) => reported(() => walkBatch(batch, (msg) => plugin.transform(msg))),
  };
}
