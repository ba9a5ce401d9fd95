/*
 * A small pull parser for JSON payloads, for C plugins: C has no standard
 * JSON library and a plugin must not trap on a hostile payload. Strict
 * (RFC 8259, like serde_json: no NaN, no trailing commas, UTF-8 checked in
 * strings), nesting capped at SY_JSON_MAX_DEPTH, no allocation except for
 * the strings a caller asks to decode.
 *
 *   sy_json_cursor c = sy_json_cursor_new(payload);
 *   if (sy_json_enter_object(&c)) {
 *     char *key;
 *     int r;
 *     while ((r = sy_json_next_member(&c, &key)) == 1) { ...; free(key); sy_json_skip(&c); }
 *     if (r < 0) ... not JSON
 *   }
 */
#ifndef SWITCHYARD_JSON_H
#define SWITCHYARD_JSON_H

#include "switchyard_plugin.h"

#define SY_JSON_MAX_DEPTH 128

typedef enum sy_json_type {
  SY_JSON_INVALID,
  SY_JSON_OBJECT,
  SY_JSON_ARRAY,
  SY_JSON_STRING,
  SY_JSON_NUMBER,
  SY_JSON_TRUE,
  SY_JSON_FALSE,
  SY_JSON_NULL,
} sy_json_type;

typedef struct sy_json_cursor {
  const uint8_t *start, *p, *end;
  int depth;
  bool first; /* no member/element read yet in the current container */
} sy_json_cursor;

sy_json_cursor sy_json_cursor_new(sy_bytes doc);
/* The offset of the cursor (after whitespace) in the document. */
size_t sy_json_offset(sy_json_cursor *c);
/* The type of the next value, after whitespace. */
sy_json_type sy_json_peek(sy_json_cursor *c);
/* Skips (and checks) one value of any type. */
bool sy_json_skip(sy_json_cursor *c);
/* Consumes `{`; then sy_json_next_member until it returns 0 (the `}` is
 * consumed) or -1 (not JSON). On 1 the cursor is at the member's value,
 * which the caller must consume (read, skip or enter); *key is malloc'd,
 * decoded UTF-8. */
bool sy_json_enter_object(sy_json_cursor *c);
int sy_json_next_member(sy_json_cursor *c, char **key);
/* The same for arrays. */
bool sy_json_enter_array(sy_json_cursor *c);
int sy_json_next_element(sy_json_cursor *c);
/* Reads a string value, decoded and malloc'd into *out. */
bool sy_json_read_string(sy_json_cursor *c, char **out);
/* Checks that only whitespace is left. */
bool sy_json_at_end(sy_json_cursor *c);
/* The whole document is one JSON value. */
bool sy_json_validate(sy_bytes doc);
/* Appends `s` as a JSON string literal (quoted, escaped) to a malloc'd
 * buffer, growing it; returns false on allocation failure. */
bool sy_json_quote(const char *s, uint8_t **buf, size_t *len, size_t *cap);

#endif
