#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/cred_bus.h"
#include "drive/mail.h"
#include "drive/throttle.h"
#include "drive/throttle_db.h"
#include "drive/tokens.h"
#include "drive/users.h"
#include "util/log.h"
#include "util/names.h"
#include "util/timefmt.h"

/* Argon2id with t=2 passes over m=19 MiB, one lane: OWASP's baseline for
 * Argon2id (Password Storage Cheat Sheet), about 20-40 ms per hash here. It
 * is the price of every signup and login, so it is kept at the baseline
 * rather than libsodium's heavier INTERACTIVE preset (64 MiB); stored hashes
 * carry their parameters and are upgraded at login if these change. */
#define USERS_PWHASH_OPS 2ULL
#define USERS_PWHASH_MEM (19u * 1024 * 1024)

/* Hashes in flight at once: each takes 19 MiB, so many worker threads
 * hashing together must not multiply memory without bound. */
#define USERS_HASH_SLOTS 4

/* Keys held by the login throttle; 256 bytes each plus bookkeeping. */
#define USERS_THROTTLE_CAPACITY 8192

/* Mails per account per window: a bound on what an anonymous caller can
 * make us send to someone's inbox through resend/forgot. */
#define USERS_MAIL_MAX 5
#define USERS_MAIL_WINDOW_S (15 * 60)

static struct users_options users_opt;
static throttle_t *users_login_throttle;
static throttle_t *users_mail_throttle;
static throttle_t *users_addr_throttle;
static char users_dummy_hash[USERS_HASH_MAX];
static sem_t users_hash_sem;

/* ---- passwords ---- */

int users_hash_password(const char *password, char out[USERS_HASH_MAX])
{
  sem_wait(&users_hash_sem);
  int rc = crypto_pwhash_str_alg(out, password, strlen(password), USERS_PWHASH_OPS,
                                 USERS_PWHASH_MEM, crypto_pwhash_ALG_ARGON2ID13);
  sem_post(&users_hash_sem);
  if(rc != 0)
    log_error("users: password hashing failed (out of memory?)");
  return rc == 0 ? 0 : -1;
}

bool users_check_password(const char *hash, const char *password)
{
  sem_wait(&users_hash_sem);
  bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
  sem_post(&users_hash_sem);
  return ok;
}

/* ---- the login throttle ---- */

/* On PostgreSQL several nodes may share the database: failures are counted
 * there (throttle_db.h), so 5 wrong passwords through node A lock node B
 * too. SQLite has one server by construction: memory is enough. */
static bool users_throttle_shared(db_t *db)
{
  return db_conn_dialect(db) == DB_POSTGRES;
}

static int users_login_wait(db_t *db, const char *key)
{
  if(users_throttle_shared(db))
    return throttle_db_check(db, key, users_opt.login_max_failures,
                             (int64_t)users_opt.login_window_s * 1000, time_now_ms());
  return throttle_check(users_login_throttle, key, time_mono_ms());
}

static void users_login_failed(db_t *db, const char *key)
{
  if(users_throttle_shared(db))
    throttle_db_fail(db, key, users_opt.login_max_failures,
                     (int64_t)users_opt.login_window_s * 1000, time_now_ms());
  else
    throttle_fail(users_login_throttle, key, time_mono_ms());
}

static void users_login_forgive(db_t *db, const char *key)
{
  if(users_throttle_shared(db))
    throttle_db_clear(db, key);
  throttle_clear(users_login_throttle, key);
}

/* ---- lifecycle ---- */

int users_init(const struct users_options *o)
{
  char pw[32];
  users_opt = *o;
  if(sem_init(&users_hash_sem, 0, USERS_HASH_SLOTS) != 0)
    return -1;
  users_login_throttle =
      throttle_new(o->login_max_failures, o->login_window_s, USERS_THROTTLE_CAPACITY);
  users_mail_throttle = throttle_new(USERS_MAIL_MAX, USERS_MAIL_WINDOW_S, USERS_THROTTLE_CAPACITY);
  users_addr_throttle = throttle_new(o->addr_max_requests, o->addr_window_s,
                                     USERS_THROTTLE_CAPACITY);
  /* A hash of a random password, verified against when the account does not
   * exist so the answer takes as long as for a real one. */
  id_token(pw, 16, sizeof(pw));
  if(!users_login_throttle || !users_mail_throttle || !users_addr_throttle ||
     users_hash_password(pw, users_dummy_hash)) {
    users_shutdown();
    return -1;
  }
  if(!o->require_verification)
    log_info("users: email verification is off; new accounts are verified at signup");
  return 0;
}

void users_shutdown(void)
{
  throttle_free(users_login_throttle);
  throttle_free(users_mail_throttle);
  throttle_free(users_addr_throttle);
  users_login_throttle = users_mail_throttle = users_addr_throttle = NULL;
  sem_destroy(&users_hash_sem);
}

/* ---- per-address limits ---- */

int users_count_request(const char *action, const char *client_addr, int *retry_after)
{
  char key[96];
  snprintf(key, sizeof(key), "%s:%s", action, client_addr);
  /* Every request counts, whatever its outcome: the limit bounds what one
   * address can make us hash or mail, not its mistakes. */
  int64_t now = time_mono_ms();
  *retry_after = throttle_check(users_addr_throttle, key, now);
  if(*retry_after)
    return DRIVE_THROTTLED;
  throttle_fail(users_addr_throttle, key, now);
  return DRIVE_OK;
}

/* ---- lookups ---- */

#define USER_COLS "id, username, email, is_verified, created_at, password_hash, sessions_after"

/* Reads one user row (USER_COLS) from a single-row query; copies the
 * password hash into `hash` when non-NULL. */
struct user_row_out {
  struct user *u;
  char *hash;   /* USERS_HASH_MAX bytes, or NULL */
};

static void user_fill(db_stmt_t *st, void *arg)
{
  struct user_row_out *o = arg;
  db_col_copy(st, 0, o->u->id, sizeof(o->u->id));
  db_col_copy(st, 1, o->u->username, sizeof(o->u->username));
  db_col_copy(st, 2, o->u->email, sizeof(o->u->email));
  o->u->is_verified = db_col_int(st, 3) != 0;
  o->u->created_at = db_col_int(st, 4);
  if(o->hash)
    db_col_copy(st, 5, o->hash, USERS_HASH_MAX);
  o->u->sessions_after = db_col_int(st, 6);
}

static int user_row(db_stmt_t *st, struct user *out, char hash[USERS_HASH_MAX])
{
  struct user_row_out o = {out, hash};
  return drive_read_one(st, user_fill, &o);
}

int users_get(const char *id, struct user *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  return user_row(db_query(db, "SELECT " USER_COLS " FROM users WHERE id = $1", "t", id), out,
                  NULL);
}

/* Finds the account for a folded login name: an email when it holds '@'
 * (usernames cannot), else a username. */
static int user_by_login(db_t *db, const char *key, struct user *out, char hash[USERS_HASH_MAX])
{
  const char *sql = strchr(key, '@') ? "SELECT " USER_COLS " FROM users WHERE email_key = $1"
                                     : "SELECT " USER_COLS " FROM users WHERE username_key = $1";
  return user_row(db_query(db, sql, "t", key), out, hash);
}

/* ---- mails ---- */

enum user_mail { MAIL_VERIFY, MAIL_RESET };

/* Only the newest reset link mailed works: recording its jti voids the
 * links mailed before it. 0 or -1. */
static int users_record_reset_link(const char *user_id, const char *jti)
{
  db_t *db = db_get();
  return db && db_exec(db, "UPDATE users SET reset_jti = $1 WHERE id = $2", "tt", jti, user_id) ==
                   DB_OK ? 0 : -1;
}

/* Signs a link token for `u` and queues the matching mail. Failures are
 * logged only: the request that caused the mail succeeds regardless. */
static void users_send_link(const struct user *u, enum user_mail kind)
{
  char *token = NULL, *body = NULL;
  enum token_type typ = kind == MAIL_VERIFY ? TOKEN_VERIFY : TOKEN_RESET;
  char key[64];
  snprintf(key, sizeof(key), "mail:%s", u->id);
  if(!mail_enabled()) {
    log_warn("users: SMTP_URL is not set; no %s mail for user %s",
             kind == MAIL_VERIFY ? "verification" : "password reset", u->id);
    return;
  }
  int64_t now = time_mono_ms();
  if(throttle_check(users_mail_throttle, key, now) != 0) {
    log_warn("users: mail limit reached for user %s; not sending", u->id);
    return;
  }
  throttle_fail(users_mail_throttle, key, now); /* here it counts mails, not failures */
  struct token_claims c;
  if(token_sign(typ, u->id, u->username, time_now_ms() / 1000, &token, &c) != 0) {
    log_error("users: cannot sign a %s token", kind == MAIL_VERIFY ? "verify" : "reset");
    return;
  }
  if(kind == MAIL_RESET && users_record_reset_link(u->id, c.jti) != 0) {
    log_error("users: cannot record the reset link of user %s; not sending", u->id);
    goto out;
  }
  int n;
  if(kind == MAIL_VERIFY)
    n = asprintf(&body,
                 "Hello %s,\n\n"
                 "Please confirm your email address for NetraDrive by opening this link:\n\n"
                 "%s/#/verify-email?token=%s\n\n"
                 "The link is valid for 24 hours. If you did not create a NetraDrive account,\n"
                 "you can ignore this message.\n",
                 u->username, users_opt.public_url, token);
  else
    n = asprintf(&body,
                 "Hello %s,\n\n"
                 "Someone asked to reset the password of your NetraDrive account. To choose\n"
                 "a new password, open this link:\n\n"
                 "%s/#/reset-password?token=%s\n\n"
                 "The link is valid for 15 minutes and works once. If you did not ask for\n"
                 "this, you can ignore this message; your password stays as it is.\n",
                 u->username, users_opt.public_url, token);
  if(n < 0)
    body = NULL;
  else
    mail_queue(u->email,
               kind == MAIL_VERIFY ? "Verify your NetraDrive email address"
                                   : "Reset your NetraDrive password",
               body);
out:
  if(token)
    sodium_memzero(token, strlen(token));
  free(token);
  free(body);
}

/* ---- signup ---- */

/* Tells which unique key a new account collides with, if any. */
static int users_conflict(db_t *db, const char *username_key, const char *email_key)
{
  int64_t n = 0;
  int rc = db_query_int(db, &n, "SELECT COUNT(*) FROM users WHERE username_key = $1", "t",
                        username_key);
  if(rc != DB_ROW)
    return drive_from_db(rc);
  if(n)
    return DRIVE_USERNAME_TAKEN;
  rc = db_query_int(db, &n, "SELECT COUNT(*) FROM users WHERE email_key = $1", "t", email_key);
  if(rc != DB_ROW)
    return drive_from_db(rc);
  return n ? DRIVE_EMAIL_TAKEN : DRIVE_OK;
}

int users_signup(const char *username, const char *email, const char *password,
                 struct user *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char ukey[sizeof(out->username)], ekey[sizeof(out->email)], hash[USERS_HASH_MAX];
  if(strlen(username) >= sizeof(out->username) || strlen(email) >= sizeof(out->email) ||
     utf8_fold(username, ukey, sizeof(ukey)) || utf8_fold(email, ekey, sizeof(ekey)))
    return DRIVE_INTERNAL; /* the caller validated; cannot happen */

  /* Cheap check first so a duplicate does not cost a hash; the unique
   * indexes still decide under concurrency. */
  int rc = users_conflict(db, ukey, ekey);
  if(rc != DRIVE_OK)
    return rc;
  if(users_hash_password(password, hash) != 0)
    return DRIVE_INTERNAL;

  memset(out, 0, sizeof(*out));
  id_new(out->id);
  snprintf(out->username, sizeof(out->username), "%s", username);
  snprintf(out->email, sizeof(out->email), "%s", email);
  out->is_verified = !users_opt.require_verification;
  out->created_at = time_now_ms();
  rc = db_exec(db,
               "INSERT INTO users (id, username, username_key, email, email_key, password_hash, "
               "is_verified, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
               "ttttttbi", out->id, username, ukey, email, ekey, hash, (int)out->is_verified,
               out->created_at);
  sodium_memzero(hash, sizeof(hash));
  if(rc == DB_CONSTRAINT) {
    rc = users_conflict(db, ukey, ekey);
    return rc == DRIVE_OK ? DRIVE_CONFLICT : rc;
  }
  if(rc != DB_OK)
    return drive_from_db(rc);
  if(out->is_verified)
    log_info("users: new account %s (verified at once: email verification is off)", out->id);
  else {
    log_info("users: new account %s, verification mail pending", out->id);
    users_send_link(out, MAIL_VERIFY);
  }
  return DRIVE_OK;
}

/* ---- login ---- */

/* Upgrades a stored hash made with other parameters; best effort. */
static void users_rehash(db_t *db, const struct user *u, const char *hash, const char *password)
{
  char fresh[USERS_HASH_MAX];
  if(crypto_pwhash_str_needs_rehash(hash, USERS_PWHASH_OPS, USERS_PWHASH_MEM) == 0)
    return;
  if(users_hash_password(password, fresh) == 0 &&
     db_exec(db, "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
             "ttt", fresh, u->id, hash) == DB_OK)
    log_info("users: upgraded the password hash of user %s", u->id);
  sodium_memzero(fresh, sizeof(fresh));
}

int users_login(const char *login, const char *password, const char *client_addr,
                struct user *out, int *retry_after)
{
  return users_login_alt(login, password, client_addr, NULL, NULL, out, retry_after);
}

int users_login_alt(const char *login, const char *password, const char *client_addr,
                    users_alt_fn alt, void *alt_arg, struct user *out, int *retry_after)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char hash[USERS_HASH_MAX], folded[256], acct_key[THROTTLE_KEY_MAX + 1], addr_key[80];
  int rc = DRIVE_NOT_FOUND;
  *retry_after = 0;
  hash[0] = 0;
  /* Case-insensitive like signup; text that cannot fold matches no one. */
  if(utf8_fold(login, folded, sizeof(folded)) == 0)
    rc = user_by_login(db, folded, out, hash);
  if(rc != DRIVE_OK && rc != DRIVE_NOT_FOUND)
    return rc;
  bool found = rc == DRIVE_OK;

  /* Count per account (by id, so username and email share one counter) and
   * per address; unknown names count under their folded text. */
  if(found)
    snprintf(acct_key, sizeof(acct_key), "user:%s", out->id);
  else
    snprintf(acct_key, sizeof(acct_key), "login:%s", folded);
  snprintf(addr_key, sizeof(addr_key), "addr:%s", client_addr);

  int wait_acct = users_login_wait(db, acct_key);
  int wait_addr = users_login_wait(db, addr_key);
  if(wait_acct || wait_addr) {
    *retry_after = wait_acct > wait_addr ? wait_acct : wait_addr;
    rc = DRIVE_THROTTLED;
    goto out;
  }

  /* The other secret first: it is cheap, and when it matches no Argon2id
   * is needed. A fault there is the answer (not a failure to count). */
  if(found && alt) {
    rc = alt(out, password, alt_arg);
    if(rc != DRIVE_OK && rc != DRIVE_NOT_FOUND)
      goto out;
    if(rc == DRIVE_OK)
      goto good;
  }
  /* Always one Argon2id verify, so a missing account answers as slowly. */
  bool ok = users_check_password(found ? hash : users_dummy_hash, password);
  if(!found || !ok) {
    users_login_failed(db, acct_key);
    users_login_failed(db, addr_key);
    rc = DRIVE_BAD_CREDENTIALS;
    goto out;
  }
  users_rehash(db, out, hash, password);
good:
  users_login_forgive(db, acct_key);
  rc = out->is_verified ? DRIVE_OK : DRIVE_UNVERIFIED;
out:
  sodium_memzero(hash, sizeof(hash));
  return rc;
}

/* ---- links ---- */

/* Spends a mailed link's token `c` inside a new transaction (single use).
 * On DRIVE_OK the transaction stays open for the link's effect. */
static int users_link_spend(db_t *db, const struct token_claims *c, int64_t now_s)
{
  int rc = drive_tx_begin(db);
  if(rc == DRIVE_OK && (rc = tokens_spend(db, c, now_s)) != DRIVE_OK)
    db_rollback(db);
  return rc;
}

/* The outcome of the link's UPDATE of its user: DRIVE_BAD_LINK when the
 * account is gone. */
static int users_link_applied(db_t *db, int dbrc)
{
  if(dbrc != DB_OK)
    return drive_from_db(dbrc);
  return db_changes(db) == 1 ? DRIVE_OK : DRIVE_BAD_LINK;
}

int users_verify_email(const char *token)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct token_claims c;
  int64_t now_s = time_now_ms() / 1000;
  if(token_verify(TOKEN_VERIFY, token, now_s, &c) != DRIVE_OK)
    return DRIVE_BAD_LINK;
  int rc = users_link_spend(db, &c, now_s);
  if(rc != DRIVE_OK)
    return rc;
  rc = users_link_applied(db, db_exec(db, "UPDATE users SET is_verified = 1, updated_at = $1 "
                                          "WHERE id = $2", "it", time_now_ms(), c.sub));
  rc = drive_tx_end(db, rc);
  if(rc == DRIVE_OK)
    log_info("users: user %s verified their email", c.sub);
  return rc;
}

/* Loads the account of `email` (any case); DRIVE_NOT_FOUND for anything
 * that is not a known address. */
static int user_by_email(db_t *db, const char *email, struct user *out)
{
  char key[256];
  if(!strchr(email, '@') || utf8_fold(email, key, sizeof(key)) != 0)
    return DRIVE_NOT_FOUND;
  return user_row(db_query(db, "SELECT " USER_COLS " FROM users WHERE email_key = $1", "t", key),
                  out, NULL);
}

/* Mails a link of `kind` to the account of `email`, if there is one (and,
 * for a verification link, if it still needs it). DRIVE_OK either way: the
 * caller must not tell whether the address has an account. */
static int users_mail_link(const char *email, enum user_mail kind)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct user u;
  int rc = user_by_email(db, email, &u);
  if(rc != DRIVE_OK && rc != DRIVE_NOT_FOUND)
    return rc;
  if(rc == DRIVE_OK && (kind != MAIL_VERIFY || !u.is_verified))
    users_send_link(&u, kind);
  return DRIVE_OK;
}

int users_resend_verification(const char *email)
{
  return users_mail_link(email, MAIL_VERIFY);
}

int users_forgot_password(const char *email)
{
  return users_mail_link(email, MAIL_RESET);
}

int users_reset_password(const char *token, const char *new_password)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct token_claims c;
  char hash[USERS_HASH_MAX], key[64];
  int64_t now_s = time_now_ms() / 1000;
  if(token_verify(TOKEN_RESET, token, now_s, &c) != DRIVE_OK)
    return DRIVE_BAD_LINK;
  /* Hash before taking the write lock: it is the slow part. */
  if(users_hash_password(new_password, hash) != 0)
    return DRIVE_INTERNAL;
  int rc = users_link_spend(db, &c, now_s);
  if(rc != DRIVE_OK)
    goto out;
  /* Following the link proved the mailbox, so the account is verified too.
   * Sessions end: access tokens issued before this second stop working.
   * Only the newest link mailed counts, and clearing it voids every other
   * one still outstanding (no row changed: DRIVE_BAD_LINK). */
  rc = users_link_applied(db, db_exec(db,
                                      "UPDATE users SET password_hash = $1, is_verified = 1, "
                                      "updated_at = $2, sessions_after = $3, reset_jti = NULL "
                                      "WHERE id = $4 AND reset_jti = $5",
                                      "tiitt", hash, time_now_ms(), now_s, c.sub, c.jti));
  if(rc == DRIVE_OK)
    rc = tokens_revoke_user(db, c.sub);
  rc = drive_tx_end(db, rc);
  if(rc != DRIVE_OK)
    goto out;
  /* A fresh password deserves a fresh start at the login throttle. */
  snprintf(key, sizeof(key), "user:%s", c.sub);
  users_login_forgive(db, key);
  /* WebDAV clients that proved the old password must prove the new one. */
  cred_bus_forget_user(c.sub);
  log_info("users: user %s reset their password; sessions ended", c.sub);
out:
  sodium_memzero(hash, sizeof(hash));
  return rc;
}
