/* Unit tests for drive/credcache: hits only for the exact login and secret,
 * expiry after the TTL, forgetting a user at once (and only that user), the
 * epoch that keeps a check racing a revoke out of the cache, access tokens
 * kept apart from Basic credentials, the bound on entries, and many
 * threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include "drive/credcache.h"

#define T0 1000000LL

static struct user mk_user(const char *id, const char *name)
{
  struct user u;
  memset(&u, 0, sizeof(u));
  snprintf(u.id, sizeof(u.id), "%s", id);
  snprintf(u.username, sizeof(u.username), "%s", name);
  u.is_verified = true;
  return u;
}

static int reset(void **state)
{
  credcache_clear();
  return 0;
}

static void test_hit_and_miss(void **state)
{
  struct user a = mk_user("AAAAAAAAAAAAAAAAAAAAAA", "alice"), out;
  assert_false(credcache_get("alice", "secret", T0, &out));
  credcache_put("alice", "secret", &a, credcache_epoch(), T0);
  memset(&out, 0, sizeof(out));
  assert_true(credcache_get("alice", "secret", T0 + 1, &out));
  assert_string_equal(out.id, a.id);
  assert_string_equal(out.username, "alice");
  /* Anything else misses: another secret, another login, a shifted split. */
  assert_false(credcache_get("alice", "secreT", T0, &out));
  assert_false(credcache_get("alice", "secret ", T0, &out));
  assert_false(credcache_get("alice", "", T0, &out));
  assert_false(credcache_get("bob", "secret", T0, &out));
  assert_false(credcache_get("alic", "esecret", T0, &out));
  assert_false(credcache_get("alices", "ecret", T0, &out));
  assert_int_equal(credcache_size(T0), 1);
}

static void test_expires(void **state)
{
  struct user a = mk_user("AAAAAAAAAAAAAAAAAAAAAA", "alice"), out;
  credcache_put("alice", "pw", &a, credcache_epoch(), T0);
  assert_true(credcache_get("alice", "pw", T0 + CREDCACHE_TTL_MS - 1, &out));
  assert_false(credcache_get("alice", "pw", T0 + CREDCACHE_TTL_MS, &out));
  assert_int_equal(credcache_size(T0 + CREDCACHE_TTL_MS), 0);
  /* A put again renews it. */
  credcache_put("alice", "pw", &a, credcache_epoch(), T0 + CREDCACHE_TTL_MS);
  assert_true(credcache_get("alice", "pw", T0 + 2 * CREDCACHE_TTL_MS - 1, &out));
}

static void test_forget_user(void **state)
{
  struct user a = mk_user("AAAAAAAAAAAAAAAAAAAAAA", "alice");
  struct user b = mk_user("BBBBBBBBBBBBBBBBBBBBBB", "bob"), out;
  credcache_put("alice", "pw1", &a, credcache_epoch(), T0);
  credcache_put("alice@example.com", "pw2", &a, credcache_epoch(), T0);
  credcache_put("bob", "pw3", &b, credcache_epoch(), T0);
  assert_int_equal(credcache_size(T0), 3);
  credcache_forget_user(a.id);
  assert_false(credcache_get("alice", "pw1", T0, &out));
  assert_false(credcache_get("alice@example.com", "pw2", T0, &out));
  assert_true(credcache_get("bob", "pw3", T0, &out));
  assert_string_equal(out.id, b.id);
  assert_int_equal(credcache_size(T0), 1);
}

/* An access token: its own lifetime, forgotten with its user, and never
 * taken for a Basic credential (nor one for it) whatever the login. */
static void test_tokens(void **state)
{
  struct user a = mk_user("AAAAAAAAAAAAAAAAAAAAAA", "alice"), out;
  credcache_token_put("tok.en", &a, credcache_epoch(), T0);
  assert_true(credcache_token_get("tok.en", T0 + CREDCACHE_TOKEN_TTL_MS - 1, &out));
  assert_string_equal(out.id, a.id);
  assert_false(credcache_token_get("tok.en", T0 + CREDCACHE_TOKEN_TTL_MS, &out));
  assert_false(credcache_token_get("tok.e", T0, &out));
  assert_false(credcache_get("", "tok.en", T0, &out));
  assert_false(credcache_get("alice", "tok.en", T0, &out));
  credcache_put("", "pw", &a, credcache_epoch(), T0);
  assert_false(credcache_token_get("pw", T0, &out));
  credcache_forget_user(a.id);
  assert_false(credcache_token_get("tok.en", T0, &out));
  uint64_t before = credcache_epoch();
  credcache_forget_user(a.id);
  credcache_token_put("tok.en", &a, before, T0);
  assert_false(credcache_token_get("tok.en", T0, &out));
}

/* A check that read the epoch before a revoke must not cache its result. */
static void test_epoch_race(void **state)
{
  struct user a = mk_user("AAAAAAAAAAAAAAAAAAAAAA", "alice"), out;
  uint64_t before = credcache_epoch();
  credcache_forget_user(a.id);           /* the revoke lands mid-check */
  credcache_put("alice", "pw", &a, before, T0);
  assert_false(credcache_get("alice", "pw", T0, &out));
  credcache_put("alice", "pw", &a, credcache_epoch(), T0);
  assert_true(credcache_get("alice", "pw", T0, &out));
}

/* Many distinct credentials: the table never holds more than its slots, and
 * the newest entry is always there. */
static void test_bounded(void **state)
{
  struct user a = mk_user("AAAAAAAAAAAAAAAAAAAAAA", "alice"), out;
  char secret[32];
  for(int i = 0; i < 3 * CREDCACHE_SLOTS; i++) {
    snprintf(secret, sizeof(secret), "s%d", i);
    credcache_put("alice", secret, &a, credcache_epoch(), T0 + i);
    assert_true(credcache_get("alice", secret, T0 + i, &out));
  }
  size_t n = credcache_size(T0 + 3 * CREDCACHE_SLOTS);
  assert_true(n <= CREDCACHE_SLOTS);
  assert_true(n > CREDCACHE_SLOTS / 2); /* set-associative: most slots in use */
  credcache_forget_user(a.id);
  assert_int_equal(credcache_size(T0), 0);
}

struct worker {
  int n;
  int hits;
};

static void *worker_run(void *arg)
{
  struct worker *w = arg;
  char login[32], id[32];
  struct user out;
  snprintf(login, sizeof(login), "user%d", w->n);
  snprintf(id, sizeof(id), "%022d", w->n);
  struct user u = mk_user(id, login);
  for(int i = 0; i < 2000; i++) {
    credcache_put(login, "pw", &u, credcache_epoch(), T0);
    if(credcache_get(login, "pw", T0, &out)) {
      /* Never another user's entry. */
      if(strcmp(out.id, id) != 0)
        return NULL;
      w->hits++;
    }
    if(i % 100 == 0)
      credcache_forget_user(id);
  }
  return w;
}

static void test_threads(void **state)
{
  pthread_t t[8];
  struct worker w[8];
  for(int i = 0; i < 8; i++) {
    w[i] = (struct worker){i, 0};
    assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
  }
  for(int i = 0; i < 8; i++) {
    void *ret;
    pthread_join(t[i], &ret);
    assert_ptr_equal(ret, &w[i]);
    assert_true(w[i].hits > 0);
  }
}

int main(void)
{
  if(sodium_init() < 0)
    return 1;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_hit_and_miss, reset),
    cmocka_unit_test_setup(test_expires, reset),
    cmocka_unit_test_setup(test_forget_user, reset),
    cmocka_unit_test_setup(test_epoch_race, reset),
    cmocka_unit_test_setup(test_tokens, reset),
    cmocka_unit_test_setup(test_bounded, reset),
    cmocka_unit_test_setup(test_threads, reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
