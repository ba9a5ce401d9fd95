/* The SDK's JSON pull parser on the build machine (gcc), with hostile
 * input: `cc -Iinclude tests/test_json.c src/switchyard_json.c`. Prints
 * "N passed, N failed" and exits non-zero on a failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard_json.h"

static int passed, failed;

static void check(int ok, const char *what) {
  if (ok) passed++;
  else failed++, printf("FAILED: %s\n", what);
}

static sy_bytes b(const char *s) { return (sy_bytes){(const uint8_t *)s, strlen(s)}; }

int main(void) {
  const char *good[] = {"{}", "[]", " 0 ", "-1.5e+10", "\"\\u00e9\\ud83d\\ude00\"", "{\"a\":[1,{\"b\":null}],\"c\":true}",
                        "\"h\xc3\xa9\"", "[false, \"x\" ]"};
  const char *bad[] = {"", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "-", "NaN", "{} {}", "\"\x01\"",
                       "\"\\x\"", "\"\\ud800\"", "\"\xff\"", "\"\xc0\xaf\"", "[1 2]", "tru", "{1:2}", "\"abc"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) check(sy_json_validate(b(good[i])), good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) check(!sy_json_validate(b(bad[i])), bad[i]);

  /* Nesting past the cap is refused, not a stack overflow. */
  char deep[2 * SY_JSON_MAX_DEPTH + 8];
  size_t n = SY_JSON_MAX_DEPTH + 1;
  memset(deep, '[', n);
  memset(deep + n, ']', n);
  deep[2 * n] = 0;
  check(!sy_json_validate(b(deep)), "depth past the cap");
  check(sy_json_validate((sy_bytes){(const uint8_t *)deep + 1, 2 * n - 2}), "depth at the cap");

  /* Members with decoded keys; values left for the caller. */
  sy_json_cursor c = sy_json_cursor_new(b("{\"pass\\u0077ord\": \"x\", \"n\": {\"k\": 7}}"));
  char *key, *value;
  check(sy_json_enter_object(&c), "enter");
  check(sy_json_next_member(&c, &key) == 1 && strcmp(key, "password") == 0, "escaped key decoded");
  free(key);
  check(sy_json_read_string(&c, &value) && strcmp(value, "x") == 0, "string value");
  free(value);
  check(sy_json_next_member(&c, &key) == 1 && strcmp(key, "n") == 0, "second key");
  free(key);
  check(sy_json_skip(&c), "skip object value");
  check(sy_json_next_member(&c, &key) == 0 && sy_json_at_end(&c), "end");

  /* The quoted replacement is valid JSON. */
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  check(sy_json_quote("a\"b\\c\n", &buf, &len, &cap), "quote");
  check(len == 15 && memcmp(buf, "\"a\\\"b\\\\c\\u000a\"", 15) == 0, "quoted form");
  check(sy_json_validate((sy_bytes){buf, len}), "quoted is JSON");
  free(buf);

  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
