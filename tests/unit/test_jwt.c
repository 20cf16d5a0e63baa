/* Unit tests for util/jwt: round trips, an independently computed token, and
 * the classic attacks (alg none/confusion, tampering, typ confusion, junk). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jwt.c"

#define SECRET "test-secret-0123456789"
#define NOW 1800000000

static json_t *claims_std(const char *typ, int64_t exp)
{
  return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "sub", "user1", "username", "alice", "typ",
                   typ, "iat", (json_int_t)NOW, "exp", (json_int_t)exp, "jti", "j1");
}

/* Builds header.payload.signature from raw JSON texts, signed with `secret`,
 * so that the checks after the signature can be attacked. */
static char *forge(const char *header, const char *payload, const char *secret)
{
  char h[1024], p[1024], sig_b64[64];
  unsigned char sig[32];
  static char tok[4096];
  b64url_encode(header, strlen(header), h, sizeof(h));
  b64url_encode(payload, strlen(payload), p, sizeof(p));
  snprintf(tok, sizeof(tok), "%s.%s", h, p);
  assert_int_equal(jwt_hmac(secret, tok, strlen(tok), sig), 0);
  b64url_encode(sig, sizeof(sig), sig_b64, sizeof(sig_b64));
  strcat(tok, ".");
  strcat(tok, sig_b64);
  return tok;
}

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define PAYLOAD_OK "{\"sub\":\"u\",\"typ\":\"access\",\"exp\":1900000000}"

static void test_roundtrip(void **state)
{
  json_t *claims = claims_std("access", NOW + 60), *got = NULL;
  char *tok = NULL;
  assert_int_equal(jwt_sign(SECRET, claims, &tok), 0);
  assert_non_null(tok);
  assert_int_equal(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37), 0);
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW, &got), JWT_OK);
  assert_non_null(got);
  assert_true(json_equal(claims, got));
  json_decref(got);
  /* NULL want_typ accepts any typ; NULL claims_out is allowed. */
  assert_int_equal(jwt_verify(SECRET, tok, NULL, NOW, NULL), JWT_OK);
  free(tok);
  json_decref(claims);
}

static void test_external_token(void **state)
{
  /* Made with Python's hmac/base64, independent of this code. */
  const char *tok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                    "eyJzdWIiOiJ1c2VyMSIsInR5cCI6ImFjY2VzcyIsImV4cCI6MjAwMDAwMDAwMCwi"
                    "dXNlcm5hbWUiOiJhbGljZSJ9."
                    "WxawX2x-xBsQETGwhNwgPQBArwSZEKZxYG1g-jJbWkA";
  json_t *got = NULL;
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW, &got), JWT_OK);
  assert_string_equal(json_string_value(json_object_get(got, "username")), "alice");
  json_decref(got);
  assert_int_equal(jwt_verify("another-secret-0123", tok, "access", NOW, NULL), JWT_INVALID);
}

static void test_expiry(void **state)
{
  json_t *claims = claims_std("access", NOW), *got = (json_t *)1;
  char *tok = NULL;
  assert_int_equal(jwt_sign(SECRET, claims, &tok), 0);
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW - 1, NULL), JWT_OK);
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW, &got), JWT_EXPIRED);
  assert_null(got);
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW + 100000, NULL), JWT_EXPIRED);
  /* Expired but for the wrong route or with a bad key: invalid, not expired. */
  assert_int_equal(jwt_verify(SECRET, tok, "refresh", NOW, NULL), JWT_INVALID);
  assert_int_equal(jwt_verify("wrong-secret-0123456", tok, "access", NOW, NULL), JWT_INVALID);
  free(tok);
  json_decref(claims);
}

static void test_typ_confusion(void **state)
{
  static const char *const typs[] = {"access", "refresh", "verify", "reset"};
  for(int i = 0; i < 4; i++) {
    json_t *claims = claims_std(typs[i], NOW + 60);
    char *tok = NULL;
    assert_int_equal(jwt_sign(SECRET, claims, &tok), 0);
    for(int k = 0; k < 4; k++)
      assert_int_equal(jwt_verify(SECRET, tok, typs[k], NOW, NULL), i == k ? JWT_OK : JWT_INVALID);
    free(tok);
    json_decref(claims);
  }
  /* No typ claim at all, or a non-string one. */
  assert_int_equal(jwt_verify(SECRET, forge(HDR, "{\"sub\":\"u\",\"exp\":1900000000}", SECRET),
                              "access", NOW, NULL), JWT_INVALID);
  assert_int_equal(jwt_verify(SECRET, forge(HDR, "{\"sub\":\"u\",\"exp\":1900000000}", SECRET),
                              NULL, NOW, NULL), JWT_OK);
  assert_int_equal(jwt_verify(SECRET,
                              forge(HDR, "{\"sub\":\"u\",\"typ\":1,\"exp\":1900000000}", SECRET),
                              "access", NOW, NULL), JWT_INVALID);
}

static void test_tampering(void **state)
{
  json_t *claims = claims_std("access", NOW + 60);
  char *tok = NULL;
  assert_int_equal(jwt_sign(SECRET, claims, &tok), 0);
  size_t len = strlen(tok);
  char *t = strdup(tok);
  /* Flip each character of the token in turn: never accepted. */
  for(size_t i = 0; i < len; i++) {
    if(t[i] == '.')
      continue;
    char orig = t[i];
    t[i] = orig == 'A' ? 'B' : 'A';
    assert_int_equal(jwt_verify(SECRET, t, "access", NOW, NULL), JWT_INVALID);
    t[i] = orig;
  }
  /* Truncations of every length. */
  for(size_t i = 0; i < len; i++) {
    t[i] = 0;
    assert_int_equal(jwt_verify(SECRET, t, "access", NOW, NULL), JWT_INVALID);
    t[i] = tok[i];
  }
  /* A changed payload under the old signature. */
  char *dot1 = strchr(tok, '.'), *dot2 = strrchr(tok, '.');
  char evil[1024], pay[512];
  const char *p = "{\"sub\":\"admin\",\"typ\":\"access\",\"exp\":1900000000}";
  b64url_encode(p, strlen(p), pay, sizeof(pay));
  snprintf(evil, sizeof(evil), "%.*s.%s%s", (int)(dot1 - tok), tok, pay, dot2);
  assert_int_equal(jwt_verify(SECRET, evil, "access", NOW, NULL), JWT_INVALID);
  /* Extra segment, trailing dot, padding on the signature. */
  snprintf(evil, sizeof(evil), "%s.", tok);
  assert_int_equal(jwt_verify(SECRET, evil, "access", NOW, NULL), JWT_INVALID);
  snprintf(evil, sizeof(evil), "%s.%s", tok, "AAAA");
  assert_int_equal(jwt_verify(SECRET, evil, "access", NOW, NULL), JWT_INVALID);
  snprintf(evil, sizeof(evil), "%s=", tok);
  assert_int_equal(jwt_verify(SECRET, evil, "access", NOW, NULL), JWT_INVALID);
  /* Empty signature. */
  snprintf(evil, sizeof(evil), "%.*s.", (int)(dot2 - tok), tok);
  assert_int_equal(jwt_verify(SECRET, evil, "access", NOW, NULL), JWT_INVALID);
  free(t);
  free(tok);
  json_decref(claims);
}

static void test_alg_attacks(void **state)
{
  /* "none" with no signature, with an empty one, and with a valid HS256 one. */
  char h[128], p[256], tok[512];
  b64url_encode("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27, h, sizeof(h));
  b64url_encode(PAYLOAD_OK, strlen(PAYLOAD_OK), p, sizeof(p));
  snprintf(tok, sizeof(tok), "%s.%s.", h, p);
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW, NULL), JWT_INVALID);
  snprintf(tok, sizeof(tok), "%s.%s", h, p);
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW, NULL), JWT_INVALID);
  static const char *const headers[] = {
    "{\"alg\":\"none\",\"typ\":\"JWT\"}",
    "{\"alg\":\"None\"}",
    "{\"alg\":\"HS512\"}",
    "{\"alg\":\"RS256\"}",
    "{\"alg\":\"hs256\"}",
    "{\"alg\":\"HS256 \"}",
    "{\"alg\":null}",
    "{\"alg\":1}",
    "{\"typ\":\"JWT\"}",
    "{\"alg\":\"HS256\",\"alg\":\"none\"}", /* duplicate key */
    "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
    "[\"HS256\"]",
    "\"HS256\"",
    "null",
    "{",
    "",
    "{\"alg\":\"HS256\"} x",
  };
  for(size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
    assert_int_equal(jwt_verify(SECRET, forge(headers[i], PAYLOAD_OK, SECRET), "access", NOW, NULL),
                     JWT_INVALID);
  /* A minimal correct header is fine (typ in the header is optional). */
  assert_int_equal(jwt_verify(SECRET, forge("{\"alg\":\"HS256\"}", PAYLOAD_OK, SECRET), "access",
                              NOW, NULL), JWT_OK);
}

static void test_claims_checks(void **state)
{
  static const char *const bad[] = {
    "{\"typ\":\"access\",\"exp\":1900000000}",                 /* no sub */
    "{\"sub\":\"\",\"typ\":\"access\",\"exp\":1900000000}",    /* empty sub */
    "{\"sub\":5,\"typ\":\"access\",\"exp\":1900000000}",       /* sub not a string */
    "{\"sub\":null,\"typ\":\"access\",\"exp\":1900000000}",
    "{\"sub\":\"u\",\"typ\":\"access\"}",                      /* no exp */
    "{\"sub\":\"u\",\"typ\":\"access\",\"exp\":\"1900000000\"}",
    "{\"sub\":\"u\",\"typ\":\"access\",\"exp\":1.9e9}",
    "{\"sub\":\"u\",\"typ\":\"access\",\"exp\":null}",
    "{\"sub\":\"u\",\"sub\":\"admin\",\"typ\":\"access\",\"exp\":1900000000}",
    "[\"u\",\"access\",1900000000]",
    "\"just a string\"",
    "{\"sub\":\"u\",\"typ\":\"access\",\"exp\":1900000000",
    "{\"sub\":\"u\\u0000admin\",\"typ\":\"access\",\"exp\":1900000000}",
    "{\"sub\":\"\xff\",\"typ\":\"access\",\"exp\":1900000000}",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(jwt_verify(SECRET, forge(HDR, bad[i], SECRET), "access", NOW, NULL),
                     JWT_INVALID);
  assert_int_equal(jwt_verify(SECRET, forge(HDR, PAYLOAD_OK, SECRET), "access", NOW, NULL), JWT_OK);
}

static void test_malformed(void **state)
{
  static const char *const junk[] = {
    "", ".", "..", "...", "a.b.c", "eyJ.eyJ.", "Bearer x.y.z", "\xff\xfe.\x01.\x02",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
  };
  for(size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
    assert_int_equal(jwt_verify(SECRET, junk[i], "access", NOW, NULL), JWT_INVALID);
  assert_int_equal(jwt_verify(SECRET, NULL, "access", NOW, NULL), JWT_INVALID);
  assert_int_equal(jwt_verify(NULL, "a.b.c", "access", NOW, NULL), JWT_INVALID);
  assert_int_equal(jwt_verify("", "a.b.c", "access", NOW, NULL), JWT_INVALID);

  /* Oversized tokens are refused before any work, even if well formed. */
  char *big = malloc(JWT_MAX_LEN + 100);
  memset(big, 'A', JWT_MAX_LEN + 99);
  big[JWT_MAX_LEN + 99] = 0;
  big[10] = '.';
  big[20] = '.';
  assert_int_equal(jwt_verify(SECRET, big, "access", NOW, NULL), JWT_INVALID);
  free(big);
}

static void test_sign_limits(void **state)
{
  char *tok = (char *)1;
  json_t *claims = claims_std("access", NOW + 60);
  assert_int_equal(jwt_sign("", claims, &tok), -1);
  assert_null(tok);
  assert_int_equal(jwt_sign(NULL, claims, &tok), -1);
  json_t *arr = json_array();
  assert_int_equal(jwt_sign(SECRET, arr, &tok), -1);
  json_decref(arr);
  /* Claims whose token would exceed JWT_MAX_LEN are refused. */
  char *pad = malloc(7000);
  memset(pad, 'x', 6999);
  pad[6999] = 0;
  json_object_set_new(claims, "pad", json_string(pad));
  assert_int_equal(jwt_sign(SECRET, claims, &tok), -1);
  assert_null(tok);
  /* Just under the limit works and verifies. */
  pad[5000] = 0;
  json_object_set_new(claims, "pad", json_string(pad));
  assert_int_equal(jwt_sign(SECRET, claims, &tok), 0);
  assert_true(strlen(tok) <= JWT_MAX_LEN);
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW, NULL), JWT_OK);
  free(tok);
  free(pad);
  json_decref(claims);
}

static void test_unicode_claims(void **state)
{
  json_t *claims = claims_std("access", NOW + 60), *got = NULL;
  json_object_set_new(claims, "username",
                      json_string("\xd0\xb0\xd0\xbb\xd0\xb8\xd1\x81\xd0\xb0 \xf0\x9f\x98\x80"));
  char *tok = NULL;
  assert_int_equal(jwt_sign(SECRET, claims, &tok), 0);
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW, &got), JWT_OK);
  assert_true(json_equal(claims, got));
  json_decref(got);
  free(tok);
  json_decref(claims);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_external_token),
    cmocka_unit_test(test_expiry),         cmocka_unit_test(test_typ_confusion),
    cmocka_unit_test(test_tampering),      cmocka_unit_test(test_alg_attacks),
    cmocka_unit_test(test_claims_checks),  cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_sign_limits),    cmocka_unit_test(test_unicode_claims),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
