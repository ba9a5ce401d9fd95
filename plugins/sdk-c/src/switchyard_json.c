/* A strict JSON pull parser: see include/switchyard_json.h. */
#include "switchyard_json.h"

#include <stdlib.h>
#include <string.h>

sy_json_cursor sy_json_cursor_new(sy_bytes doc) {
  sy_json_cursor c = {doc.ptr, doc.ptr, doc.ptr + doc.len, 0, false};
  if (!doc.ptr) c.start = c.p = c.end = (const uint8_t *)"";
  return c;
}

static void ws(sy_json_cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

size_t sy_json_offset(sy_json_cursor *c) {
  ws(c);
  return (size_t)(c->p - c->start);
}

static bool literal(sy_json_cursor *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return false;
  c->p += n;
  return true;
}

sy_json_type sy_json_peek(sy_json_cursor *c) {
  ws(c);
  if (c->p >= c->end) return SY_JSON_INVALID;
  switch (*c->p) {
  case '{': return SY_JSON_OBJECT;
  case '[': return SY_JSON_ARRAY;
  case '"': return SY_JSON_STRING;
  case 't': return SY_JSON_TRUE;
  case 'f': return SY_JSON_FALSE;
  case 'n': return SY_JSON_NULL;
  default: return (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) ? SY_JSON_NUMBER : SY_JSON_INVALID;
  }
}

static bool digits(sy_json_cursor *c) {
  const uint8_t *s = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
  return c->p > s;
}

static bool number(sy_json_cursor *c) {
  if (c->p < c->end && *c->p == '-') c->p++;
  if (c->p < c->end && *c->p == '0') c->p++;
  else if (!digits(c)) return false;
  if (c->p < c->end && *c->p == '.') {
    c->p++;
    if (!digits(c)) return false;
  }
  if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
    c->p++;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
    if (!digits(c)) return false;
  }
  return true;
}

static int hex(uint8_t h) {
  if (h >= '0' && h <= '9') return h - '0';
  if (h >= 'a' && h <= 'f') return h - 'a' + 10;
  if (h >= 'A' && h <= 'F') return h - 'A' + 10;
  return -1;
}

static bool hex4(sy_json_cursor *c, uint32_t *v) {
  if (c->end - c->p < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex(c->p[i]);
    if (h < 0) return false;
    *v = *v << 4 | (uint32_t)h;
  }
  c->p += 4;
  return true;
}

static size_t put_utf8(uint8_t *out, uint32_t cp) {
  if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) { out[0] = 0xc0 | (cp >> 6); out[1] = 0x80 | (cp & 0x3f); return 2; }
  if (cp < 0x10000) {
    out[0] = 0xe0 | (cp >> 12); out[1] = 0x80 | ((cp >> 6) & 0x3f); out[2] = 0x80 | (cp & 0x3f);
    return 3;
  }
  out[0] = 0xf0 | (cp >> 18); out[1] = 0x80 | ((cp >> 12) & 0x3f);
  out[2] = 0x80 | ((cp >> 6) & 0x3f); out[3] = 0x80 | (cp & 0x3f);
  return 4;
}

/* The length of the valid UTF-8 sequence at p, 0 if invalid. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end) {
  uint8_t b = *p;
  size_t n;
  uint32_t cp;
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b < 0xe0) n = 2, cp = b & 0x1f;
  else if (b >= 0xe0 && b < 0xf0) n = 3, cp = b & 0x0f;
  else if (b >= 0xf0 && b < 0xf5) n = 4, cp = b & 0x07;
  else return 0;
  if ((size_t)(end - p) < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

/* Parses a string at the cursor; decodes into `out` (at least as long as
 * the literal) when not NULL, setting *len. */
static bool string(sy_json_cursor *c, uint8_t *out, size_t *len) {
  size_t n = 0;
  if (c->p >= c->end || *c->p != '"') return false;
  c->p++;
  while (c->p < c->end) {
    uint8_t b = *c->p;
    if (b == '"') {
      c->p++;
      if (len) *len = n;
      return true;
    }
    if (b < 0x20) return false;
    if (b == '\\') {
      if (++c->p >= c->end) return false;
      uint8_t e = *c->p++;
      uint32_t cp;
      switch (e) {
      case '"': case '\\': case '/': cp = e; break;
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u':
        if (!hex4(c, &cp)) return false;
        if (cp >= 0xd800 && cp < 0xdc00) {
          uint32_t lo;
          if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u') return false;
          c->p += 2;
          if (!hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff) return false;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          return false;
        }
        break;
      default: return false;
      }
      n += out ? put_utf8(out + n, cp) : 0;
      continue;
    }
    size_t k = utf8_len(c->p, c->end);
    if (k == 0) return false;
    if (out) memcpy(out + n, c->p, k);
    n += out ? k : 0;
    c->p += k;
  }
  return false;
}

bool sy_json_read_string(sy_json_cursor *c, char **out) {
  ws(c);
  sy_json_cursor probe = *c;
  if (!string(&probe, NULL, NULL)) return false;
  uint8_t *buf = malloc((size_t)(probe.p - c->p) + 1);
  size_t len;
  if (!buf) return false;
  string(c, buf, &len);
  buf[len] = '\0';
  *out = (char *)buf;
  return true;
}

bool sy_json_enter_object(sy_json_cursor *c) {
  ws(c);
  if (c->p >= c->end || *c->p != '{' || c->depth >= SY_JSON_MAX_DEPTH) return false;
  c->p++;
  c->depth++;
  c->first = true;
  return true;
}

bool sy_json_enter_array(sy_json_cursor *c) {
  ws(c);
  if (c->p >= c->end || *c->p != '[' || c->depth >= SY_JSON_MAX_DEPTH) return false;
  c->p++;
  c->depth++;
  c->first = true;
  return true;
}

/* Before the next member or element: `close` ends the container (0), a
 * comma (or nothing, first time) continues (1). */
static int next(sy_json_cursor *c, uint8_t close) {
  ws(c);
  if (c->p >= c->end) return -1;
  if (*c->p == close) {
    c->p++;
    c->depth--;
    c->first = false;
    return 0;
  }
  if (!c->first) {
    if (*c->p != ',') return -1;
    c->p++;
    ws(c);
  }
  c->first = false;
  return 1;
}

int sy_json_next_member(sy_json_cursor *c, char **key) {
  int r = next(c, '}');
  if (r != 1) return r;
  if (!sy_json_read_string(c, key)) return -1;
  ws(c);
  if (c->p >= c->end || *c->p != ':') {
    free(*key);
    return -1;
  }
  c->p++;
  return 1;
}

int sy_json_next_element(sy_json_cursor *c) {
  int r = next(c, ']');
  if (r == 1 && c->p < c->end && *c->p == ']') return -1; /* `[1,]` */
  return r;
}

bool sy_json_skip(sy_json_cursor *c) {
  int r;
  switch (sy_json_peek(c)) {
  case SY_JSON_OBJECT:
    if (!sy_json_enter_object(c)) return false;
    while ((r = next(c, '}')) == 1) {
      if (!string(c, NULL, NULL)) return false;
      ws(c);
      if (c->p >= c->end || *c->p != ':') return false;
      c->p++;
      if (!sy_json_skip(c)) return false;
    }
    return r == 0;
  case SY_JSON_ARRAY:
    if (!sy_json_enter_array(c)) return false;
    while ((r = sy_json_next_element(c)) == 1)
      if (!sy_json_skip(c)) return false;
    return r == 0;
  case SY_JSON_STRING: return string(c, NULL, NULL);
  case SY_JSON_NUMBER: return number(c);
  case SY_JSON_TRUE: return literal(c, "true");
  case SY_JSON_FALSE: return literal(c, "false");
  case SY_JSON_NULL: return literal(c, "null");
  default: return false;
  }
}

bool sy_json_at_end(sy_json_cursor *c) {
  ws(c);
  return c->p == c->end;
}

bool sy_json_validate(sy_bytes doc) {
  sy_json_cursor c = sy_json_cursor_new(doc);
  return sy_json_skip(&c) && sy_json_at_end(&c);
}

static bool put(uint8_t **buf, size_t *len, size_t *cap, const void *data, size_t n) {
  if (*len + n > *cap) {
    size_t want = (*cap ? *cap * 2 : 64);
    while (want < *len + n) want *= 2;
    uint8_t *grown = realloc(*buf, want);
    if (!grown) return false;
    *buf = grown;
    *cap = want;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
  return true;
}

bool sy_json_quote(const char *s, uint8_t **buf, size_t *len, size_t *cap) {
  static const char hexdigits[] = "0123456789abcdef";
  if (!put(buf, len, cap, "\"", 1)) return false;
  for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
    char esc[6] = {'\\', 'u', '0', '0', 0, 0};
    if (*p == '"' || *p == '\\') {
      esc[1] = (char)*p;
      if (!put(buf, len, cap, esc, 2)) return false;
    } else if (*p < 0x20) {
      esc[4] = hexdigits[*p >> 4];
      esc[5] = hexdigits[*p & 15];
      if (!put(buf, len, cap, esc, 6)) return false;
    } else if (!put(buf, len, cap, p, 1)) {
      return false;
    }
  }
  return put(buf, len, cap, "\"", 1);
}
