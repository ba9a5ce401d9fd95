/*
 * The SDK's side of the WIT exports, for one world per compilation:
 * -DSY_WORLD_TRANSFORM, -DSY_WORLD_ROUTING or -DSY_WORLD_AUTH, with the
 * bindings `wit-bindgen c --world <w>` generated (bindings/<w>/) on the
 * include path.
 *
 * Ownership follows the canonical ABI as wit-bindgen's C bindings do: what
 * the broker passes to an export belongs to the callee (freed here after
 * the plugin's function returns); what an export returns is freed by the
 * generated post-return function after the broker copied it.
 */
#include "switchyard_plugin.h"

#include <stdlib.h>
#include <string.h>

#if defined(SY_WORLD_TRANSFORM)
#include "transform.h"
#define SY_W(name) transform_##name
#elif defined(SY_WORLD_ROUTING)
#include "routing.h"
#define SY_W(name) routing_##name
#elif defined(SY_WORLD_AUTH)
#include "auth.h"
#define SY_W(name) auth_##name
#else
#error "compile with -DSY_WORLD_TRANSFORM, -DSY_WORLD_ROUTING or -DSY_WORLD_AUTH"
#endif

typedef SY_W(string_t) w_string;

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort(); /* out of the instance's memory: a trap, as in Rust */
  return p;
}

static char *xstrndup(const void *s, size_t n) {
  char *out = xmalloc(n + 1);
  if (n) memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

static w_string borrow(const char *s) {
  w_string w = {(uint8_t *)s, s ? strlen(s) : 0};
  return w;
}

/* Moves a malloc'd C string into a WIT string (no copy). */
static w_string take(char *s) {
  w_string w = {(uint8_t *)s, s ? strlen(s) : 0};
  return w;
}

/* ---- strings ---- */

bool sy_str_eq(sy_str s, const char *cstr) {
  size_t n = strlen(cstr);
  return s.len == n && (n == 0 || memcmp(s.ptr, cstr, n) == 0);
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

bool sy_str_eq_ignore_case(sy_str s, const char *cstr) {
  size_t n = strlen(cstr);
  if (s.len != n) return false;
  for (size_t i = 0; i < n; i++)
    if (lower(s.ptr[i]) != lower((unsigned char)cstr[i])) return false;
  return true;
}

char *sy_str_dup(sy_str s) { return xstrndup(s.ptr, s.len); }

/* ---- host ---- */

void sy_log(sy_level level, const char *message) {
  w_string m = borrow(message);
  switchyard_plugin_host_log((switchyard_plugin_host_level_t)level, &m);
}

char *sy_config_get(const char *key) {
  w_string k = borrow(key), v;
  if (!switchyard_plugin_host_config_get(&k, &v)) return NULL;
  char *out = xstrndup(v.ptr, v.len);
  SY_W(string_free)(&v);
  return out;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t sy_split_list(const char *value, char ***items) {
  size_t cap = 1, count = 0;
  for (const char *p = value; *p; p++) cap += *p == ',';
  char **out = xmalloc(cap * sizeof(char *));
  const char *start = value;
  for (;;) {
    const char *end = strchr(start, ',');
    if (!end) end = start + strlen(start);
    const char *a = start, *b = end;
    while (a < b && is_space(*a)) a++;
    while (b > a && is_space(b[-1])) b--;
    if (b > a) out[count++] = xstrndup(a, (size_t)(b - a));
    if (!*end) break;
    start = end + 1;
  }
  *items = out;
  return count;
}

void sy_list_free(char **items, size_t count) {
  for (size_t i = 0; i < count; i++) free(items[i]);
  free(items);
}

uint64_t sy_now_ms(void) { return switchyard_plugin_host_now_ms(); }
uint64_t sy_monotonic_ns(void) { return switchyard_plugin_host_monotonic_ns(); }

/* ---- headers ---- */

sy_header_iter sy_headers(sy_bytes block) {
  sy_header_iter it = {block, 0};
  return it;
}

/* The next line of the block without its CR LF; false at the empty line
 * that ends the block, or at its end. */
static bool next_line(sy_header_iter *it, sy_bytes *line) {
  if (it->pos >= it->block.len) return false;
  const uint8_t *start = it->block.ptr + it->pos;
  size_t rest = it->block.len - it->pos;
  const uint8_t *nl = memchr(start, '\n', rest);
  size_t n = nl ? (size_t)(nl - start) : rest;
  it->pos += nl ? n + 1 : n;
  if (n > 0 && start[n - 1] == '\r') n--;
  if (n == 0) {
    it->pos = it->block.len;
    return false;
  }
  line->ptr = start;
  line->len = n;
  return true;
}

static sy_bytes trim(sy_bytes s) {
  while (s.len && is_space((char)s.ptr[0])) s.ptr++, s.len--;
  while (s.len && is_space((char)s.ptr[s.len - 1])) s.len--;
  return s;
}

bool sy_header_next(sy_header_iter *it, sy_str *name, sy_str *value) {
  sy_bytes line;
  if (it->pos == 0 && !next_line(it, &line)) return false; /* the NATS/1.0 line */
  while (next_line(it, &line)) {
    const uint8_t *colon = memchr(line.ptr, ':', line.len);
    if (!colon) continue;
    sy_bytes n = {line.ptr, (size_t)(colon - line.ptr)};
    sy_bytes v = {colon + 1, line.len - n.len - 1};
    n = trim(n);
    if (n.len == 0) continue;
    *name = n;
    *value = trim(v);
    return true;
  }
  return false;
}

bool sy_header_get(sy_bytes block, const char *name, bool ignore_case, sy_str *value) {
  sy_header_iter it = sy_headers(block);
  sy_str n, v;
  while (sy_header_next(&it, &n, &v)) {
    if (ignore_case ? sy_str_eq_ignore_case(n, name) : sy_str_eq(n, name)) {
      *value = v;
      return true;
    }
  }
  return false;
}

/* ---- registration ---- */

bool sy_register_subject(sy_registration *r, const char *subject) {
  if (r->count >= SY_MAX_SUBJECTS) return false;
  r->subjects[r->count++] = xstrndup(subject, strlen(subject));
  return true;
}

void sy_register_subjects_from_config(sy_registration *r, const char *key, const char *fallback) {
  char *value = sy_config_get(key);
  char **items;
  size_t count = sy_split_list(value ? value : "", &items);
  if (count == 0) {
    sy_list_free(items, count);
    count = sy_split_list(fallback, &items);
  }
  for (size_t i = 0; i < count; i++) sy_register_subject(r, items[i]);
  sy_list_free(items, count);
  free(value);
}

#if !defined(SY_WORLD_AUTH)
/* Moves a registration into the WIT record (the strings change owner). */
static void registration_to_wit(sy_registration *r, switchyard_plugin_types_registration_t *ret) {
  ret->subjects.len = r->count;
  ret->subjects.ptr = xmalloc(r->count * sizeof(w_string));
  for (size_t i = 0; i < r->count; i++) ret->subjects.ptr[i] = take(r->subjects[i]);
  ret->wants_headers = r->wants_headers;
  ret->wants_payload = r->wants_payload;
}

/* ---- batches: messages as byte ranges of one buffer ---- */

/* A span outside the buffer would be a broker bug: it reads as empty. */
static sy_bytes span(const SY_W(list_u8_t) *data, switchyard_plugin_types_span_t s) {
  sy_bytes b = {NULL, 0};
  if ((uint64_t)s.offset + s.len <= data->len) {
    b.ptr = data->ptr + s.offset;
    b.len = s.len;
  }
  return b;
}

/* ---- kv ---- */

bool sy_kv_get(const char *key, uint8_t **value, size_t *len) {
  w_string k = borrow(key);
  SY_W(list_u8_t) v;
  if (!switchyard_plugin_kv_get(&k, &v)) return false;
  *value = v.ptr; /* malloc'd by the canonical ABI's realloc: ours now */
  *len = v.len;
  return true;
}

static bool kv_error(w_string *e, char **err) {
  if (err) *err = xstrndup(e->ptr, e->len);
  SY_W(string_free)(e);
  return false;
}

bool sy_kv_set(const char *key, const uint8_t *value, size_t len, const uint64_t *ttl_ms, char **err) {
  w_string k = borrow(key), e;
  SY_W(list_u8_t) v = {(uint8_t *)value, len};
  uint64_t ttl = ttl_ms ? *ttl_ms : 0;
  if (switchyard_plugin_kv_set(&k, &v, ttl_ms ? &ttl : NULL, &e)) return true;
  return kv_error(&e, err);
}

void sy_kv_delete(const char *key) {
  w_string k = borrow(key);
  switchyard_plugin_kv_delete(&k);
}

bool sy_kv_increment(const char *key, int64_t delta, const uint64_t *ttl_ms, int64_t *result, char **err) {
  w_string k = borrow(key), e;
  uint64_t ttl = ttl_ms ? *ttl_ms : 0;
  if (switchyard_plugin_kv_increment(&k, delta, ttl_ms ? &ttl : NULL, result, &e)) return true;
  return kv_error(&e, err);
}
#endif

/* ---- transform ---- */

#if defined(SY_WORLD_TRANSFORM)
sy_action sy_pass(void) { return (sy_action){.kind = SY_PASS}; }
sy_action sy_drop(void) { return (sy_action){.kind = SY_DROP}; }
sy_action sy_reject(const char *reason) {
  return (sy_action){.kind = SY_REJECT, .reason = xstrndup(reason, strlen(reason))};
}
sy_action sy_modify_payload(uint8_t *payload, size_t len) {
  return (sy_action){.kind = SY_MODIFY, .set_payload = true, .payload = payload, .payload_len = len};
}

void exports_switchyard_plugin_transformer_register(exports_switchyard_plugin_transformer_registration_t *ret) {
  sy_registration r = {0};
  sy_transform_register(&r);
  registration_to_wit(&r, ret);
}

static exports_switchyard_plugin_transformer_list_header_t headers_to_wit(sy_header *h, size_t n) {
  exports_switchyard_plugin_transformer_list_header_t out = {xmalloc(n * sizeof(*out.ptr)), n};
  for (size_t i = 0; i < n; i++) {
    out.ptr[i].name = take(h[i].name);
    out.ptr[i].value = take(h[i].value);
  }
  free(h);
  return out;
}

static exports_switchyard_plugin_transformer_action_t action_to_wit(sy_action *a) {
  exports_switchyard_plugin_transformer_action_t w;
  memset(&w, 0, sizeof(w));
  switch (a->kind) {
  case SY_DROP:
    w.tag = EXPORTS_SWITCHYARD_PLUGIN_TRANSFORMER_ACTION_DROP;
    break;
  case SY_REJECT:
    w.tag = EXPORTS_SWITCHYARD_PLUGIN_TRANSFORMER_ACTION_REJECT;
    w.val.reject = take(a->reason ? a->reason : xstrndup("", 0));
    break;
  case SY_MODIFY: {
    exports_switchyard_plugin_transformer_edit_t *e = &w.val.modify;
    w.tag = EXPORTS_SWITCHYARD_PLUGIN_TRANSFORMER_ACTION_MODIFY;
    e->subject.is_some = a->subject != NULL;
    if (a->subject) e->subject.val = take(a->subject);
    e->headers.is_some = a->set_headers;
    if (a->set_headers) e->headers.val = headers_to_wit(a->headers, a->header_count);
    e->payload.is_some = a->set_payload;
    if (a->set_payload) {
      e->payload.val.ptr = a->payload ? a->payload : xmalloc(1);
      e->payload.val.len = a->payload_len;
    }
    break;
  }
  case SY_SPLIT: {
    w.tag = EXPORTS_SWITCHYARD_PLUGIN_TRANSFORMER_ACTION_SPLIT;
    w.val.split.len = a->message_count;
    w.val.split.ptr = xmalloc(a->message_count * sizeof(*w.val.split.ptr));
    for (size_t i = 0; i < a->message_count; i++) {
      sy_out_message *m = &a->messages[i];
      exports_switchyard_plugin_transformer_message_t *o = &w.val.split.ptr[i];
      o->subject = take(m->subject);
      o->reply.is_some = m->reply != NULL;
      if (m->reply) o->reply.val = take(m->reply);
      o->headers = headers_to_wit(m->headers, m->header_count);
      o->payload.ptr = m->payload ? m->payload : xmalloc(1);
      o->payload.len = m->payload_len;
    }
    free(a->messages);
    break;
  }
  default:
    w.tag = EXPORTS_SWITCHYARD_PLUGIN_TRANSFORMER_ACTION_PASS;
  }
  return w;
}

void exports_switchyard_plugin_transformer_transform_batch(
    exports_switchyard_plugin_transformer_batch_t *batch,
    exports_switchyard_plugin_transformer_list_verdict_t *ret) {
  size_t n = batch->messages.len, count = 0;
  exports_switchyard_plugin_transformer_verdict_t *verdicts = NULL;
  for (size_t i = 0; i < n; i++) {
    exports_switchyard_plugin_transformer_message_ref_t *r = &batch->messages.ptr[i];
    sy_message msg = {.index = (uint32_t)i};
    msg.subject = span(&batch->data, r->subject);
    msg.has_reply = r->reply.is_some;
    if (r->reply.is_some) msg.reply = span(&batch->data, r->reply.val);
    if (r->headers.is_some) msg.headers = span(&batch->data, r->headers.val);
    msg.payload = span(&batch->data, r->payload);
    sy_action a = sy_transform(&msg);
    if (a.kind == SY_PASS) continue;
    if (!verdicts) verdicts = xmalloc(n * sizeof(*verdicts));
    verdicts[count].index = (uint32_t)i;
    verdicts[count].action = action_to_wit(&a);
    count++;
  }
  ret->ptr = verdicts;
  ret->len = count;
  exports_switchyard_plugin_transformer_batch_free(batch);
  /* wit-bindgen c's *_batch_free leaves the record's `data` (list<u8>)
   * alone: freed here, or every call leaks its batch's bytes until the
   * instance reaches its memory cap and traps. */
  transform_list_u8_free(&batch->data);
}
#endif

/* ---- routing ---- */

#if defined(SY_WORLD_ROUTING)
typedef exports_switchyard_plugin_router_batch_t w_route_batch;
typedef exports_switchyard_plugin_router_decision_t w_decision;

/* The payload of the message being decided, fetched by its index on the
 * plugin's first sy_route_payload and freed once sy_route returns. */
static routing_list_u8_t route_payload;
static bool route_payload_fetched;

sy_bytes sy_route_payload(const sy_route_request *req) {
  if (!route_payload_fetched) {
    switchyard_plugin_message_payload_payload(req->index, &route_payload);
    route_payload_fetched = true;
  }
  sy_bytes b = {route_payload.ptr, route_payload.len};
  return b;
}

static void route_payload_release(void) {
  if (route_payload_fetched) {
    routing_list_u8_free(&route_payload);
    route_payload_fetched = false;
  }
}

sy_decision sy_allow(void) { return (sy_decision){.kind = SY_ALLOW}; }
sy_decision sy_deny(const char *reason) {
  return (sy_decision){.kind = SY_DENY, .text = xstrndup(reason, strlen(reason))};
}
sy_decision sy_reroute(const char *subject) {
  return (sy_decision){.kind = SY_REROUTE, .text = xstrndup(subject, strlen(subject))};
}
sy_decision sy_reroute_owned(char *subject) { return (sy_decision){.kind = SY_REROUTE, .text = subject}; }

void exports_switchyard_plugin_router_register(exports_switchyard_plugin_router_registration_t *ret) {
  sy_registration r = {0};
  sy_routing_register(&r);
  registration_to_wit(&r, ret);
}

static sy_str view(const routing_string_t *s) {
  sy_str v = {s->ptr, s->len};
  return v;
}

/* Moves a decision other than allow into its WIT variant. */
static void decision_to_wit(sy_decision *d, w_decision *ret) {
  memset(ret, 0, sizeof(*ret));
  switch (d->kind) {
  case SY_DENY:
    ret->tag = EXPORTS_SWITCHYARD_PLUGIN_ROUTER_DECISION_DENY;
    ret->val.deny = take(d->text ? d->text : xstrndup("", 0));
    break;
  case SY_REROUTE:
    ret->tag = EXPORTS_SWITCHYARD_PLUGIN_ROUTER_DECISION_REROUTE;
    ret->val.reroute = take(d->text ? d->text : xstrndup("", 0));
    break;
  case SY_FAN_OUT:
    ret->tag = EXPORTS_SWITCHYARD_PLUGIN_ROUTER_DECISION_FAN_OUT;
    ret->val.fan_out.len = d->subject_count;
    ret->val.fan_out.ptr = xmalloc(d->subject_count * sizeof(routing_string_t));
    for (size_t i = 0; i < d->subject_count; i++) ret->val.fan_out.ptr[i] = take(d->subjects[i]);
    free(d->subjects);
    free(d->text);
    break;
  default:
    ret->tag = EXPORTS_SWITCHYARD_PLUGIN_ROUTER_DECISION_ALLOW;
    free(d->text);
  }
}

/* One sy_route call per message, in publish order; verdicts only for the
 * messages not simply allowed, so a policy that allows everything answers
 * with an empty list. */
void exports_switchyard_plugin_router_route_batch(w_route_batch *batch,
                                                  exports_switchyard_plugin_router_list_route_verdict_t *ret) {
  sy_route_request req = {0};
  req.publisher_user = view(&batch->publisher.user);
  req.client_id = batch->publisher.client_id;
  req.has_client_name = batch->publisher.client_name.is_some;
  if (req.has_client_name) req.client_name = view(&batch->publisher.client_name.val);

  size_t n = batch->messages.len, count = 0;
  exports_switchyard_plugin_router_route_verdict_t *verdicts = NULL;
  for (size_t i = 0; i < n; i++) {
    exports_switchyard_plugin_router_route_ref_t *r = &batch->messages.ptr[i];
    req.index = (uint32_t)i;
    req.subject = span(&batch->data, r->subject);
    req.has_reply = r->reply.is_some;
    req.reply = r->reply.is_some ? span(&batch->data, r->reply.val) : (sy_str){NULL, 0};
    req.headers = r->headers.is_some ? span(&batch->data, r->headers.val) : (sy_bytes){NULL, 0};
    req.payload_size = r->payload_size;
    sy_decision d = sy_route(&req);
    route_payload_release();
    if (d.kind == SY_ALLOW) {
      free(d.text);
      continue;
    }
    if (!verdicts) verdicts = xmalloc(n * sizeof(*verdicts));
    verdicts[count].index = (uint32_t)i;
    decision_to_wit(&d, &verdicts[count].decision);
    count++;
  }
  ret->ptr = verdicts;
  ret->len = count;
  exports_switchyard_plugin_router_batch_free(batch);
  routing_list_u8_free(&batch->data); /* not freed by *_batch_free, as above */
}
#endif

/* ---- auth ---- */

#if defined(SY_WORLD_AUTH)
static char *opt(const auth_option_string_t *o) {
  return o->is_some ? xstrndup(o->val.ptr, o->val.len) : NULL;
}

static auth_list_string_t strings_to_wit(char **items, size_t n) {
  auth_list_string_t out = {xmalloc(n * sizeof(auth_string_t)), n};
  for (size_t i = 0; i < n; i++) out.ptr[i] = take(items[i]);
  free(items);
  return out;
}

bool exports_switchyard_plugin_authenticator_authenticate(
    exports_switchyard_plugin_authenticator_connect_request_t *request,
    exports_switchyard_plugin_authenticator_grant_t *ret, auth_string_t *err) {
  char *owned[10] = {
      opt(&request->user),        opt(&request->password),    opt(&request->token),
      opt(&request->jwt),         opt(&request->nkey),        opt(&request->client_name),
      opt(&request->client_lang), opt(&request->client_version),
      xstrndup(request->remote_addr.ptr, request->remote_addr.len),
      request->tls_peer.is_some
          ? xstrndup(request->tls_peer.val.subject.ptr, request->tls_peer.val.subject.len)
          : NULL,
  };
  sy_connect_request req = {
      .user = owned[0], .password = owned[1], .token = owned[2], .jwt = owned[3], .nkey = owned[4],
      .nkey_verified = request->nkey_verified, .client_name = owned[5], .client_lang = owned[6],
      .client_version = owned[7], .remote_addr = owned[8], .has_tls_peer = request->tls_peer.is_some,
      .tls_subject = owned[9],
  };
  sy_grant g = {0};
  char *reason = NULL;
  bool ok = sy_authenticate(&req, &g, &reason);
  for (size_t i = 0; i < 10; i++) free(owned[i]);
  exports_switchyard_plugin_authenticator_connect_request_free(request);
  if (!ok) {
    *err = take(reason ? reason : xstrndup("denied", 6));
    return false;
  }
  ret->tenant = take(g.tenant ? g.tenant : xstrndup("", 0));
  ret->user = take(g.user ? g.user : xstrndup("", 0));
  ret->publish.allow = strings_to_wit(g.publish.allow, g.publish.allow_count);
  ret->publish.deny = strings_to_wit(g.publish.deny, g.publish.deny_count);
  ret->subscribe.allow = strings_to_wit(g.subscribe.allow, g.subscribe.allow_count);
  ret->subscribe.deny = strings_to_wit(g.subscribe.deny, g.subscribe.deny_count);
  ret->expires_at_ms.is_some = g.has_expiry;
  ret->expires_at_ms.val = g.expires_at_ms;
  return true;
}
#endif
