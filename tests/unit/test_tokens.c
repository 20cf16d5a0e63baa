/* Unit tests for drive/tokens: claims and typ checks, expiry, forged and
 * tampered tokens, refresh rotation with reuse detection, logout, revoking a
 * user's tokens, and single-use spending. The database parts run against a
 * throw-away SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/hmac.h>
#include "db/db.h"
#include "drive/tokens.h"
#include "util/b64.h"
#include "util/jwt.h"
#include "testdb.h"

#define SECRET "unit-test-secret-0123456789abcdef"
#define NOW 1800000000LL
#define UID "AAAAAAAAAAAAAAAAAAAAAA"


static int setup_db(void **state)
{
  if(testdb_open("tokens") != 0)
    return -1;
  tokens_init(SECRET, 1800, 7 * 86400);
  return db_exec(db_get(),
                 "INSERT INTO users (id, username, username_key, email, email_key, "
                 "password_hash, is_verified, created_at, updated_at) "
                 "VALUES ($1, 'Alice', 'alice', 'a@example.com', 'a@example.com', 'x', 1, 0, 0)",
                 "t", UID);
}

static int teardown_db(void **state)
{
  testdb_close();
  return 0;
}

/* Builds header.payload.signature by hand (for forged tokens). */
static char *make_jwt(const char *header, const char *payload, const char *key)
{
  static char tok[4096];
  size_t n = b64url_encode(header, strlen(header), tok, sizeof(tok));
  tok[n++] = '.';
  n += b64url_encode(payload, strlen(payload), tok + n, sizeof(tok) - n);
  tok[n] = 0;
  if(key) {
    unsigned char sig[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)tok, n, sig, &len);
    tok[n++] = '.';
    b64url_encode(sig, len, tok + n, sizeof(tok) - n);
  }
  else
    strcpy(tok + n, ".");
  return tok;
}

static void test_sign_verify_roundtrip(void **state)
{
  char *tok = NULL;
  struct token_claims want, got;
  assert_int_equal(token_sign(TOKEN_ACCESS, UID, "Alice", NOW, &tok, &want), 0);
  assert_int_equal(token_verify(TOKEN_ACCESS, tok, NOW, &got), DRIVE_OK);
  assert_string_equal(got.sub, UID);
  assert_string_equal(got.username, "Alice");
  assert_string_equal(got.jti, want.jti);
  assert_int_equal(strlen(got.jti), ID_LEN);
  assert_int_equal(got.iat, NOW);
  assert_int_equal(got.exp, NOW + 1800);
  assert_int_equal(got.typ, TOKEN_ACCESS);

  /* Every claim is in the payload, typ by name. */
  json_t *claims = NULL;
  assert_int_equal(jwt_verify(SECRET, tok, "access", NOW, &claims), JWT_OK);
  const char *keys[] = {"typ", "sub", "username", "iat", "exp", "jti"};
  for(size_t i = 0; i < 6; i++)
    assert_non_null(json_object_get(claims, keys[i]));
  json_decref(claims);
  free(tok);
}

static void test_lifetimes(void **state)
{
  assert_int_equal(token_ttl(TOKEN_ACCESS), 1800);
  assert_int_equal(token_ttl(TOKEN_REFRESH), 7 * 86400);
  assert_int_equal(token_ttl(TOKEN_VERIFY), 24 * 3600);
  assert_int_equal(token_ttl(TOKEN_RESET), 15 * 60);
}

static void test_each_route_takes_only_its_typ(void **state)
{
  struct token_claims c;
  for(int made = TOKEN_ACCESS; made <= TOKEN_RESET; made++) {
    char *tok = NULL;
    assert_int_equal(token_sign((enum token_type)made, UID, "Alice", NOW, &tok, NULL), 0);
    for(int want = TOKEN_ACCESS; want <= TOKEN_RESET; want++)
      assert_int_equal(token_verify((enum token_type)want, tok, NOW + 1, &c),
                       made == want ? DRIVE_OK : DRIVE_BAD_TOKEN);
    free(tok);
  }
}

static void test_expiry(void **state)
{
  char *tok = NULL;
  struct token_claims c;
  assert_int_equal(token_sign(TOKEN_RESET, UID, "Alice", NOW, &tok, NULL), 0);
  assert_int_equal(token_verify(TOKEN_RESET, tok, NOW + 15 * 60 - 1, &c), DRIVE_OK);
  assert_int_equal(token_verify(TOKEN_RESET, tok, NOW + 15 * 60, &c), DRIVE_EXPIRED);
  free(tok);
}

static void test_forged_and_tampered(void **state)
{
  struct token_claims c;
  char payload[512];
  snprintf(payload, sizeof(payload),
           "{\"typ\":\"access\",\"sub\":\"%s\",\"username\":\"Alice\",\"iat\":%lld,"
           "\"exp\":%lld,\"jti\":\"BBBBBBBBBBBBBBBBBBBBBB\"}",
           UID, NOW, NOW + 60);
  /* The same claims signed correctly are fine... */
  assert_int_equal(token_verify(TOKEN_ACCESS, make_jwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                                                       payload, SECRET), NOW, &c),
                   DRIVE_OK);
  /* ...but not with another key, alg none, or another alg name. */
  assert_int_equal(token_verify(TOKEN_ACCESS, make_jwt("{\"alg\":\"HS256\"}", payload, "other"),
                                NOW, &c),
                   DRIVE_BAD_TOKEN);
  assert_int_equal(token_verify(TOKEN_ACCESS, make_jwt("{\"alg\":\"none\"}", payload, NULL), NOW,
                                &c),
                   DRIVE_BAD_TOKEN);
  assert_int_equal(token_verify(TOKEN_ACCESS, make_jwt("{\"alg\":\"HS512\"}", payload, SECRET),
                                NOW, &c),
                   DRIVE_BAD_TOKEN);

  /* A flipped payload character breaks the signature. */
  char *tok = NULL;
  assert_int_equal(token_sign(TOKEN_ACCESS, UID, "Alice", NOW, &tok, NULL), 0);
  char *dot = strchr(tok, '.');
  dot[5] = dot[5] == 'A' ? 'B' : 'A';
  assert_int_equal(token_verify(TOKEN_ACCESS, tok, NOW, &c), DRIVE_BAD_TOKEN);
  free(tok);

  assert_int_equal(token_verify(TOKEN_ACCESS, "", NOW, &c), DRIVE_BAD_TOKEN);
  assert_int_equal(token_verify(TOKEN_ACCESS, "a.b.c", NOW, &c), DRIVE_BAD_TOKEN);
}

static void test_missing_claims(void **state)
{
  struct token_claims c;
  const char *payloads[] = {
    /* no jti */
    "{\"typ\":\"access\",\"sub\":\"" UID "\",\"username\":\"A\",\"iat\":1,\"exp\":9999999999}",
    /* no username */
    "{\"typ\":\"access\",\"sub\":\"" UID "\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999}",
    /* iat not an integer */
    "{\"typ\":\"access\",\"sub\":\"" UID "\",\"username\":\"A\",\"jti\":\"x\",\"iat\":\"1\","
    "\"exp\":9999999999}",
    /* sub too long for an id */
    "{\"typ\":\"access\",\"sub\":\"" UID UID "\",\"username\":\"A\",\"jti\":\"x\",\"iat\":1,"
    "\"exp\":9999999999}",
    /* no typ */
    "{\"sub\":\"" UID "\",\"username\":\"A\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999}",
  };
  for(size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
    assert_int_equal(token_verify(TOKEN_ACCESS, make_jwt("{\"alg\":\"HS256\"}", payloads[i], SECRET),
                                  NOW, &c),
                     DRIVE_BAD_TOKEN);
}

static int64_t count(const char *sql)
{
  int64_t n = -1;
  assert_int_equal(db_query_int(db_get(), &n, sql, ""), DB_ROW);
  return n;
}

static void test_rotation_and_reuse(void **state)
{
  struct token_pair p1, p2, p3;
  struct token_claims c;
  assert_int_equal(tokens_issue_pair(UID, "Alice", NOW, &p1), DRIVE_OK);
  assert_int_equal(token_verify(TOKEN_ACCESS, p1.access, NOW, &c), DRIVE_OK);
  assert_int_equal(token_verify(TOKEN_REFRESH, p1.refresh, NOW, &c), DRIVE_OK);

  /* An access token is no refresh token. */
  assert_int_equal(tokens_rotate(p1.access, NOW, &p2), DRIVE_BAD_TOKEN);

  assert_int_equal(tokens_rotate(p1.refresh, NOW + 10, &p2), DRIVE_OK);
  assert_string_not_equal(p2.refresh, p1.refresh);
  assert_int_equal(token_verify(TOKEN_ACCESS, p2.access, NOW + 10, &c), DRIVE_OK);
  assert_string_equal(c.username, "Alice");

  /* The rotated-away token again: theft. The whole family goes. */
  assert_int_equal(tokens_rotate(p1.refresh, NOW + 20, &p3), DRIVE_REUSED);
  assert_null(p3.access);
  assert_int_equal(tokens_rotate(p2.refresh, NOW + 30, &p3), DRIVE_REUSED);
  assert_int_equal(count("SELECT COUNT(*) FROM refresh_tokens WHERE revoked = 0"), 0);

  /* Another login is another family, untouched by that. */
  struct token_pair q;
  assert_int_equal(tokens_issue_pair(UID, "Alice", NOW + 40, &q), DRIVE_OK);
  assert_int_equal(tokens_rotate(q.refresh, NOW + 50, &p3), DRIVE_OK);
  token_pair_free(&p3);
  token_pair_free(&q);
  token_pair_free(&p1);
  token_pair_free(&p2);
}

static void test_rotation_expired_and_unknown(void **state)
{
  struct token_pair p, out;
  assert_int_equal(tokens_issue_pair(UID, "Alice", NOW, &p), DRIVE_OK);
  assert_int_equal(tokens_rotate(p.refresh, NOW + 7 * 86400, &out), DRIVE_EXPIRED);
  /* Correctly signed but never recorded (e.g. from before a restore). */
  char *tok = NULL;
  assert_int_equal(token_sign(TOKEN_REFRESH, UID, "Alice", NOW, &tok, NULL), 0);
  assert_int_equal(tokens_rotate(tok, NOW, &out), DRIVE_BAD_TOKEN);
  assert_int_equal(tokens_revoke(tok, NOW), DRIVE_BAD_TOKEN);
  free(tok);
  token_pair_free(&p);
}

static void test_logout_revokes_one(void **state)
{
  struct token_pair a, b, out;
  assert_int_equal(tokens_issue_pair(UID, "Alice", NOW, &a), DRIVE_OK);
  assert_int_equal(tokens_issue_pair(UID, "Alice", NOW, &b), DRIVE_OK);
  assert_int_equal(tokens_revoke(a.refresh, NOW + 1), DRIVE_OK);
  assert_int_equal(tokens_revoke(a.refresh, NOW + 2), DRIVE_OK); /* idempotent */
  assert_int_equal(tokens_revoke(a.access, NOW + 2), DRIVE_BAD_TOKEN);
  assert_int_equal(tokens_rotate(a.refresh, NOW + 3, &out), DRIVE_REUSED);
  assert_int_equal(tokens_rotate(b.refresh, NOW + 3, &out), DRIVE_OK);
  token_pair_free(&out);
  token_pair_free(&a);
  token_pair_free(&b);
}

static void test_revoke_user(void **state)
{
  db_t *db = db_get();
  struct token_pair a, b, out;
  assert_int_equal(tokens_issue_pair(UID, "Alice", NOW, &a), DRIVE_OK);
  assert_int_equal(tokens_issue_pair(UID, "Alice", NOW, &b), DRIVE_OK);
  assert_int_equal(tokens_revoke_user(db, UID), DRIVE_OK);
  assert_int_equal(tokens_rotate(a.refresh, NOW + 1, &out), DRIVE_REUSED);
  assert_int_equal(tokens_rotate(b.refresh, NOW + 1, &out), DRIVE_REUSED);
  token_pair_free(&a);
  token_pair_free(&b);
}

static void test_expired_rows_pruned_at_issue(void **state)
{
  struct token_pair p;
  int64_t later = NOW + 30 * 86400; /* every earlier refresh token has expired */
  assert_int_equal(tokens_issue_pair(UID, "Alice", later, &p), DRIVE_OK);
  assert_int_equal(count("SELECT COUNT(*) FROM refresh_tokens"), 1);
  token_pair_free(&p);
}

static void test_single_use(void **state)
{
  db_t *db = db_get();
  char *tok = NULL;
  struct token_claims c;
  assert_int_equal(token_sign(TOKEN_VERIFY, UID, "Alice", NOW, &tok, NULL), 0);
  assert_int_equal(token_verify(TOKEN_VERIFY, tok, NOW, &c), DRIVE_OK);
  assert_int_equal(tokens_spend(db, &c, NOW), DRIVE_OK);
  assert_int_equal(tokens_spend(db, &c, NOW + 5), DRIVE_BAD_LINK);
  /* Spent rows are forgotten once the token could not verify anyway. */
  assert_int_equal(count("SELECT COUNT(*) FROM used_tokens"), 1);
  struct token_claims other = c;
  strcpy(other.jti, "CCCCCCCCCCCCCCCCCCCCCC");
  assert_int_equal(tokens_spend(db, &other, NOW + 24 * 3600 + 1), DRIVE_OK);
  assert_int_equal(count("SELECT COUNT(*) FROM used_tokens"), 1);
  free(tok);
}

static void test_deleted_user(void **state)
{
  db_t *db = db_get();
  struct token_pair p, out;
  assert_int_equal(tokens_issue_pair(UID, "Alice", NOW, &p), DRIVE_OK);
  assert_int_equal(db_exec(db, "DELETE FROM users WHERE id = $1", "t", UID), DB_OK);
  assert_int_equal(tokens_rotate(p.refresh, NOW + 1, &out), DRIVE_BAD_TOKEN);
  token_pair_free(&p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sign_verify_roundtrip),
    cmocka_unit_test(test_lifetimes),
    cmocka_unit_test(test_each_route_takes_only_its_typ),
    cmocka_unit_test(test_expiry),
    cmocka_unit_test(test_forged_and_tampered),
    cmocka_unit_test(test_missing_claims),
    cmocka_unit_test(test_rotation_and_reuse),
    cmocka_unit_test(test_rotation_expired_and_unknown),
    cmocka_unit_test(test_logout_revokes_one),
    cmocka_unit_test(test_revoke_user),
    cmocka_unit_test(test_expired_rows_pruned_at_issue),
    cmocka_unit_test(test_single_use),
    cmocka_unit_test(test_deleted_user),
  };
  return cmocka_run_group_tests(tests, setup_db, teardown_db);
}
