/*
 * redact_json in C: the same plugin as plugins/redact_json (Rust).
 *
 * Replaces the values of configured fields in JSON payloads with a marker.
 * Config (all optional): `fields` (dotted paths, default `password`; an
 * array on the path applies the rest to each element), `subjects` (default
 * `>`), `non_json` (`pass`, `drop` or `reject`), `replacement` (default
 * `[REDACTED]`). A payload with nothing to redact passes unchanged; with
 * `non_json = "pass"` a payload in which no field name occurs (and no
 * backslash) is not even parsed.
 *
 * Unlike the Rust plugin, which re-encodes the document compactly, this one
 * replaces the values in place: the rest of the payload keeps its bytes
 * (whitespace, key spelling, number formats). Limits: 32 paths of at most
 * 16 segments each; more is a configuration error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard_json.h"
#include "switchyard_plugin.h"

#define MAX_PATHS 32
#define MAX_SEGMENTS 16

enum non_json { NON_JSON_PASS, NON_JSON_DROP, NON_JSON_REJECT };

typedef struct path {
  char **segments;
  size_t count;
} path;

typedef struct settings {
  path paths[MAX_PATHS];
  size_t count;
  enum non_json non_json;
  char *replacement;
} settings;

/* Loads the configuration; on a bad one returns a malloc'd reason. */
static char *load(settings *s) {
  memset(s, 0, sizeof(*s));
  char *fields = sy_config_get("fields");
  char **items;
  size_t n = sy_split_list(fields ? fields : "password", &items);
  free(fields);
  char *error = NULL;
  if (n > MAX_PATHS) error = strdup("config `fields`: more than 32 paths");
  for (size_t i = 0; !error && i < n; i++) {
    path *p = &s->paths[s->count];
    /* `a..b`, `.a` and `a.` have an empty segment: refused, as in Rust. */
    const char *f = items[i];
    bool bad = f[0] == '.' || f[strlen(f) - 1] == '.' || strstr(f, "..");
    p->segments = calloc(MAX_SEGMENTS, sizeof(char *));
    p->count = 0;
    for (const char *a = f; !bad;) {
      const char *dot = strchr(a, '.');
      size_t len = dot ? (size_t)(dot - a) : strlen(a);
      if (p->count == MAX_SEGMENTS) {
        bad = true;
        break;
      }
      p->segments[p->count] = strndup(a, len);
      p->count++;
      if (!dot) break;
      a = dot + 1;
    }
    if (bad) {
      size_t need = strlen(f) + 40;
      error = malloc(need);
      snprintf(error, need, "config `fields`: bad path `%s`", f);
    } else {
      s->count++;
    }
  }
  sy_list_free(items, n);
  char *non_json = sy_config_get("non_json");
  if (!error && non_json && strcmp(non_json, "pass") != 0) {
    if (strcmp(non_json, "drop") == 0) s->non_json = NON_JSON_DROP;
    else if (strcmp(non_json, "reject") == 0) s->non_json = NON_JSON_REJECT;
    else {
      size_t need = strlen(non_json) + 64;
      error = malloc(need);
      snprintf(error, need, "config `non_json`: `%s` is not one of pass, drop, reject", non_json);
    }
  }
  free(non_json);
  s->replacement = sy_config_get("replacement");
  if (!s->replacement) s->replacement = strdup("[REDACTED]");
  return error;
}

/* Once per instance: `register` may have run in another instance. */
static settings cfg;
static char *cfg_error;
static bool cfg_loaded;

void sy_transform_register(sy_registration *r) {
  settings s;
  char *error = load(&s);
  if (error) {
    /* Refuse to load rather than redact the wrong fields. */
    sy_log(SY_ERROR, error);
    abort();
  }
  sy_register_subjects_from_config(r, "subjects", ">");
  r->wants_payload = true;
}

typedef struct span {
  size_t start, end;
} span;

typedef struct spans {
  span *v;
  size_t count, cap;
} spans;

static void push(spans *out, size_t start, size_t end) {
  if (out->count == out->cap) {
    out->cap = out->cap ? out->cap * 2 : 8;
    out->v = realloc(out->v, out->cap * sizeof(span));
    if (!out->v) abort();
  }
  out->v[out->count++] = (span){start, end};
}

/* Walks one value. `active[i]` is the segment of path i that the members
 * of an object here must match, or -1 when path i cannot match below.
 * Records the byte ranges of the values to replace; false if not JSON. */
static bool walk(sy_json_cursor *c, const int8_t *active, spans *out) {
  sy_json_type t = sy_json_peek(c);
  int r;
  if (t == SY_JSON_ARRAY) {
    if (!sy_json_enter_array(c)) return false;
    while ((r = sy_json_next_element(c)) == 1)
      if (!walk(c, active, out)) return false;
    return r == 0;
  }
  if (t != SY_JSON_OBJECT) return sy_json_skip(c);
  if (!sy_json_enter_object(c)) return false;
  char *key;
  while ((r = sy_json_next_member(c, &key)) == 1) {
    int8_t child[MAX_PATHS];
    bool replace = false, descend = false;
    for (size_t i = 0; i < cfg.count; i++) {
      child[i] = -1;
      if (active[i] < 0 || strcmp(key, cfg.paths[i].segments[active[i]]) != 0) continue;
      if ((size_t)active[i] + 1 == cfg.paths[i].count) replace = true;
      else child[i] = (int8_t)(active[i] + 1), descend = true;
    }
    free(key);
    size_t start = sy_json_offset(c);
    bool ok = replace ? sy_json_skip(c) : descend ? walk(c, child, out) : sy_json_skip(c);
    if (!ok) return false;
    if (replace) push(out, start, (size_t)(c->p - c->start));
  }
  return r == 0;
}

static bool may_contain(sy_bytes payload) {
  if (payload.len && memchr(payload.ptr, '\\', payload.len)) return true;
  for (size_t i = 0; i < cfg.count; i++) {
    const char *last = cfg.paths[i].segments[cfg.paths[i].count - 1];
    size_t n = strlen(last);
    for (size_t k = 0; n <= payload.len && k + n <= payload.len; k++)
      if (memcmp(payload.ptr + k, last, n) == 0) return true;
  }
  return false;
}

static sy_action not_json(void) {
  if (cfg.non_json == NON_JSON_DROP) return sy_drop();
  if (cfg.non_json == NON_JSON_REJECT) return sy_reject("payload is not JSON");
  return sy_pass();
}

sy_action sy_transform(const sy_message *msg) {
  if (!cfg_loaded) {
    cfg_error = load(&cfg);
    cfg_loaded = true;
  }
  if (cfg_error) {
    char reason[512];
    snprintf(reason, sizeof reason, "redact_json: %s", cfg_error);
    return sy_reject(reason);
  }
  sy_bytes payload = msg->payload;
  if (!may_contain(payload)) {
    if (cfg.non_json == NON_JSON_PASS) return sy_pass(); /* nothing to redact, JSON or not */
    return sy_json_validate(payload) ? sy_pass() : not_json();
  }
  int8_t active[MAX_PATHS] = {0}; /* every path starts at its first segment */
  spans found = {0};
  sy_json_cursor c = sy_json_cursor_new(payload);
  bool ok = walk(&c, active, &found) && sy_json_at_end(&c);
  if (!ok || found.count == 0) {
    free(found.v);
    return ok ? sy_pass() : not_json();
  }
  /* The bytes between the values, and the replacement as a JSON string
   * in place of each. */
  size_t cap = payload.len + found.count * (strlen(cfg.replacement) + 8) + 16;
  uint8_t *out = malloc(cap);
  size_t len = 0, at = 0;
  if (!out) abort();
  for (size_t i = 0; i < found.count; i++) {
    memcpy(out + len, payload.ptr + at, found.v[i].start - at);
    len += found.v[i].start - at;
    if (!sy_json_quote(cfg.replacement, &out, &len, &cap)) abort();
    at = found.v[i].end;
  }
  if (len + payload.len - at > cap) { /* a replacement that needed escapes */
    cap = len + payload.len - at;
    out = realloc(out, cap);
    if (!out) abort();
  }
  memcpy(out + len, payload.ptr + at, payload.len - at);
  len += payload.len - at;
  free(found.v);
  return sy_modify_payload(out, len);
}
