/* Unit tests for util/b64: RFC 4648 vectors, URL-safe alphabet, bounds, and
 * hostile input to the decoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/b64.c"

static void test_rfc4648_vectors(void **state)
{
  static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  for(size_t i = 0; i < 7; i++) {
    char out[16];
    unsigned char dec[16];
    size_t n = strlen(plain[i]), dlen = 99;
    assert_int_equal(b64url_encode(plain[i], n, out, sizeof(out)), strlen(enc[i]));
    assert_string_equal(out, enc[i]);
    assert_int_equal(B64URL_ENCLEN(n), strlen(enc[i]));
    assert_int_equal(b64url_decode(enc[i], strlen(enc[i]), dec, sizeof(dec), &dlen), 0);
    assert_int_equal(dlen, n);
    assert_memory_equal(dec, plain[i], n);
  }
}

static void test_url_safe_alphabet(void **state)
{
  const unsigned char in[] = {0xfb, 0xff, 0xbf};
  char out[8];
  assert_int_equal(b64url_encode(in, 3, out, sizeof(out)), 4);
  assert_string_equal(out, "-_-_"); /* standard base64 would be "+/+/" */
  unsigned char dec[3];
  size_t n;
  assert_int_equal(b64url_decode("-_-_", 4, dec, sizeof(dec), &n), 0);
  assert_memory_equal(dec, in, 3);
}

static void test_roundtrip_all_lengths(void **state)
{
  unsigned char in[200], dec[200];
  char enc[300];
  for(size_t i = 0; i < sizeof(in); i++)
    in[i] = (unsigned char)(i * 37 + 11);
  for(size_t n = 0; n <= sizeof(in); n++) {
    size_t len = b64url_encode(in, n, enc, sizeof(enc));
    assert_int_equal(len, B64URL_ENCLEN(n));
    assert_int_equal(strlen(enc), len);
    size_t dlen = 0;
    assert_int_equal(b64url_decode(enc, len, dec, n, &dlen), 0); /* exact-size output */
    assert_int_equal(dlen, n);
    assert_memory_equal(dec, in, n);
  }
}

static void test_encode_buffer_bounds(void **state)
{
  char out[8];
  memset(out, 'x', sizeof(out));
  /* "foob" needs 6 characters + NUL = 7. */
  assert_int_equal(b64url_encode("foob", 4, out, 6), 0);
  assert_string_equal(out, "");
  assert_int_equal(b64url_encode("foob", 4, out, 7), 6);
  assert_string_equal(out, "Zm9vYg");
  assert_int_equal(b64url_encode("foob", 4, out, 0), 0);
  assert_int_equal(b64url_encode("", 0, out, 1), 0);
  assert_string_equal(out, "");
  /* An absurd length must not overflow the size arithmetic. */
  assert_int_equal(b64url_encode("x", SIZE_MAX, out, sizeof(out)), 0);
}

static void test_decode_rejects_hostile(void **state)
{
  unsigned char out[64];
  size_t n;
  static const char *const bad[] = {
    "Zm9v+g",   /* standard alphabet */
    "Zm9v/g",
    "Zm8=",     /* padding */
    "Zg==",
    "Zm 9v",    /* whitespace */
    "Zm9v\n",
    "Z",        /* 1 mod 4: not a whole byte */
    "Zm9vY",
    "Zh",       /* non-canonical: unused bits set ("Zg" is canonical) */
    "Zm9",      /* "Zm8" is canonical */
    "\xc3\xa9\xc3\xa9",
    "Zm9v.YmFy",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(b64url_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n), -1);
  /* An embedded NUL inside the given length is a bad character. */
  assert_int_equal(b64url_decode("Zm\0v", 4, out, sizeof(out), &n), -1);
  /* A high byte must not be sign-extended into a valid index. */
  assert_int_equal(b64url_decode("\xff\xff", 2, out, sizeof(out), &n), -1);
}

static void test_decode_output_bounds(void **state)
{
  unsigned char out[6];
  size_t n = 42;
  assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5, &n), -1);
  assert_int_equal(n, 42); /* untouched on failure */
  assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 6, NULL), 0);
  assert_memory_equal(out, "foobar", 6);
  assert_int_equal(b64url_decode("", 0, out, 0, &n), 0);
  assert_int_equal(n, 0);
  /* Decoding only a prefix of a longer string works by length. */
  assert_int_equal(b64url_decode("Zm9vYmFy", 4, out, sizeof(out), &n), 0);
  assert_int_equal(n, 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rfc4648_vectors),       cmocka_unit_test(test_url_safe_alphabet),
    cmocka_unit_test(test_roundtrip_all_lengths), cmocka_unit_test(test_encode_buffer_bounds),
    cmocka_unit_test(test_decode_rejects_hostile), cmocka_unit_test(test_decode_output_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
