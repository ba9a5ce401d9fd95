/*
 * {{name}}: a Switchyard routing policy, from `switchyard plugin new`.
 *
 * Delivers every message on its own subject.
 *
 * Config (the tenant file's `config` table): `subjects`, comma-separated
 * subjects to register (default `{{name}}.>`).
 *
 * Never printf: stdout and stderr trap in the broker. Log with sy_log().
 * What the broker passes is borrowed for the call; what you return is
 * malloc'd and freed by the SDK (see switchyard_plugin.h).
 */
#include <stdlib.h>

#include "switchyard_plugin.h"

void sy_routing_register(sy_registration *r) {
  sy_register_subjects_from_config(r, "subjects", "{{name}}.>");
  /* Set to see headers / to fetch payloads with sy_route_payload(). */
  r->wants_headers = false;
  r->wants_payload = false;
}

sy_decision sy_route(const sy_route_request *req) {
  /*
   * Examples:
   *
   * Send it elsewhere inside the tenant (headers need r->wants_headers):
   *     sy_str priority;
   *     if (sy_header_get(req->headers, "Priority", true, &priority) && sy_str_eq(priority, "high"))
   *       return sy_reroute("{{name}}.priority");
   * Refuse it (a requester gets status 403 with the reason):
   *     if (req->payload_size > 64 * 1024) return sy_deny("too big");
   */
  (void)req;
  return sy_allow();
}
