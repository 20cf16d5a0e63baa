/* credcache: a short memory of verified WebDAV credentials, so a mounted
 * drive does not pay an Argon2id (or a database round trip) per request,
 * and of verified API access tokens, so an API request does not pay a
 * database round trip to learn its caller is still a valid account.
 *
 * An entry is keyed by a keyed hash (BLAKE2b with a random per-process key)
 * of the login and the secret: the secret itself is never kept, and the key
 * is useless outside this process. Entries live CREDCACHE_TTL_MS at most (an
 * access token's CREDCACHE_TOKEN_TTL_MS); the table is bounded
 * (CREDCACHE_SLOTS entries, set-associative, the entry closest to expiry
 * making room). Anything that voids a user's credentials (an app password
 * revoked, a password reset, the account deleted) calls
 * credcache_forget_user, which drops that user's entries at once; an epoch
 * counter keeps a check that was running meanwhile from putting a stale
 * entry back. Per process: other nodes hear of it through drive/cred_bus.h.
 * All functions are thread-safe and cheap (no database, no slow hashing), so
 * they may run on a poll thread. Times are time_mono_ms() milliseconds. */
#ifndef NETRA_CREDCACHE_H
#define NETRA_CREDCACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drive/users.h"

#define CREDCACHE_TTL_MS (60 * 1000)
/* Shorter for tokens: what the cache saves there is one indexed read, and
 * an account removed behind the server's back (no route does) stops
 * answering within seconds. */
#define CREDCACHE_TOKEN_TTL_MS (10 * 1000)
#define CREDCACHE_SLOTS 4096

/** True when `login`/`secret` was verified less than CREDCACHE_TTL_MS ago
 *  and not forgotten since; fills *out with the user it proved. */
bool credcache_get(const char *login, const char *secret, int64_t now_ms, struct user *out);

/** The current epoch: read it before a slow check, hand it to
 *  credcache_put after. */
uint64_t credcache_epoch(void);

/** Remembers that `login`/`secret` proved `u`, unless something was
 *  forgotten since `epoch` was read (the check may have raced a revoke). */
void credcache_put(const char *login, const char *secret, const struct user *u,
                   uint64_t epoch, int64_t now_ms);

/** The same for an API access token whose signature and expiry were checked
 *  (tokens.h): the user it was found to belong to less than
 *  CREDCACHE_TOKEN_TTL_MS ago, not forgotten since. A token is never a
 *  Basic credential, nor the other way round. */
bool credcache_token_get(const char *token, int64_t now_ms, struct user *out);
void credcache_token_put(const char *token, const struct user *u, uint64_t epoch,
                         int64_t now_ms);

/** Drops every entry of the user now (their credentials changed). */
void credcache_forget_user(const char *user_id);

/** Drops everything (tests). */
void credcache_clear(void);

/** Entries held and not expired at `now_ms` (tests, metrics). */
size_t credcache_size(int64_t now_ms);

#endif
