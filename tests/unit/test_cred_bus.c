/* Unit test for drive/cred_bus on PostgreSQL: a revocation notified on the
 * channel reaches the listener, which forgets that user's cached WebDAV
 * credentials (and only theirs), as another node's would. Needs a cluster:
 * NETRADRIVE_PG_URL (postgresql://user@host:port, as tools/test.sh sets);
 * skipped without one. On SQLite the bus does nothing, also checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include "db/db.h"
#include "drive/cred_bus.h"
#include "drive/credcache.h"
#include "util/id.h"
#include "util/timefmt.h"

static struct user mk_user(void)
{
  struct user u;
  memset(&u, 0, sizeof(u));
  id_new(u.id);
  snprintf(u.username, sizeof(u.username), "u%.8s", u.id);
  return u;
}

static void test_sqlite_is_local(void **state)
{
  char dir[] = "/tmp/netra-test-credbus-XXXXXX", url[128], err[256];
  assert_non_null(mkdtemp(dir));
  snprintf(url, sizeof(url), "sqlite://%s/t.db", dir);
  assert_int_equal(db_init(url, err, sizeof(err)), 0);
  assert_int_equal(cred_bus_start(), 0);   /* nothing to start */
  struct user a = mk_user(), out;
  credcache_put("a", "pw", &a, credcache_epoch(), time_mono_ms());
  cred_bus_notify(a.id);                   /* nobody to tell */
  assert_true(credcache_get("a", "pw", time_mono_ms(), &out));
  cred_bus_forget_user(a.id);
  assert_false(credcache_get("a", "pw", time_mono_ms(), &out));
  cred_bus_stop();
  db_shutdown();
  char cmd[96];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_postgres_round_trip(void **state)
{
  const char *base = getenv("NETRADRIVE_PG_URL");
  if(!base || !*base)
    skip();
  char name[40], cmd[512], url[400], err[256], tok[16];
  id_token(tok, 6, sizeof(tok));
  for(char *p = tok; *p; p++)
    if(*p == '-' || *p == '_')
      *p = 'x';
  snprintf(name, sizeof(name), "credbus_%s", tok);
  for(char *p = name; *p; p++)
    if(*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  snprintf(cmd, sizeof(cmd), "psql -X -q -d '%s/postgres' -c 'CREATE DATABASE %s' </dev/null",
           base, name);
  assert_int_equal(system(cmd), 0);
  snprintf(url, sizeof(url), "%s/%s", base, name);
  assert_int_equal(db_init(url, err, sizeof(err)), 0);
  assert_int_equal(cred_bus_start(), 0);

  struct user a = mk_user(), b = mk_user(), out;
  credcache_put("a", "pw", &a, credcache_epoch(), time_mono_ms());
  credcache_put("b", "pw", &b, credcache_epoch(), time_mono_ms());
  /* As another node would send it: only the notification. */
  cred_bus_notify(a.id);
  int64_t end = time_mono_ms() + 3000;
  while(credcache_get("a", "pw", time_mono_ms(), &out) && time_mono_ms() < end)
    usleep(10000);
  assert_false(credcache_get("a", "pw", time_mono_ms(), &out));
  assert_true(credcache_get("b", "pw", time_mono_ms(), &out));
  assert_string_equal(out.id, b.id);
  /* Garbage on the channel is ignored. */
  cred_bus_notify("not an id");
  usleep(200000);
  assert_true(credcache_get("b", "pw", time_mono_ms(), &out));

  cred_bus_stop();
  db_shutdown();
  snprintf(cmd, sizeof(cmd), "psql -X -q -d '%s/postgres' -c 'DROP DATABASE %s' </dev/null",
           base, name);
  if(system(cmd) != 0)
    fprintf(stderr, "could not drop %s\n", name);
}

int main(void)
{
  if(sodium_init() < 0)
    return 1;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sqlite_is_local),
    cmocka_unit_test(test_postgres_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
