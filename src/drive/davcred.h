/* davcred: checks the credentials of a WebDAV request (HTTP Basic): an app
 * password of the account, else the account's own password, with a short
 * cache of verified credentials so a mount does not pay an Argon2id per
 * request. Failures count in the login throttle like a login's. */
#ifndef NETRA_DAVCRED_H
#define NETRA_DAVCRED_H
#include <stdbool.h>
#include "drive/users.h"

/** Fast path, safe on a poll thread (no hashing, no database): true when
 *  `login`/`secret` was verified recently and still stands, filling *out. */
bool davcred_cached(const char *login, const char *secret, struct user *out);

/** Full check; slow (Argon2id), so callers run it off the poll threads
 *  (http_defer). DRIVE_OK (filling *out), DRIVE_BAD_CREDENTIALS,
 *  DRIVE_UNVERIFIED, DRIVE_THROTTLED (seconds in *retry_after) or a
 *  database fault. */
int davcred_check(const char *login, const char *secret, const char *client_addr,
                  struct user *out, int *retry_after);

#endif
