/* shares: public links to one file (API §8).
 *
 * A link id is id_new(): 128 random bits, so links cannot be guessed. A link
 * is live while it is active (not revoked), not expired, and its file is not
 * binned; a deleted file takes its links with it (ON DELETE CASCADE). A link
 * may carry a password, stored as an Argon2id hash (users_hash_password) and
 * checked in constant time; repeated wrong passwords from one client for one
 * link are throttled. Every function scoped by owner_id answers
 * DRIVE_NOT_FOUND for another user's link or file, as for a missing one. */
#ifndef NETRA_SHARES_H
#define NETRA_SHARES_H
#include <stdbool.h>
#include <stdint.h>
#include "drive/drive.h"
#include "drive/files.h"
#include "drive/users.h"
#include "util/id.h"

/** Longest lifetime a link may be given: one year. */
#define SHARE_EXPIRES_MAX_S 31536000
/** Longest link password in bytes. */
#define SHARE_PASSWORD_MAX 1024

struct share {
  char id[ID_LEN + 1];
  char file_id[ID_LEN + 1];
  char owner_id[32];
  bool is_active;
  int64_t views;
  int64_t created_at;                  /* ms since the epoch */
  int64_t expires_at;                  /* ms since the epoch; 0 = never */
  char password_hash[USERS_HASH_MAX];  /* "" = no password; never rendered */
};

/** Options of a new link. All zero = a plain link (no expiry, no password). */
struct share_options {
  bool expires;           /* false = never */
  int64_t expires_in_s;   /* with `expires`: 1..SHARE_EXPIRES_MAX_S */
  const char *password;   /* NULL = none, else 1..SHARE_PASSWORD_MAX bytes */
};

/** Checks options; NULL when fine, else a human sentence for a 400. */
const char *share_options_check(const struct share_options *opt);

/** Gives a link to the owner's live file. Without options, the newest live
 *  link of the file that has no password is handed back (*created false);
 *  when there is none, or with options, a new link is made (*created true).
 *  DRIVE_NOT_FOUND when the file is missing, foreign or binned; DRIVE_INVALID
 *  (*why) for bad options. Fills *out. */
int share_generate(const char *owner_id, const char *file_id,
                   const struct share_options *opt, struct share *out, bool *created,
                   const char **why);

/** Called once per listed link; a non-zero return stops the listing and
 *  becomes share_list's result. */
typedef int (*share_each_fn)(const struct share *s, void *arg);

/** The owner's active, unexpired links, newest first. */
int share_list(const char *owner_id, share_each_fn each, void *arg);

/** Revokes the owner's active link; DRIVE_NOT_FOUND when there is none
 *  (already revoked, foreign, malformed id). */
int share_revoke(const char *owner_id, const char *share_id);

/** Resolves a public link: fills *s and *f when the link is live (active,
 *  unexpired, file not binned), else DRIVE_NOT_FOUND (also for a malformed
 *  id). The password is not checked here. */
int share_open(const char *share_id, struct share *s, struct file_rec *f);

/** Lets a request through a link: open links always; protected ones with the
 *  right password (DRIVE_OK); DRIVE_PASSWORD when a password is needed or
 *  wrong; DRIVE_THROTTLED after too many wrong ones (*retry_after seconds).
 *  `client` identifies the requester (its address) for the
 *  wrong-password throttle; `password` may be NULL. */
int share_check_password(const struct share *s, const char *client, const char *password,
                         int *retry_after);

/** Counts one view of the link (one atomic UPDATE). */
int share_count_view(const char *share_id);

#endif
