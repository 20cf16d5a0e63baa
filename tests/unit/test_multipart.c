/* Unit tests for the streaming multipart parser, fed whole and byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "util/multipart.h"

struct collect {
  int parts;
  char names[4][64];
  char files[4][64];
  char body[4][256];
  size_t blen[4];
  int ended;
};

static int on_begin(void *arg, const struct mp_part *part)
{
  struct collect *c = arg;
  if(c->parts >= 4)
    return -1;
  snprintf(c->names[c->parts], 64, "%.63s", part->name);
  snprintf(c->files[c->parts], 64, "%.63s", part->has_filename ? part->filename : "-");
  c->parts++;
  return 0;
}

static int on_data(void *arg, const char *d, size_t n)
{
  struct collect *c = arg;
  int k = c->parts - 1;
  if(c->blen[k] + n > sizeof(c->body[k]))
    return -1;
  memcpy(c->body[k] + c->blen[k], d, n);
  c->blen[k] += n;
  return 0;
}

static int on_end(void *arg)
{
  ((struct collect *)arg)->ended++;
  return 0;
}

static const struct mp_callbacks cbs = {on_begin, on_data, on_end};

static const char body1[] =
    "preamble\r\n--XyZ\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
    "hello\r\n--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a %22q%22.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "\r\n--XyY-not\r\r\n--X\r\n--XyZ--\r\nepilogue";

static void check_body1(struct collect *c)
{
  assert_int_equal(c->parts, 2);
  assert_int_equal(c->ended, 2);
  assert_string_equal(c->names[0], "note");
  assert_string_equal(c->files[0], "-");
  assert_int_equal(c->blen[0], 5);
  assert_memory_equal(c->body[0], "hello", 5);
  assert_string_equal(c->names[1], "file");
  assert_string_equal(c->files[1], "a %22q%22.bin");   /* kept as sent */
  const char want[] = "\r\n--XyY-not\r\r\n--X";
  assert_int_equal(c->blen[1], sizeof(want) - 1);
  assert_memory_equal(c->body[1], want, sizeof(want) - 1);
}

static void test_whole(void **state)
{
  struct mp_parser p;
  struct collect c;
  memset(&c, 0, sizeof(c));
  assert_int_equal(mp_init(&p, "XyZ", &cbs, &c), 0);
  assert_int_equal(mp_feed(&p, body1, sizeof(body1) - 1), MP_OK);
  assert_true(mp_done(&p));
  check_body1(&c);
}

static void test_byte_by_byte(void **state)
{
  struct mp_parser p;
  struct collect c;
  memset(&c, 0, sizeof(c));
  assert_int_equal(mp_init(&p, "XyZ", &cbs, &c), 0);
  for(size_t i = 0; i < sizeof(body1) - 1; i++)
    assert_int_equal(mp_feed(&p, body1 + i, 1), MP_OK);
  assert_true(mp_done(&p));
  check_body1(&c);
}

static void test_boundary_at_start(void **state)
{
  const char b[] = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\n"
                   "x\r\n--b--";
  struct mp_parser p;
  struct collect c;
  memset(&c, 0, sizeof(c));
  assert_int_equal(mp_init(&p, "b", &cbs, &c), 0);
  assert_int_equal(mp_feed(&p, b, sizeof(b) - 1), MP_OK);
  assert_true(mp_done(&p));
  assert_int_equal(c.parts, 1);
  assert_string_equal(c.files[0], "");
  assert_int_equal(c.blen[0], 1);
}

/* Browsers send a file name's backslashes as they are (WHATWG escapes only
 * '"', CR and LF, as %22 %0D %0A): a backslash is no escape, also not in a
 * value skipped while looking for another parameter. */
static void test_backslash_is_literal(void **state)
{
  const char b[] = "--b\r\nContent-Disposition: form-data; filename=\"..\\..\\win.ini\"; "
                   "name=\"f\"\r\n\r\nx\r\n"
                   "--b\r\nContent-Disposition: form-data; filename=\"C:\\dir\\\"; "
                   "name=\"g\"\r\n\r\ny\r\n--b--";
  struct mp_parser p;
  struct collect c;
  memset(&c, 0, sizeof(c));
  assert_int_equal(mp_init(&p, "b", &cbs, &c), 0);
  assert_int_equal(mp_feed(&p, b, sizeof(b) - 1), MP_OK);
  assert_true(mp_done(&p));
  assert_int_equal(c.parts, 2);
  assert_string_equal(c.names[0], "f");
  assert_string_equal(c.files[0], "..\\..\\win.ini");
  assert_string_equal(c.names[1], "g");
  assert_string_equal(c.files[1], "C:\\dir\\");
}

static void test_truncated_and_garbage(void **state)
{
  struct mp_parser p;
  struct collect c;
  memset(&c, 0, sizeof(c));
  const char cut[] = "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nabc";
  assert_int_equal(mp_init(&p, "b", &cbs, &c), 0);
  assert_int_equal(mp_feed(&p, cut, sizeof(cut) - 1), MP_OK);
  assert_false(mp_done(&p));

  memset(&c, 0, sizeof(c));
  const char bad[] = "--b\r\nNoColonHere\r\n\r\nabc\r\n--b--";
  assert_int_equal(mp_init(&p, "b", &cbs, &c), 0);
  assert_int_equal(mp_feed(&p, bad, sizeof(bad) - 1), MP_ERR_SYNTAX);

  memset(&c, 0, sizeof(c));
  const char junk[] = "--bZZ";
  assert_int_equal(mp_init(&p, "b", &cbs, &c), 0);
  assert_int_equal(mp_feed(&p, junk, sizeof(junk) - 1), MP_ERR_SYNTAX);
}

static void test_content_type(void **state)
{
  char b[80];
  assert_int_equal(mp_boundary_from_content_type("multipart/form-data; boundary=abc", b, sizeof(b)), 0);
  assert_string_equal(b, "abc");
  assert_int_equal(mp_boundary_from_content_type("Multipart/Form-Data;charset=x; boundary=\"a b\"", b, sizeof(b)), 0);
  assert_string_equal(b, "a b");
  assert_int_equal(mp_boundary_from_content_type("application/json", b, sizeof(b)), -1);
  assert_int_equal(mp_boundary_from_content_type("multipart/form-data", b, sizeof(b)), -1);
  assert_int_equal(mp_boundary_from_content_type("multipart/form-data; boundary=", b, sizeof(b)), -1);
  char longb[120];
  memset(longb, 'a', sizeof(longb));
  snprintf(longb, sizeof(longb), "multipart/form-data; boundary=%080d", 1);
  assert_int_equal(mp_boundary_from_content_type(longb, b, sizeof(b)), -1);
}

/* Every split of body1 into two feeds, and random splits into many, must give
 * the same parts and bytes as one feed. */
static void test_every_split(void **state)
{
  for(size_t cut = 0; cut <= sizeof(body1) - 1; cut++) {
    struct mp_parser p;
    struct collect c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(mp_init(&p, "XyZ", &cbs, &c), 0);
    assert_int_equal(mp_feed(&p, body1, cut), MP_OK);
    assert_int_equal(mp_feed(&p, body1 + cut, sizeof(body1) - 1 - cut), MP_OK);
    assert_true(mp_done(&p));
    check_body1(&c);
  }
  unsigned seed = 12345;
  for(int round = 0; round < 2000; round++) {
    struct mp_parser p;
    struct collect c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(mp_init(&p, "XyZ", &cbs, &c), 0);
    size_t off = 0;
    while(off < sizeof(body1) - 1) {
      seed = seed * 1103515245u + 12345u;
      size_t n = 1 + (seed >> 16) % 9;
      if(n > sizeof(body1) - 1 - off)
        n = sizeof(body1) - 1 - off;
      assert_int_equal(mp_feed(&p, body1 + off, n), MP_OK);
      off += n;
    }
    assert_true(mp_done(&p));
    check_body1(&c);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_whole),
    cmocka_unit_test(test_byte_by_byte),
    cmocka_unit_test(test_every_split),
    cmocka_unit_test(test_boundary_at_start),
    cmocka_unit_test(test_backslash_is_literal),
    cmocka_unit_test(test_truncated_and_garbage),
    cmocka_unit_test(test_content_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
