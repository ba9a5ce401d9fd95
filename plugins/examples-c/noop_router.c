/*
 * noop_router in C: the same plugin as plugins/noop_router (Rust), the
 * baseline for comparing per-message routing costs across languages.
 *
 * Allows every message without looking at it. Config: `subjects`
 * (comma-separated, default `>`); `headers` (`true` to have the broker pass
 * the header block, default `false`).
 */
#include <stdlib.h>
#include <string.h>

#include "switchyard_plugin.h"

void sy_routing_register(sy_registration *r) {
  sy_register_subjects_from_config(r, "subjects", ">");
  char *v = sy_config_get("headers");
  r->wants_headers = v && strcmp(v, "true") == 0;
  free(v);
}

sy_decision sy_route(const sy_route_request *req) { return sy_allow(); }
