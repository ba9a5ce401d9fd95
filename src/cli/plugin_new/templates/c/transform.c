/*
 * {{name}}: a Switchyard transform plugin, from `switchyard plugin new`.
 *
 * Passes every message unchanged.
 *
 * Config (the tenant file's `config` table): `subjects`, comma-separated
 * subjects to register (default `{{name}}.>`).
 *
 * Never printf: stdout and stderr trap in the broker. Log with sy_log().
 * What the broker passes is borrowed for the call; what you return is
 * malloc'd and freed by the SDK (see switchyard_plugin.h).
 */
#include <stdlib.h>
#include <string.h>

#include "switchyard_plugin.h"

void sy_transform_register(sy_registration *r) {
  sy_register_subjects_from_config(r, "subjects", "{{name}}.>");
  /* Set to see payloads / headers: the broker copies in only what is asked for. */
  r->wants_payload = false;
  r->wants_headers = false;
}

sy_action sy_transform(const sy_message *msg) {
  /*
   * Examples (payloads need r->wants_payload = true above):
   *
   * Replace the payload (the SDK frees it):
   *     uint8_t *out = malloc(msg->payload.len + 1);
   *     if (!out) abort();
   *     memcpy(out, msg->payload.ptr, msg->payload.len);
   *     out[msg->payload.len] = '!';
   *     return sy_modify_payload(out, msg->payload.len + 1);
   * Drop it silently:
   *     if (sy_str_eq(msg->subject, "{{name}}.noise")) return sy_drop();
   * Refuse it (a requester gets status 403 with the reason):
   *     if (msg->payload.len == 0) return sy_reject("empty payload");
   */
  (void)msg;
  return sy_pass();
}
