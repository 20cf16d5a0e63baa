/* Unit tests for api/render and util/jsonw: objects written straight into a
 * buffer are byte for byte what jansson's compact dump of the same object
 * gives (the renderers used to build jansson trees; the oracle below is that
 * code), for names with quotes, backslashes, every control character,
 * multi-byte UTF-8 and the longest names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/render.h"
#include "util/jsonw.h"
#include "util/timefmt.h"

/* ---- the oracle: the jansson renderers as they were ---- */

static json_t *old_time(int64_t ms)
{
  char ts[32];
  time_rfc3339(ms, ts);
  return json_string(ts);
}

static json_t *old_opt_str(const char *s)
{
  return s && *s ? json_string(s) : json_null();
}

static char *old_folder(const struct folder *f)
{
  json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:I,s:o,s:o,s:b,s:b,s:o}", "_id", f->id, "id",
                        f->id, "type", "folder", "name", f->name, "parent_id",
                        old_opt_str(f->parent_id), "owner_id", f->owner_id, "size",
                        (json_int_t)f->size, "created_at", old_time(f->created_at), "updated_at",
                        old_time(f->updated_at), "is_deleted", (int)f->is_deleted, "is_starred",
                        (int)f->is_starred, "deleted_at",
                        f->is_deleted ? old_time(f->deleted_at) : json_null());
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}

static char *old_file(const struct file_rec *f)
{
  json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:s,s:s,s:o,s:o,s:b,s:b,s:o}", "_id", f->id,
                        "id", f->id, "type", "file", "name", f->name, "mime_type", f->mime_type,
                        "size", (json_int_t)f->size, "folder_id", old_opt_str(f->folder_id),
                        "owner_id", f->owner_id, "hash", f->sha256, "created_at",
                        old_time(f->created_at), "updated_at", old_time(f->updated_at),
                        "is_deleted", (int)f->is_deleted, "is_starred", (int)f->is_starred,
                        "deleted_at", f->is_deleted ? old_time(f->deleted_at) : json_null());
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}

/* ---- names to try ---- */

static const char *const fixed_names[] = {
  "a", "plain name.txt", "quote\"d", "back\\slash", "\\\"\\\"", "tab\there", "new\nline",
  "cr\rlf", "bell\x07", "\x01\x02\x1f", "del\x7f", "slash/not/escaped", "café", "日本語.pdf",
  "emoji 😀 🚀", "\xe2\x80\xae" "gpj.exe", "a\\u0041", "</script>", "\\", "\"",
};

/* A random valid UTF-8 name of up to 255 bytes, heavy on the characters that
 * need escaping. */
static void random_name(char *out, unsigned *seed)
{
  static const char *const pieces[] = {"a", "Z", "\"", "\\", "\n", "\t", "\x01", "\x1f", "/",
                                       "é", "€", "😀", " ", "\x7f", "\b", "\f", "\r"};
  size_t n = 0, want = (size_t)(rand_r(seed) % 256);
  out[0] = 0;
  while(n < want) {
    const char *p = pieces[rand_r(seed) % (sizeof(pieces) / sizeof(pieces[0]))];
    size_t k = strlen(p);
    if(n + k > 255)
      break;
    memcpy(out + n, p, k);
    n += k;
  }
  out[n] = 0;
}

static void fill_folder(struct folder *f, const char *name, int variant)
{
  memset(f, 0, sizeof(*f));
  snprintf(f->id, sizeof(f->id), "Fid_%d-xyzABC", variant);
  snprintf(f->parent_id, sizeof(f->parent_id), "%s", variant % 2 ? "Parent_123" : "");
  snprintf(f->owner_id, sizeof(f->owner_id), "Owner-%d", variant);
  snprintf(f->name, sizeof(f->name), "%s", name);
  f->size = variant % 3 ? (int64_t)variant * 1234567891LL : 0;
  f->created_at = 1764000000123LL + variant;
  f->updated_at = 1764000999999LL + variant;
  f->is_deleted = variant % 4 == 1;
  f->deleted_at = f->is_deleted ? 1765000000001LL : 0;
  f->is_starred = variant % 5 == 2;
}

static void fill_file(struct file_rec *f, const char *name, int variant)
{
  memset(f, 0, sizeof(*f));
  snprintf(f->id, sizeof(f->id), "File_%d-abc", variant);
  snprintf(f->owner_id, sizeof(f->owner_id), "Owner-%d", variant);
  snprintf(f->folder_id, sizeof(f->folder_id), "%s", variant % 2 ? "" : "Folder_9");
  snprintf(f->name, sizeof(f->name), "%s", name);
  snprintf(f->mime_type, sizeof(f->mime_type), "%s",
           variant % 3 ? "application/octet-stream" : "text/plain; charset=utf-8");
  snprintf(f->sha256, sizeof(f->sha256), "%064d", variant);
  f->size = (int64_t)variant * 987654321LL;
  f->created_at = 1764000000123LL + variant;
  f->updated_at = 1764000000456LL + variant;
  f->is_deleted = variant % 3 == 2;
  f->deleted_at = f->is_deleted ? 1765000000002LL : 0;
  f->is_starred = variant % 2 == 1;
}

static void check_folder(const char *name, int variant)
{
  struct folder f;
  buf_t out;
  fill_folder(&f, name, variant);
  char *want = old_folder(&f);
  assert_non_null(want);
  buf_init(&out, RENDER_OBJECT_MAX);
  assert_int_equal(render_folder(&out, &f), BUF_OK);
  assert_string_equal(out.data, want);
  free(want);
  buf_free(&out);
}

static void check_file(const char *name, int variant)
{
  struct file_rec f;
  buf_t out;
  fill_file(&f, name, variant);
  char *want = old_file(&f);
  assert_non_null(want);
  buf_init(&out, RENDER_OBJECT_MAX);
  assert_int_equal(render_file(&out, &f), BUF_OK);
  assert_string_equal(out.data, want);
  free(want);
  buf_free(&out);
}

static void test_fixed_names(void **state)
{
  (void)state;
  for(size_t i = 0; i < sizeof(fixed_names) / sizeof(fixed_names[0]); i++)
    for(int v = 0; v < 6; v++) {
      check_folder(fixed_names[i], v);
      check_file(fixed_names[i], v);
    }
}

static void test_every_ascii_byte(void **state)
{
  (void)state;
  char name[2] = {0, 0};
  for(int c = 1; c < 128; c++) {
    name[0] = (char)c;
    check_folder(name, c);
    check_file(name, c);
  }
}

static void test_random_names(void **state)
{
  (void)state;
  char name[300];
  unsigned seed = 12345;
  for(int i = 0; i < 2000; i++) {
    random_name(name, &seed);
    if(!*name)
      continue;
    check_folder(name, i);
    check_file(name, i);
  }
}

static void test_jsonw_values(void **state)
{
  (void)state;
  buf_t b;
  buf_init(&b, 256);
  assert_int_equal(jsonw_int(&b, INT64_MIN), BUF_OK);
  assert_int_equal(jsonw_raw(&b, ","), BUF_OK);
  assert_int_equal(jsonw_int(&b, INT64_MAX), BUF_OK);
  assert_int_equal(jsonw_raw(&b, ","), BUF_OK);
  assert_int_equal(jsonw_opt_str(&b, ""), BUF_OK);
  assert_int_equal(jsonw_raw(&b, ","), BUF_OK);
  assert_int_equal(jsonw_opt_str(&b, NULL), BUF_OK);
  assert_int_equal(jsonw_raw(&b, ","), BUF_OK);
  assert_int_equal(jsonw_bool(&b, true), BUF_OK);
  assert_string_equal(b.data, "-9223372036854775808,9223372036854775807,null,null,true");
  buf_free(&b);
  /* The buffer's bound is an error, not an overrun. */
  buf_init(&b, 8);
  assert_int_equal(jsonw_str(&b, "0123456789"), BUF_TOO_BIG);
  assert_true(b.len <= 8);
  buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fixed_names),
    cmocka_unit_test(test_every_ascii_byte),
    cmocka_unit_test(test_random_names),
    cmocka_unit_test(test_jsonw_values),
  };
  return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
