// The routing world: decide where each message goes inside the tenant.
//
// The broker batches routing calls (`route-batch`); `exportRouting` walks
// the batch (./route-batch.js) and calls the plugin's `route` once per
// message, in publish order. A call carries metadata only; a message's
// payload stays in the broker until the plugin reads `req.payload`, which
// fetches it by the message's index once and keeps it.

import { payload as fetchPayload } from "switchyard:plugin/message-payload@0.2.0";
import { walkRouteBatch } from "./route-batch.js";
import { reported } from "./host.js";

export { Registration } from "./registration.js";
export { log, config, clock } from "./host.js";
export { Headers } from "./headers.js";
export { decode, decodeStrict, encode } from "./utf8.js";
export { Decision, RouteRequest } from "./route-batch.js";

/**
 * The component's `router` export for `plugin`, an object with
 * `register()` and `route(req)`. Export it under that name:
 *
 *     export const router = exportRouting(myPolicy);
 */
export function exportRouting(plugin) {
  return {
    register: () => reported(() => plugin.register().toWit()),
    routeBatch: (batch) =>
      reported(() => walkRouteBatch(batch, fetchPayload, (req) => plugin.route(req))),
  };
}
