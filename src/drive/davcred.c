/* davcred: see davcred.h. The slow path is users_login_alt with the app
 * passwords of the account as its cheap first try, so both kinds of secret
 * share the login's throttle, counters and answers; what it verifies goes
 * into the credential cache (drive/credcache.h) for the fast path. */
#include <string.h>
#include "drive/app_passwords.h"
#include "drive/credcache.h"
#include "drive/davcred.h"
#include "util/timefmt.h"

/* What the app-password try found, for the use to record. */
struct davcred_try {
  char id[ID_LEN + 1];
};

static int davcred_app_password(const struct user *u, const char *secret, void *arg)
{
  struct davcred_try *t = arg;
  return app_password_match(u->id, secret, t->id);
}

bool davcred_cached(const char *login, const char *secret, struct user *out)
{
  return credcache_get(login, secret, time_mono_ms(), out);
}

int davcred_check(const char *login, const char *secret, const char *client_addr,
                  struct user *out, int *retry_after)
{
  struct davcred_try t = {""};
  /* Read before the check: a revoke that lands while it runs keeps its
   * result out of the cache. */
  uint64_t epoch = credcache_epoch();
  int rc = users_login_alt(login, secret, client_addr, davcred_app_password, &t, out,
                           retry_after);
  if(rc != DRIVE_OK)
    return rc;
  credcache_put(login, secret, out, epoch, time_mono_ms());
  /* Cached for a minute, so this runs about once a minute per client. */
  if(t.id[0])
    app_password_touch(t.id, time_now_ms());
  return DRIVE_OK;
}
