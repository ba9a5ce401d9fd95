/*
 * SDK for Switchyard plugins in C: WebAssembly components for the
 * `switchyard:plugin@0.2.0` worlds, over the bindings `wit-bindgen c`
 * generated in bindings/<world>/ (scripts/regen-c-bindings.sh), compiled
 * for wasm32-wasi (scripts/build-plugins-c.sh).
 *
 * A plugin defines the functions of its world and nothing else; the SDK
 * (src/switchyard_plugin.c, compiled once per world with -DSY_WORLD_<W>)
 * implements the WIT exports, walks transform and routing batches one
 * message at a time, converts the answers (verdicts only for messages that
 * are not simply passed or allowed), and frees what the broker passed in:
 *
 *   world      the plugin defines
 *   transform  void sy_transform_register(sy_registration *r);
 *              sy_action sy_transform(const sy_message *msg);
 *   routing    void sy_routing_register(sy_registration *r);
 *              sy_decision sy_route(const sy_route_request *req);
 *   auth       bool sy_authenticate(const sy_connect_request *req,
 *                                   sy_grant *grant, char **deny_reason);
 *
 * Strings the broker passes in are views (`sy_str`, not NUL-terminated)
 * valid during the call. Strings and buffers a plugin returns are owned
 * (malloc'd) and freed by the SDK after the broker copied them.
 */
#ifndef SWITCHYARD_PLUGIN_H
#define SWITCHYARD_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A borrowed byte range; `ptr` may be NULL when `len` is 0. */
typedef struct sy_bytes {
  const uint8_t *ptr;
  size_t len;
} sy_bytes;

/* A borrowed UTF-8 string, not NUL-terminated. */
typedef sy_bytes sy_str;

bool sy_str_eq(sy_str s, const char *cstr);
/* Compares ignoring ASCII case. */
bool sy_str_eq_ignore_case(sy_str s, const char *cstr);
/* A malloc'd NUL-terminated copy. */
char *sy_str_dup(sy_str s);

/* ---- host imports: log, config, clock (every world) ---- */

typedef enum sy_level { SY_TRACE, SY_DEBUG, SY_INFO, SY_WARN, SY_ERROR } sy_level;

/* A log line tagged by the broker with tenant and plugin. */
void sy_log(sy_level level, const char *message);

/* This plugin's config value for `key`, malloc'd; NULL when absent. Each
 * call asks the host: read configuration once per instance. */
char *sy_config_get(const char *key);

/* Splits `value` on commas into malloc'd, trimmed, non-empty items;
 * returns the count and sets *items (free with sy_list_free). */
size_t sy_split_list(const char *value, char ***items);
void sy_list_free(char **items, size_t count);

/* Wall-clock milliseconds since the Unix epoch. */
uint64_t sy_now_ms(void);
/* Monotonic nanoseconds from an arbitrary start. */
uint64_t sy_monotonic_ns(void);

/* ---- registration (transform and routing) ---- */

#define SY_MAX_SUBJECTS 64

typedef struct sy_registration {
  char *subjects[SY_MAX_SUBJECTS]; /* owned */
  size_t count;
  bool wants_headers;
  bool wants_payload;
} sy_registration;

/* Adds a subject (copied); false when SY_MAX_SUBJECTS are registered. */
bool sy_register_subject(sy_registration *r, const char *subject);
/* Registers the comma-separated subjects of config `key`, or `fallback`
 * (also comma-separated) when the key is absent or empty. */
void sy_register_subjects_from_config(sy_registration *r, const char *key, const char *fallback);

/* ---- headers: a raw NATS header block, parsed lazily ---- */

/* The first value of `name` (exact, or ignoring ASCII case). Malformed
 * lines are skipped, never fatal. */
bool sy_header_get(sy_bytes block, const char *name, bool ignore_case, sy_str *value);

typedef struct sy_header_iter {
  sy_bytes block;
  size_t pos;
} sy_header_iter;

sy_header_iter sy_headers(sy_bytes block);
/* The next `name: value` pair; false at the end of the block. */
bool sy_header_next(sy_header_iter *it, sy_str *name, sy_str *value);

/* An owned header, for actions. */
typedef struct sy_header {
  char *name;
  char *value;
} sy_header;

/* ---- key-value store (transform and routing only) ---- */

/* The value at `key` (malloc'd into *value, *len); false when absent. */
bool sy_kv_get(const char *key, uint8_t **value, size_t *len);
/* false on a refused write, with the reason malloc'd into *err if not NULL. */
bool sy_kv_set(const char *key, const uint8_t *value, size_t len, const uint64_t *ttl_ms, char **err);
void sy_kv_delete(const char *key);
bool sy_kv_increment(const char *key, int64_t delta, const uint64_t *ttl_ms, int64_t *result, char **err);

/* ---- transform world ---- */

typedef struct sy_message {
  uint32_t index; /* position in the batch, for logging */
  sy_str subject;
  bool has_reply;
  sy_str reply;
  sy_bytes headers; /* empty unless registered wants_headers and present */
  sy_bytes payload; /* empty unless registered wants_payload */
} sy_message;

typedef struct sy_out_message {
  char *subject;
  char *reply; /* NULL: none */
  sy_header *headers;
  size_t header_count;
  uint8_t *payload;
  size_t payload_len;
} sy_out_message;

typedef enum sy_action_kind { SY_PASS, SY_DROP, SY_REJECT, SY_MODIFY, SY_SPLIT } sy_action_kind;

/* A transform's answer. Everything it points to is owned and freed by the
 * SDK. For SY_MODIFY, NULL subject / !set_headers / !set_payload keep the
 * part as published. */
typedef struct sy_action {
  sy_action_kind kind;
  char *reason;
  char *subject;
  bool set_headers;
  sy_header *headers;
  size_t header_count;
  bool set_payload;
  uint8_t *payload;
  size_t payload_len;
  sy_out_message *messages;
  size_t message_count;
} sy_action;

sy_action sy_pass(void);
sy_action sy_drop(void);
/* `reason` is copied. */
sy_action sy_reject(const char *reason);
/* Takes ownership of `payload` (malloc'd). */
sy_action sy_modify_payload(uint8_t *payload, size_t len);

void sy_transform_register(sy_registration *r);
sy_action sy_transform(const sy_message *msg);

/* ---- routing world ---- */

typedef struct sy_route_request {
  uint32_t index; /* position in the batch: sy_route_payload fetches by it */
  sy_str subject;
  bool has_reply;
  sy_str reply;
  sy_bytes headers; /* empty unless registered wants_headers and present */
  uint32_t payload_size;
  sy_str publisher_user;
  uint64_t client_id;
  bool has_client_name;
  sy_str client_name;
} sy_route_request;

/* The payload of `req`'s message, fetched from the broker (by the
 * message's index in the batch) on first use in this sy_route call and
 * cached until it returns; empty unless registered wants_payload. */
sy_bytes sy_route_payload(const sy_route_request *req);

typedef enum sy_decision_kind { SY_ALLOW, SY_DENY, SY_REROUTE, SY_FAN_OUT } sy_decision_kind;

typedef struct sy_decision {
  sy_decision_kind kind;
  char *text; /* deny: the reason; reroute: the subject (owned) */
  char **subjects; /* fan-out (owned, at most 16) */
  size_t subject_count;
} sy_decision;

sy_decision sy_allow(void);
/* The argument is copied. */
sy_decision sy_deny(const char *reason);
sy_decision sy_reroute(const char *subject);
/* Takes ownership of `subject` (malloc'd). */
sy_decision sy_reroute_owned(char *subject);

void sy_routing_register(sy_registration *r);
sy_decision sy_route(const sy_route_request *req);

/* ---- auth world ---- */

typedef struct sy_connect_request {
  const char *user, *password, *token, *jwt, *nkey; /* NULL when absent */
  bool nkey_verified;
  const char *client_name, *client_lang, *client_version; /* NULL when absent */
  const char *remote_addr;
  bool has_tls_peer;
  const char *tls_subject;
} sy_connect_request;

typedef struct sy_permissions {
  char **allow; /* owned; empty allows every subject */
  size_t allow_count;
  char **deny;
  size_t deny_count;
} sy_permissions;

typedef struct sy_grant {
  char *tenant; /* owned */
  char *user;   /* owned */
  sy_permissions publish, subscribe;
  bool has_expiry;
  uint64_t expires_at_ms;
} sy_grant;

/* Fill *grant and return true to let the client in, or set *deny_reason
 * (malloc'd) and return false. */
bool sy_authenticate(const sy_connect_request *req, sy_grant *grant, char **deny_reason);

#ifdef __cplusplus
}
#endif

#endif
