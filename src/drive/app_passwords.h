/* app_passwords: the app_passwords table (SPEC §13, issue 15). An app
 * password is a random secret a user makes for one WebDAV client (a mount,
 * an rclone remote), shown once, revocable on its own, and accepted only by
 * WebDAV (drive/davcred.c), never by the login routes.
 *
 * Secrets carry 192 random bits, so they are stored as a fast keyed hash
 * (BLAKE2b keyed with a key derived from the server secret) rather than
 * Argon2id: nobody can guess such a secret from its hash even without the
 * key, and the check costs a single indexed lookup (docs/DECISIONS.md). */
#ifndef NETRA_APP_PASSWORDS_H
#define NETRA_APP_PASSWORDS_H
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"

#define APP_PASSWORDS_MAX 50          /* per user */
#define APP_PASSWORD_NAME_MAX 100     /* characters (code points) */
#define APP_PASSWORD_NAME_BYTES 400   /* 100 code points of at most 4 bytes */
/* "ndav_" and 32 base64url characters (24 random bytes). */
#define APP_PASSWORD_PREFIX "ndav_"
#define APP_PASSWORD_LEN 37

struct app_password {
  char id[ID_LEN + 1];
  char name[APP_PASSWORD_NAME_BYTES + 1];
  int64_t created_at;    /* ms since the epoch */
  int64_t last_used_at;  /* ms since the epoch; 0 = never used */
};

/** Derives the hashing key from the server secret (not kept). Call before
 *  anything else; the same secret gives the same key on every node. */
void app_passwords_init(const char *server_secret);

/** Checks and normalises a name: trimmed of ASCII spaces, strict UTF-8 in
 *  NFC, 1..APP_PASSWORD_NAME_MAX characters, no control characters. Writes
 *  the clean form to out (APP_PASSWORD_NAME_BYTES + 1 bytes) and returns
 *  NULL, or returns a sentence saying what is wrong. */
const char *app_password_name_check(const char *name, char out[APP_PASSWORD_NAME_BYTES + 1]);

/** Makes an app password named `name` (already checked) for the user:
 *  fills *out and the secret (APP_PASSWORD_LEN + 1 bytes; shown once, never
 *  stored). DRIVE_OK, DRIVE_CONFLICT when the user already has
 *  APP_PASSWORDS_MAX, or a fault. */
int app_password_create(const char *user_id, const char *name, struct app_password *out,
                        char secret[APP_PASSWORD_LEN + 1]);

/** Calls `each` for every app password of the user, newest first, until it
 *  returns non-zero (that value is returned). DRIVE_OK or a fault. */
typedef int (*app_password_each_fn)(const struct app_password *p, void *arg);
int app_password_list(const char *user_id, app_password_each_fn each, void *arg);

/** Revokes one app password of the user, at once (the credential cache
 *  forgets the user). DRIVE_OK, DRIVE_NOT_FOUND (no such id, or another
 *  user's) or a fault. */
int app_password_delete(const char *user_id, const char *id);

/** Finds the user's app password whose secret is `secret`; fills id_out.
 *  DRIVE_OK, DRIVE_NOT_FOUND (no match; a secret not of the app-password
 *  form never reaches the database) or a fault. */
int app_password_match(const char *user_id, const char *secret, char id_out[ID_LEN + 1]);

/** Records a use at `now_ms` (wall clock), writing only when the recorded
 *  one is a minute old or more. Best effort: failures are logged. */
void app_password_touch(const char *id, int64_t now_ms);

#endif
