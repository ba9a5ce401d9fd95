// What the transform and routing worlds' messages share: one message of a
// batch, read as byte ranges (`span`s) of the batch's buffer. Pure (no WIT
// imports), so it runs under `node --test`.

import { Headers } from "./headers.js";
import { decode } from "./utf8.js";

export const EMPTY = new Uint8Array(0);

/** Subject, reply and headers of message `index`, as views into `data`. */
export class MessageView {
  // Underscored, not private: the worlds' subclasses read them.
  _data;
  _ref;

  constructor(data, ref, index) {
    this._data = data;
    this._ref = ref;
    /** The message's position in the current batch. */
    this.index = index;
  }

  _bytes(span) {
    const end = span.offset + span.len;
    // A span outside the buffer would be a broker bug: read it as empty.
    return end <= this._data.length ? this._data.subarray(span.offset, end) : EMPTY;
  }

  get subject() {
    return decode(this._bytes(this._ref.subject));
  }

  /** The reply subject, or `undefined`. */
  get reply() {
    return this._ref.reply == null ? undefined : decode(this._bytes(this._ref.reply));
  }

  /** Empty unless registered `withHeaders()` and present. */
  get headers() {
    return new Headers(this._ref.headers == null ? EMPTY : this._bytes(this._ref.headers));
  }
}
