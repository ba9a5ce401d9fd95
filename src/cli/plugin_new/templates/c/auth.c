/*
 * {{name}}: a Switchyard auth plugin, from `switchyard plugin new`.
 *
 * Lets in a client that presents the configured token, as user `user` of
 * tenant `tenant`, with every subject allowed; refuses anyone else. A real
 * plugin stores hashes of its secrets, not the secrets (see
 * plugins/api_key_auth in the Switchyard repository).
 *
 * Config (the server file's `[[auth_plugins]]` `config` table): `token`
 * and `tenant` (required), `user` (default `{{name}}`).
 *
 * Never printf: stdout and stderr trap in the broker. Strings you put in
 * the grant are malloc'd and freed by the SDK (see switchyard_plugin.h).
 */
#include <stdlib.h>
#include <string.h>

#include "switchyard_plugin.h"

bool sy_authenticate(const sy_connect_request *req, sy_grant *grant, char **deny_reason) {
  char *expected = sy_config_get("token");
  char *tenant = sy_config_get("tenant");
  const char *refusal = NULL;
  /* The reason goes to the broker's log; the client only ever sees
   * 'Authorization Violation'. */
  if (!expected || !tenant) refusal = "config `token` and `tenant` are required";
  else if (!req->token) refusal = "no token";
  else if (strcmp(req->token, expected) != 0) refusal = "wrong token";
  free(expected);
  if (refusal) {
    free(tenant);
    *deny_reason = strdup(refusal);
    return false;
  }
  char *user = sy_config_get("user");
  grant->tenant = tenant;
  grant->user = user ? user : strdup("{{name}}");
  /* Every subject is allowed (empty lists). Narrow it, e.g.:
   *     grant->publish.allow = malloc(sizeof(char *));
   *     grant->publish.allow[0] = strdup("{{name}}.>");
   *     grant->publish.allow_count = 1;
   */
  return true;
}
