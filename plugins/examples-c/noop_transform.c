/*
 * noop_transform in C: the same plugin as plugins/noop_transform (Rust),
 * the baseline for comparing per-message costs across languages.
 *
 * Passes every message and returns no verdicts. Config: `subjects`
 * (comma-separated, default `>`); `headers` and `payload` (`true` to have
 * the broker copy them in, default `false`).
 */
#include <stdlib.h>
#include <string.h>

#include "switchyard_plugin.h"

static bool config_true(const char *key) {
  char *v = sy_config_get(key);
  bool on = v && strcmp(v, "true") == 0;
  free(v);
  return on;
}

void sy_transform_register(sy_registration *r) {
  sy_register_subjects_from_config(r, "subjects", ">");
  r->wants_headers = config_true("headers");
  r->wants_payload = config_true("payload");
}

sy_action sy_transform(const sy_message *msg) { return sy_pass(); }
