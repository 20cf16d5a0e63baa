/* davcred: for now the account password only and no cache; app passwords
 * and the cache of verified credentials come next (issue 15). */
#include "drive/davcred.h"

bool davcred_cached(const char *login, const char *secret, struct user *out) {
  (void)login;
  (void)secret;
  (void)out;
  return false;
}

int davcred_check(const char *login, const char *secret, const char *client_addr,
                  struct user *out, int *retry_after) {
  return users_login(login, secret, client_addr, out, retry_after);
}
