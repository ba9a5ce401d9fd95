/*
 * content_router in C: the same plugin as plugins/content_router (Rust).
 *
 * Reroutes each message to a subject built from a value it carries: a
 * header (`header`, matched ignoring ASCII case) or a JSON payload field
 * (`field`, a dotted path of at most 16 keys), put into `target` at every
 * `{value}`. `subjects` and `target` are required; `default` is the subject
 * for messages without the value (without it they are delivered
 * unchanged). A value that is not a single subject token is denied, so a
 * publisher cannot steer a message outside the template. Numbers are used
 * as spelled in the payload (the Rust plugin prints them: `1.50` there is
 * `1.5`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard_json.h"
#include "switchyard_plugin.h"

#define MAX_SEGMENTS 16

typedef struct settings {
  char **subjects;
  size_t subject_count;
  char *header; /* or */
  char *field[MAX_SEGMENTS];
  size_t field_count;
  char *target;
  char *fallback;
} settings;

static char *message(const char *fmt, const char *arg) {
  size_t need = strlen(fmt) + (arg ? strlen(arg) : 0) + 1;
  char *out = malloc(need);
  if (!out) abort();
  snprintf(out, need, fmt, arg ? arg : "");
  return out;
}

/* Loads the configuration; on a bad one returns a malloc'd reason. */
static char *load(settings *s) {
  memset(s, 0, sizeof(*s));
  char *subjects = sy_config_get("subjects");
  s->subject_count = sy_split_list(subjects ? subjects : "", &s->subjects);
  free(subjects);
  if (s->subject_count == 0) return message("config `subjects` is required", NULL);
  char *header = sy_config_get("header"), *field = sy_config_get("field");
  char **trimmed;
  size_t n;
  if (header && !field && (n = sy_split_list(header, &trimmed)) == 1) {
    /* sy_split_list trims; a header name has no comma. */
    s->header = strdup(trimmed[0]);
    sy_list_free(trimmed, n);
  } else if (!header && field) {
    n = sy_split_list(field, &trimmed); /* trims the whole value */
    const char *f = n == 1 ? trimmed[0] : "";
    bool bad = n != 1 || f[0] == '.' || f[strlen(f) - 1] == '.' || strstr(f, "..");
    for (const char *a = f; !bad;) {
      const char *dot = strchr(a, '.');
      if (s->field_count == MAX_SEGMENTS) bad = true;
      else s->field[s->field_count++] = strndup(a, dot ? (size_t)(dot - a) : strlen(a));
      if (!dot) break;
      a = dot + 1;
    }
    sy_list_free(trimmed, n);
    if (bad) {
      char *e = message("config `field`: bad path `%s`", field);
      free(field);
      free(header);
      return e;
    }
  } else {
    if (header) n = sy_split_list(header, &trimmed), sy_list_free(trimmed, n);
    free(header);
    free(field);
    return message("config: set exactly one of `header` and `field`", NULL);
  }
  free(header);
  free(field);
  s->target = sy_config_get("target");
  if (!s->target) return message("config `target` is required", NULL);
  if (!strstr(s->target, "{value}")) return message("config `target`: `%s` has no `{value}`", s->target);
  s->fallback = sy_config_get("default");
  return NULL;
}

static settings cfg;
static char *cfg_error;
static bool cfg_loaded;

void sy_routing_register(sy_registration *r) {
  settings s;
  char *error = load(&s);
  if (error) {
    sy_log(SY_ERROR, error);
    abort(); /* refuse to load */
  }
  for (size_t i = 0; i < s.subject_count; i++) sy_register_subject(r, s.subjects[i]);
  if (s.header) r->wants_headers = true;
  else r->wants_payload = true;
}

/* The scalar at the configured path, malloc'd; NULL when absent, not a
 * scalar or not JSON. */
static char *json_field(sy_bytes payload) {
  if (!sy_json_validate(payload)) return NULL;
  sy_json_cursor c = sy_json_cursor_new(payload);
  for (size_t i = 0; i < cfg.field_count; i++) {
    if (!sy_json_enter_object(&c)) return NULL;
    char *key;
    bool found = false;
    while (!found && sy_json_next_member(&c, &key) == 1) {
      found = strcmp(key, cfg.field[i]) == 0;
      free(key);
      if (!found) sy_json_skip(&c);
    }
    if (!found) return NULL;
  }
  char *out = NULL;
  size_t start = sy_json_offset(&c);
  switch (sy_json_peek(&c)) {
  case SY_JSON_STRING:
    sy_json_read_string(&c, &out);
    return out;
  case SY_JSON_NUMBER:
    sy_json_skip(&c);
    return strndup((const char *)payload.ptr + start, (size_t)(c.p - c.start) - start);
  case SY_JSON_TRUE: return strdup("true");
  case SY_JSON_FALSE: return strdup("false");
  default: return NULL;
  }
}

/* One literal subject token: no `.`, `*`, `>`, control characters or
 * (Unicode) whitespace, and valid UTF-8. */
static bool is_token(const char *v) {
  const uint8_t *p = (const uint8_t *)v;
  if (!*p) return false;
  while (*p) {
    uint8_t b = p[0];
    if (b < 0x80) {
      if (b <= 0x20 || b == 0x7f || b == '.' || b == '*' || b == '>') return false;
      p++;
      continue;
    }
    uint32_t cp;
    size_t n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (n == 0) return false;
    cp = b & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((cp >= 0x80 && cp <= 0xa0) || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
        cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000)
      return false;
    p += n;
  }
  return true;
}

/* `target` with every `{value}` replaced. */
static char *fill(const char *target, const char *value) {
  size_t count = 0, vlen = strlen(value);
  for (const char *p = target; (p = strstr(p, "{value}")); p += 7) count++;
  char *out = malloc(strlen(target) + count * vlen + 1), *w = out;
  if (!out) abort();
  for (const char *p = target;;) {
    const char *hit = strstr(p, "{value}");
    size_t n = hit ? (size_t)(hit - p) : strlen(p);
    memcpy(w, p, n);
    w += n;
    if (!hit) break;
    memcpy(w, value, vlen);
    w += vlen;
    p = hit + 7;
  }
  *w = '\0';
  return out;
}

sy_decision sy_route(const sy_route_request *req) {
  if (!cfg_loaded) {
    cfg_error = load(&cfg);
    cfg_loaded = true;
  }
  if (cfg_error) {
    char reason[512];
    snprintf(reason, sizeof reason, "content_router: %s", cfg_error);
    return sy_deny(reason);
  }
  char *found = NULL;
  if (cfg.header) {
    sy_str v;
    if (sy_header_get(req->headers, cfg.header, true, &v)) found = sy_str_dup(v);
  } else if (req->payload_size > 0) {
    /* The payload is fetched only here, and only when there is one. */
    found = json_field(sy_route_payload(req));
  }
  if (!found) return cfg.fallback ? sy_reroute(cfg.fallback) : sy_allow();
  sy_decision d;
  if (is_token(found)) {
    d = sy_reroute_owned(fill(cfg.target, found));
  } else {
    char *reason = message("content_router: `%s` is not a subject token", found);
    d = (sy_decision){.kind = SY_DENY, .text = reason};
  }
  free(found);
  return d;
}
