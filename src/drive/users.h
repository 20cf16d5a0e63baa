/* users: accounts (SPEC §3): signup, lookup, password login with
 * throttling, email verification and password reset, and the mails that go
 * with them. Passwords are stored as Argon2id hashes (libsodium).
 *
 * Callers validate the field syntax (util/validate.h) before calling in;
 * this module owns the rules about accounts themselves. */
#ifndef NETRA_USERS_H
#define NETRA_USERS_H
#include <stdbool.h>
#include <stdint.h>
#include "db/db.h"
#include "util/id.h"

/* Results. Negative values are db.h errors (DB_ERROR, DB_UNAVAILABLE). */
enum {
  USERS_OK = 0,
  USERS_NOT_FOUND = 1,
  USERS_DUP_USERNAME = 2,
  USERS_DUP_EMAIL = 3,
  USERS_BAD_CREDENTIALS = 4, /* unknown account or wrong password */
  USERS_UNVERIFIED = 5,      /* right password, email not verified yet */
  USERS_THROTTLED = 6,       /* too many recent failures */
  USERS_BAD_TOKEN = 7,       /* invalid, expired or already used link token */
  USERS_INTERNAL = 8         /* hashing or signing failed (logged) */
};

struct user {
  char id[ID_LEN + 1];
  char username[40]; /* usernames are at most 32 bytes */
  char email[256];
  bool is_verified;
  int64_t created_at; /* ms since the epoch */
  int64_t sessions_after; /* s: tokens issued earlier are void (password reset) */
};

struct users_options {
  int login_max_failures;    /* per account and per client address ... */
  int login_window_s;        /* ... within this many seconds */
  const char *public_url;    /* base of the links in mails (kept by pointer) */
  bool require_verification; /* new accounts start unverified and get a mail */
};

/** Prepares the module (throttle tables, the dummy hash that keeps logins
 *  of unknown accounts as slow as real ones). Returns 0 or -1. */
int users_init(const struct users_options *o);
/** Frees what users_init made. */
void users_shutdown(void);

/** Creates an account. Unless verification is required it is verified at
 *  once; otherwise a verification mail is queued. USERS_OK (filling *out),
 *  USERS_DUP_USERNAME, USERS_DUP_EMAIL, USERS_INTERNAL or a db error. */
int users_signup(db_t *db, const char *username, const char *email, const char *password,
                 struct user *out);

/** Loads a user by id. USERS_OK, USERS_NOT_FOUND or a db error. */
int users_get(db_t *db, const char *id, struct user *out);

/** Checks a login (`login` is the username or the email, any case) from
 *  `client_addr`. USERS_OK (filling *out), USERS_BAD_CREDENTIALS,
 *  USERS_UNVERIFIED, USERS_THROTTLED (seconds to wait in *retry_after) or a
 *  db error. Failures count against the account and the address; a success
 *  clears the account's count. */
int users_login(db_t *db, const char *login, const char *password, const char *client_addr,
                struct user *out, int *retry_after);

/** Spends a verify token and marks its user verified. USERS_OK,
 *  USERS_BAD_TOKEN or a db error. */
int users_verify_email(db_t *db, const char *token);

/** Queues a new verification mail when `email` belongs to an unverified
 *  account (and verification is on). USERS_OK whether or not a mail went out
 *  (the caller must not reveal which), or a db error. */
int users_resend_verification(db_t *db, const char *email);

/** Queues a password-reset mail when `email` belongs to an account.
 *  USERS_OK whether or not a mail went out, or a db error. */
int users_forgot_password(db_t *db, const char *email);

/** Spends a reset token and sets the new password; the account counts as
 *  verified (the link proved the mailbox) and all its refresh tokens are
 *  revoked. USERS_OK, USERS_BAD_TOKEN, USERS_INTERNAL or a db error. */
int users_reset_password(db_t *db, const char *token, const char *new_password);

/** Hashes a password (Argon2id, parameters in users.c) into `out`, which
 *  must hold USERS_HASH_MAX bytes. Returns 0 or -1. */
#define USERS_HASH_MAX 128
int users_hash_password(const char *password, char out[USERS_HASH_MAX]);

/** Checks a password against a stored hash in constant time. */
bool users_check_password(const char *hash, const char *password);

#endif
