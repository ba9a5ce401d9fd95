/*
 * token_auth in C: the auth example of docs/plugins.md, "An auth plugin".
 *
 * Lets in clients whose token is listed in the config as
 * `token.<token> = "<user>"`, bound to the tenant of config `tenant`,
 * publishing only under `users.<user>.>` and subscribing anywhere. (A real
 * plugin stores hashes, as api_key_auth does.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard_plugin.h"

static char *format(const char *fmt, const char *arg) {
  size_t need = strlen(fmt) + strlen(arg) + 1;
  char *out = malloc(need);
  if (!out) abort();
  snprintf(out, need, fmt, arg);
  return out;
}

bool sy_authenticate(const sy_connect_request *req, sy_grant *grant, char **deny_reason) {
  if (!req->token || !*req->token) {
    *deny_reason = strdup("no token");
    return false;
  }
  char *key = format("token.%s", req->token);
  char *user = sy_config_get(key);
  free(key);
  if (!user) {
    *deny_reason = strdup("unknown token");
    return false;
  }
  char *tenant = sy_config_get("tenant");
  if (!tenant) {
    free(user);
    *deny_reason = strdup("config `tenant` is required");
    return false;
  }
  grant->tenant = tenant;
  grant->user = user;
  grant->publish.allow = malloc(sizeof(char *));
  if (!grant->publish.allow) abort();
  grant->publish.allow[0] = format("users.%s.>", user);
  grant->publish.allow_count = 1;
  return true;
}
