/* Unit tests for drive/davcred with drive/app_passwords on a real (throw-away
 * SQLite) domain: the account password and app passwords by username or
 * email in any case, the cache after a check (and not before), revocation,
 * password reset and another user's app password, the login throttle
 * counting WebDAV failures, app passwords refused by the plain login, the
 * rate of last_used_at writes, the cap and name rules. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sodium.h>
#include "drive/app_passwords.h"
#include "drive/credcache.h"
#include "drive/davcred.h"
#include "drive/tokens.h"
#include "drive/users.h"
#include "testdrive.h"

#define PW "correct horse battery"

/* A fresh verified account; its username is prefix + a counter. */
static struct user new_user(const char *prefix)
{
  static int n;
  char name[32], mail[64];
  struct user u;
  snprintf(name, sizeof(name), "%s%d", prefix, ++n);
  snprintf(mail, sizeof(mail), "%s@example.com", name);
  assert_int_equal(users_signup(name, mail, PW, &u), DRIVE_OK);
  return u;
}

static void new_app_password(const struct user *u, char secret[APP_PASSWORD_LEN + 1],
                             char id[ID_LEN + 1])
{
  struct app_password p;
  assert_int_equal(app_password_create(u->id, "test", &p, secret), DRIVE_OK);
  assert_int_equal(strlen(secret), APP_PASSWORD_LEN);
  snprintf(id, ID_LEN + 1, "%s", p.id);
}

static int check(const char *login, const char *secret, const char *addr, struct user *out)
{
  int retry = -1;
  int rc = davcred_check(login, secret, addr, out, &retry);
  if(rc != DRIVE_THROTTLED)
    assert_int_equal(retry, 0);
  else
    assert_true(retry > 0);
  return rc;
}

static void test_account_password(void **state)
{
  struct user u = new_user("acct"), out;
  char upper[64];
  assert_false(davcred_cached(u.username, PW, &out));
  assert_int_equal(check(u.username, PW, "10.0.0.1", &out), DRIVE_OK);
  assert_string_equal(out.id, u.id);
  /* Now cached, for that login and secret only. */
  memset(&out, 0, sizeof(out));
  assert_true(davcred_cached(u.username, PW, &out));
  assert_string_equal(out.id, u.id);
  assert_false(davcred_cached(u.username, PW "x", &out));
  assert_false(davcred_cached(u.email, PW, &out));
  /* Email and any case work through the slow path. */
  assert_int_equal(check(u.email, PW, "10.0.0.1", &out), DRIVE_OK);
  snprintf(upper, sizeof(upper), "%s", u.username);
  for(char *p = upper; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  assert_int_equal(check(upper, PW, "10.0.0.1", &out), DRIVE_OK);
  assert_string_equal(out.id, u.id);
  assert_int_equal(check(u.username, "wrong password", "10.0.0.1", &out),
                   DRIVE_BAD_CREDENTIALS);
  assert_int_equal(check("nobody-here", PW, "10.0.0.1", &out), DRIVE_BAD_CREDENTIALS);
}

static void test_app_password(void **state)
{
  struct user u = new_user("app"), out;
  char secret[APP_PASSWORD_LEN + 1], id[ID_LEN + 1];
  new_app_password(&u, secret, id);
  assert_int_equal(strncmp(secret, APP_PASSWORD_PREFIX, strlen(APP_PASSWORD_PREFIX)), 0);
  assert_false(davcred_cached(u.username, secret, &out));
  assert_int_equal(check(u.username, secret, "10.0.0.2", &out), DRIVE_OK);
  assert_string_equal(out.id, u.id);
  assert_true(davcred_cached(u.username, secret, &out));
  assert_int_equal(check(u.email, secret, "10.0.0.2", &out), DRIVE_OK);
  /* The secret is stored hashed only. */
  assert_int_equal(q_int("SELECT COUNT(*) FROM app_passwords WHERE secret_hash = $1", secret), 0);
  assert_int_equal(q_int("SELECT COUNT(*) FROM app_passwords WHERE user_id = $1", u.id), 1);
  /* Not a password for the plain login. */
  int retry;
  assert_int_equal(users_login(u.username, secret, "10.0.0.2", &out, &retry),
                   DRIVE_BAD_CREDENTIALS);
  /* Nor for another account. */
  struct user other = new_user("app");
  assert_int_equal(check(other.username, secret, "10.0.0.2", &out), DRIVE_BAD_CREDENTIALS);
  assert_false(davcred_cached(other.username, secret, &out));
}

static void test_revoke_is_immediate(void **state)
{
  struct user u = new_user("rev"), out;
  char s1[APP_PASSWORD_LEN + 1], s2[APP_PASSWORD_LEN + 1], id1[ID_LEN + 1], id2[ID_LEN + 1];
  new_app_password(&u, s1, id1);
  new_app_password(&u, s2, id2);
  assert_int_equal(check(u.username, s1, "10.0.0.3", &out), DRIVE_OK);
  assert_int_equal(check(u.username, s2, "10.0.0.3", &out), DRIVE_OK);
  assert_true(davcred_cached(u.username, s1, &out));
  struct user other = new_user("rev");
  assert_int_equal(app_password_delete(other.id, id1), DRIVE_NOT_FOUND); /* not theirs */
  assert_true(davcred_cached(u.username, s1, &out));
  assert_int_equal(app_password_delete(u.id, id1), DRIVE_OK);
  assert_false(davcred_cached(u.username, s1, &out));
  assert_int_equal(check(u.username, s1, "10.0.0.3", &out), DRIVE_BAD_CREDENTIALS);
  assert_int_equal(app_password_delete(u.id, id1), DRIVE_NOT_FOUND);
  /* The other one still works (re-checked: the user's entries were dropped). */
  assert_int_equal(check(u.username, s2, "10.0.0.3", &out), DRIVE_OK);
}

static void test_reset_forgets(void **state)
{
  struct user u = new_user("reset"), out;
  char *token = NULL;
  struct token_claims c;
  assert_int_equal(check(u.username, PW, "10.0.0.4", &out), DRIVE_OK);
  assert_true(davcred_cached(u.username, PW, &out));
  assert_int_equal(token_sign(TOKEN_RESET, u.id, u.username, time_now_ms() / 1000, &token, &c), 0);
  assert_int_equal(db_exec(db_get(), "UPDATE users SET reset_jti = $1 WHERE id = $2", "tt", c.jti,
                           u.id), DB_OK);
  assert_int_equal(users_reset_password(token, "a brand new password"), DRIVE_OK);
  free(token);
  assert_false(davcred_cached(u.username, PW, &out));
  assert_int_equal(check(u.username, PW, "10.0.0.4", &out), DRIVE_BAD_CREDENTIALS);
  assert_int_equal(check(u.username, "a brand new password", "10.0.0.4", &out), DRIVE_OK);
}

/* testdrive allows 5 failures per account or address in 15 minutes. */
static void test_throttle(void **state)
{
  struct user u = new_user("thr"), out;
  char secret[APP_PASSWORD_LEN + 1], id[ID_LEN + 1];
  new_app_password(&u, secret, id);
  for(int i = 0; i < 5; i++)
    assert_int_equal(check(u.username, "ndav_guessguessguessguessguessguessgu", "10.0.1.1",
                           &out), DRIVE_BAD_CREDENTIALS);
  /* Locked: even the right secrets wait, from any address, via any name. */
  assert_int_equal(check(u.username, secret, "10.0.1.2", &out), DRIVE_THROTTLED);
  assert_int_equal(check(u.email, PW, "10.0.1.3", &out), DRIVE_THROTTLED);
  /* The plain login shares the count. */
  int retry;
  assert_int_equal(users_login(u.username, PW, "10.0.1.4", &out, &retry), DRIVE_THROTTLED);
  assert_true(retry > 0);
  /* Failures never enter the cache. */
  assert_false(davcred_cached(u.username, secret, &out));
}

static void test_last_used(void **state)
{
  struct user u = new_user("used"), out;
  char secret[APP_PASSWORD_LEN + 1], id[ID_LEN + 1];
  new_app_password(&u, secret, id);
  assert_true(q_int("SELECT COUNT(*) FROM app_passwords WHERE id = $1 AND last_used_at IS NULL",
                    id) == 1);
  int64_t before = time_now_ms();
  assert_int_equal(check(u.username, secret, "10.0.0.5", &out), DRIVE_OK);
  int64_t used = q_int("SELECT last_used_at FROM app_passwords WHERE id = $1", id);
  assert_true(used >= before && used <= time_now_ms());
  /* Within the minute, a new check writes nothing. */
  credcache_forget_user(u.id);
  assert_int_equal(check(u.username, secret, "10.0.0.5", &out), DRIVE_OK);
  assert_int_equal(q_int("SELECT last_used_at FROM app_passwords WHERE id = $1", id), used);
  /* A minute later it does. */
  app_password_touch(id, used + 60000);
  assert_int_equal(q_int("SELECT last_used_at FROM app_passwords WHERE id = $1", id),
                   used + 60000);
  /* The account password leaves it alone. */
  assert_int_equal(check(u.username, PW, "10.0.0.5", &out), DRIVE_OK);
  assert_int_equal(q_int("SELECT last_used_at FROM app_passwords WHERE id = $1", id),
                   used + 60000);
}

static void test_cap(void **state)
{
  struct user u = new_user("cap");
  char secret[APP_PASSWORD_LEN + 1], id[ID_LEN + 1], first[ID_LEN + 1];
  struct app_password p;
  for(int i = 0; i < APP_PASSWORDS_MAX; i++) {
    new_app_password(&u, secret, id);
    if(i == 0)
      memcpy(first, id, sizeof(first));
  }
  assert_int_equal(app_password_create(u.id, "more", &p, secret), DRIVE_CONFLICT);
  assert_int_equal(q_int("SELECT COUNT(*) FROM app_passwords WHERE user_id = $1", u.id),
                   APP_PASSWORDS_MAX);
  assert_int_equal(app_password_delete(u.id, first), DRIVE_OK);
  assert_int_equal(app_password_create(u.id, "more", &p, secret), DRIVE_OK);
}

static void test_names(void **state)
{
  char out[APP_PASSWORD_NAME_BYTES + 1], big[600];
  assert_null(app_password_name_check("  rclone  ", out));
  assert_string_equal(out, "rclone");
  assert_string_equal(app_password_name_check("   ", out), "Name must not be empty");
  assert_string_equal(app_password_name_check("a\tb", out),
                      "Name must not contain control characters");
  assert_string_equal(app_password_name_check("a\xc2\x85", out),
                      "Name must not contain control characters");
  assert_string_equal(app_password_name_check("\xff", out), "Name must be valid UTF-8");
  /* 100 four-byte characters fit; 101 do not. */
  for(int i = 0; i < 101; i++)
    memcpy(big + 4 * i, "\xf0\x9f\x93\x81", 4);
  big[400] = 0;
  assert_null(app_password_name_check(big, out));
  assert_int_equal(strlen(out), 400);
  big[400] = (char)0xf0;
  big[404] = 0;
  assert_string_equal(app_password_name_check(big, out), "Name must be at most 100 characters");
}

static int setup(void **state)
{
  return testdrive_start("davcred", 1 << 20, false);
}

static int teardown(void **state)
{
  testdrive_stop();
  return 0;
}

int main(void)
{
  if(sodium_init() < 0)
    return 1;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_account_password),
    cmocka_unit_test(test_app_password),
    cmocka_unit_test(test_revoke_is_immediate),
    cmocka_unit_test(test_reset_forgets),
    cmocka_unit_test(test_throttle),
    cmocka_unit_test(test_last_used),
    cmocka_unit_test(test_cap),
    cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
