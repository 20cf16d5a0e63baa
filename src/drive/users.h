/* users: accounts (API §3): signup, lookup, password login with
 * throttling, email verification and password reset, and the mails that go
 * with them. Passwords are stored as Argon2id hashes (libsodium).
 *
 * Callers validate the field syntax (util/validate.h) before calling in;
 * this module owns the rules about accounts themselves. */
#ifndef NETRA_USERS_H
#define NETRA_USERS_H
#include <stdbool.h>
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"

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
  int addr_max_requests;     /* signups, and forgot-passwords, per client address ... */
  int addr_window_s;         /* ... within this many seconds (each its own count) */
  const char *public_url;    /* base of the links in mails (kept by pointer) */
  bool require_verification; /* new accounts start unverified and get a mail */
};

/** Prepares the module (throttle tables, the dummy hash that keeps logins
 *  of unknown accounts as slow as real ones). Returns 0 or -1. */
int users_init(const struct users_options *o);
/** Frees what users_init made. */
void users_shutdown(void);

/** Creates an account. Unless verification is required it is verified at
 *  once; otherwise a verification mail is queued. DRIVE_OK (filling *out),
 *  DRIVE_USERNAME_TAKEN, DRIVE_EMAIL_TAKEN, DRIVE_INTERNAL or a database fault. */
int users_signup(const char *username, const char *email, const char *password,
                 struct user *out);

/** Loads a user by id. DRIVE_OK, DRIVE_NOT_FOUND or a database fault. */
int users_get(const char *id, struct user *out);

/** Checks a login (`login` is the username or the email, any case) from
 *  `client_addr`. DRIVE_OK (filling *out), DRIVE_BAD_CREDENTIALS,
 *  DRIVE_UNVERIFIED, DRIVE_THROTTLED (seconds to wait in *retry_after) or a
 *  db error. Failures count against the account and the address; a success
 *  clears the account's count. */
int users_login(const char *login, const char *password, const char *client_addr,
                struct user *out, int *retry_after);

/** A second kind of secret users_login_alt accepts for the account `u`
 *  (found by its login): DRIVE_OK when `secret` is one, DRIVE_NOT_FOUND when
 *  not, or a fault. */
typedef int (*users_alt_fn)(const struct user *u, const char *secret, void *arg);

/** users_login, where `secret` may also be one `alt` accepts (WebDAV's app
 *  passwords, drive/davcred.c): tried first, then the account password, with
 *  the same throttling, counting and answers. */
int users_login_alt(const char *login, const char *secret, const char *client_addr,
                    users_alt_fn alt, void *alt_arg, struct user *out, int *retry_after);

/** Counts one `action` ("signup", "forgot") from `client_addr` against the
 *  per-address limit. DRIVE_OK, or DRIVE_THROTTLED with the seconds to wait
 *  in *retry_after once the address has used up its window. */
int users_count_request(const char *action, const char *client_addr, int *retry_after);

/** Spends a verify token and marks its user verified. DRIVE_OK,
 *  DRIVE_BAD_LINK or a database fault. */
int users_verify_email(const char *token);

/** Queues a new verification mail when `email` belongs to an unverified
 *  account (and verification is on). DRIVE_OK whether or not a mail went out
 *  (the caller must not reveal which), or a database fault. */
int users_resend_verification(const char *email);

/** Queues a password-reset mail when `email` belongs to an account.
 *  DRIVE_OK whether or not a mail went out, or a database fault. */
int users_forgot_password(const char *email);

/** Spends a reset token and sets the new password; the account counts as
 *  verified (the link proved the mailbox) and all its refresh tokens are
 *  revoked. DRIVE_OK, DRIVE_BAD_LINK, DRIVE_INTERNAL or a database fault. */
int users_reset_password(const char *token, const char *new_password);

/** Hashes a password (Argon2id, parameters in users.c) into `out`, which
 *  must hold USERS_HASH_MAX bytes. Returns 0 or -1. */
#define USERS_HASH_MAX 128
int users_hash_password(const char *password, char out[USERS_HASH_MAX]);

/** Checks a password against a stored hash in constant time. */
bool users_check_password(const char *hash, const char *password);

#endif
