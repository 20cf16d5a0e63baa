/* tokens: the JWTs NetraDrive hands out (API §3) and their server-side state.
 *
 * Every token is HS256 with claims typ, sub (user id), username, iat, exp and
 * jti, and each use checks its own typ, so a refresh token is never accepted
 * as an access token and so on. Access tokens are stateless. Refresh tokens
 * have one row each in refresh_tokens; a refresh rotates (the old row is
 * revoked, a new one joins the same family) and presenting a revoked one
 * again revokes its whole family, since one of the two holders must be a
 * thief. Verify and reset tokens are single use: their jti is recorded in
 * used_tokens in the same transaction as their effect. Of the reset tokens
 * only the newest mailed works (users.reset_jti, checked in drive/users.c). */
#ifndef NETRA_TOKENS_H
#define NETRA_TOKENS_H
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"

enum token_type { TOKEN_ACCESS = 0, TOKEN_REFRESH, TOKEN_VERIFY, TOKEN_RESET };

/** Lifetimes of the single-use tokens. */
#define TOKEN_VERIFY_TTL_S (24 * 3600)
#define TOKEN_RESET_TTL_S (15 * 60)

/** The claims of a verified token. */
struct token_claims {
  enum token_type typ;
  char sub[ID_LEN + 1];
  char username[40]; /* usernames are at most 32 bytes */
  char jti[64]; /* ours are ID_LEN; other signers may use longer ones */
  int64_t iat; /* seconds since the epoch */
  int64_t exp;
};

/** A freshly issued access + refresh token (malloc'd; token_pair_free). */
struct token_pair {
  char *access;
  char *refresh;
};

/** Sets the signing secret (kept by pointer: it must outlive every call) and
 *  the access and refresh lifetimes in seconds. Call once before use. */
void tokens_init(const char *secret, int64_t access_ttl_s, int64_t refresh_ttl_s);

/** The lifetime in seconds of tokens of type `typ`. */
int64_t token_ttl(enum token_type typ);

/** Signs a token of type `typ` for the user, valid from `now_s` for
 *  token_ttl(typ). Stores a malloc'd token in *out and, when `claims` is
 *  non-NULL, what it says. Returns 0 or -1. */
int token_sign(enum token_type typ, const char *user_id, const char *username, int64_t now_s,
               char **out, struct token_claims *claims);

/** Checks signature, alg (HS256 only), typ, expiry and the presence of every
 *  claim. Returns DRIVE_OK (filling *out), DRIVE_BAD_TOKEN or DRIVE_EXPIRED.
 *  Touches no database: single-use and revocation are checked elsewhere. */
int token_verify(enum token_type typ, const char *token, int64_t now_s, struct token_claims *out);

/** Issues an access + refresh pair at login, starting a new refresh family.
 *  DRIVE_OK or a database fault. */
int tokens_issue_pair(const char *user_id, const char *username, int64_t now_s,
                      struct token_pair *out);

/** Trades a refresh token for a new pair (rotation). DRIVE_OK, DRIVE_BAD_TOKEN,
 *  DRIVE_EXPIRED, DRIVE_REUSED (family revoked) or a database fault. The new access
 *  token carries the user's current username. */
int tokens_rotate(const char *refresh_token, int64_t now_s, struct token_pair *out);

/** Revokes one refresh token (logout). Revoking an already revoked token is
 *  fine. DRIVE_OK, DRIVE_BAD_TOKEN, DRIVE_EXPIRED or a database fault. */
int tokens_revoke(const char *refresh_token, int64_t now_s);

/** Revokes every refresh token of a user (password reset). Runs inside the
 *  caller's transaction. DRIVE_OK or a database fault. */
int tokens_revoke_user(db_t *db, const char *user_id);

/** Spends a single-use token inside the caller's transaction. DRIVE_OK the
 *  first time, DRIVE_BAD_LINK afterwards, or a database fault. Also forgets spent
 *  tokens that have expired anyway. */
int tokens_spend(db_t *db, const struct token_claims *c, int64_t now_s);

/** Forgets spent and refresh tokens that expired before `now_ms`. */
int tokens_forget_expired(db_t *db, int64_t now_ms);

/** Frees both tokens of a pair (and clears it). */
void token_pair_free(struct token_pair *p);

#endif
