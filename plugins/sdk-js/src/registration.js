// What a message plugin asks of the broker when it is loaded.

import { config } from "./host.js";

/**
 * The subjects a transform or routing plugin wants to see, and which parts
 * of a message it needs. The broker matches subjects natively and copies
 * headers and payload into the plugin only when asked.
 */
export class Registration {
  constructor(subjects) {
    this.subjects = Array.from(subjects);
    this.wantsHeaders = false;
    this.wantsPayload = false;
  }

  /** Registers for `subjects`, without headers or payload. */
  static subjects(subjects) {
    return new Registration(subjects);
  }

  /** The comma-separated subjects of config `key`, or `fallback` when absent or empty. */
  static fromConfig(key, fallback) {
    const list = config.list(key);
    return new Registration(list && list.length > 0 ? list : fallback);
  }

  withHeaders() {
    this.wantsHeaders = true;
    return this;
  }

  withPayload() {
    this.wantsPayload = true;
    return this;
  }

  toWit() {
    return {
      subjects: this.subjects,
      wantsHeaders: this.wantsHeaders,
      wantsPayload: this.wantsPayload,
    };
  }
}
