/* app_passwords: see app_passwords.h. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "drive/app_passwords.h"
#include "drive/cred_bus.h"
#include "util/log.h"
#include "util/names.h"
#include "util/timefmt.h"

#define AP_HASH_BYTES 32
#define AP_HASH_HEX (AP_HASH_BYTES * 2 + 1)
#define AP_RANDOM_BYTES 24        /* 32 base64url characters */
#define AP_TOUCH_EVERY_MS 60000   /* last_used_at is minute-accurate */

static uint8_t ap_key[crypto_generichash_KEYBYTES];

void app_passwords_init(const char *server_secret)
{
  /* A key of its own, so the hashes stored here reveal nothing about the
   * key that signs tokens and cannot be confused with any other use. */
  static const char ctx[] = "netradrive app-password key v1";
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof(ap_key));
  crypto_generichash_update(&st, (const uint8_t *)ctx, sizeof(ctx));
  crypto_generichash_update(&st, (const uint8_t *)server_secret, strlen(server_secret));
  crypto_generichash_final(&st, ap_key, sizeof(ap_key));
  sodium_memzero(&st, sizeof(st));
}

static void ap_hash(const char *secret, char hex[AP_HASH_HEX])
{
  uint8_t h[AP_HASH_BYTES];
  crypto_generichash(h, sizeof(h), (const uint8_t *)secret, strlen(secret), ap_key,
                     sizeof(ap_key));
  sodium_bin2hex(hex, AP_HASH_HEX, h, sizeof(h));
}

const char *app_password_name_check(const char *name, char out[APP_PASSWORD_NAME_BYTES + 1])
{
  char nfc[UTF8_NFC_MAX + 1];
  size_t n = strlen(name), chars = 0;
  while(n && name[0] == ' ')
    name++, n--;
  while(n && name[n - 1] == ' ')
    n--;
  if(n == 0)
    return "Name must not be empty";
  if(n > UTF8_NFC_MAX || !utf8_valid(name, n))
    return n > UTF8_NFC_MAX ? "Name must be at most 100 characters"
                            : "Name must be valid UTF-8";
  int len = utf8_nfc(name, n, nfc, sizeof(nfc));
  if(len < 0)
    return "Name must be at most 100 characters";
  for(int i = 0; i < len; i++) {
    unsigned char c = (unsigned char)nfc[i];
    /* C0 and DEL; C1 (U+0080..U+009F) is 0xC2 followed by 0x80..0x9F. */
    if(c < 0x20 || c == 0x7f ||
       (c == 0xc2 && i + 1 < len && (unsigned char)nfc[i + 1] <= 0x9f))
      return "Name must not contain control characters";
    chars += (c & 0xc0) != 0x80;
  }
  if(chars > APP_PASSWORD_NAME_MAX)
    return "Name must be at most 100 characters";
  memcpy(out, nfc, (size_t)len + 1);
  return NULL;
}

int app_password_create(const char *user_id, const char *name, struct app_password *out,
                        char secret[APP_PASSWORD_LEN + 1])
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char hex[AP_HASH_HEX];
  memset(out, 0, sizeof(*out));
  id_new(out->id);
  snprintf(out->name, sizeof(out->name), "%s", name);
  out->created_at = time_now_ms();
  memcpy(secret, APP_PASSWORD_PREFIX, sizeof(APP_PASSWORD_PREFIX) - 1);
  id_token(secret + sizeof(APP_PASSWORD_PREFIX) - 1, AP_RANDOM_BYTES,
           APP_PASSWORD_LEN + 1 - (sizeof(APP_PASSWORD_PREFIX) - 1));
  ap_hash(secret, hex);

  /* Count and insert in one transaction so two requests at once cannot
   * both take the last place. */
  int64_t n = 0;
  int rc = drive_tx_begin(db);
  if(rc != DRIVE_OK)
    return rc;
  int dbrc = db_query_int(db, &n, "SELECT COUNT(*) FROM app_passwords WHERE user_id = $1", "t",
                          user_id);
  if(dbrc != DB_ROW)
    rc = drive_from_db(dbrc);
  else if(n >= APP_PASSWORDS_MAX)
    rc = DRIVE_CONFLICT;
  else
    rc = drive_db(db_exec(db,
                          "INSERT INTO app_passwords (id, user_id, name, secret_hash, created_at) "
                          "VALUES ($1, $2, $3, $4, $5)",
                          "tttti", out->id, user_id, out->name, hex, out->created_at));
  rc = drive_tx_end(db, rc);
  if(rc == DRIVE_OK)
    log_info("app passwords: user %s made app password %s", user_id, out->id);
  else
    sodium_memzero(secret, APP_PASSWORD_LEN + 1);
  return rc;
}

int app_password_list(const char *user_id, app_password_each_fn each, void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, "SELECT id, name, created_at, last_used_at FROM app_passwords "
                           "WHERE user_id = $1 ORDER BY created_at DESC, id", "t", user_id);
  if(!st)
    return DRIVE_DB;
  int rc = DRIVE_OK, step;
  while((step = db_step(st)) == DB_ROW) {
    struct app_password p;
    memset(&p, 0, sizeof(p));
    db_col_copy(st, 0, p.id, sizeof(p.id));
    db_col_copy(st, 1, p.name, sizeof(p.name));
    p.created_at = db_col_int(st, 2);
    p.last_used_at = db_col_null(st, 3) ? 0 : db_col_int(st, 3);
    if((rc = each(&p, arg)) != 0)
      break;
  }
  int end = drive_stmt_end(st, step);
  return rc ? rc : end;
}

int app_password_delete(const char *user_id, const char *id)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(id))
    return DRIVE_NOT_FOUND;
  int rc = drive_db(db_exec(db, "DELETE FROM app_passwords WHERE id = $1 AND user_id = $2", "tt",
                            id, user_id));
  if(rc != DRIVE_OK)
    return rc;
  if(db_changes(db) != 1)
    return DRIVE_NOT_FOUND;
  /* Revoked at once: a client still holding it is asked again next request. */
  cred_bus_forget_user(user_id);
  log_info("app passwords: user %s revoked app password %s", user_id, id);
  return DRIVE_OK;
}

int app_password_match(const char *user_id, const char *secret, char id_out[ID_LEN + 1])
{
  if(strlen(secret) != APP_PASSWORD_LEN ||
     strncmp(secret, APP_PASSWORD_PREFIX, sizeof(APP_PASSWORD_PREFIX) - 1) != 0)
    return DRIVE_NOT_FOUND;
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char hex[AP_HASH_HEX];
  ap_hash(secret, hex);
  /* Looked up by its keyed hash: the index compares hashes an attacker
   * cannot compute, so its timing tells nothing about the secret. */
  db_stmt_t *st = db_query(db, "SELECT id FROM app_passwords WHERE user_id = $1 AND "
                           "secret_hash = $2", "tt", user_id, hex);
  if(!st)
    return DRIVE_DB;
  int step = db_step(st);
  if(step == DB_ROW)
    db_col_copy(st, 0, id_out, ID_LEN + 1);
  int rc = drive_stmt_end(st, step);
  return rc == DRIVE_OK && step == DB_ROW ? DRIVE_OK : rc == DRIVE_OK ? DRIVE_NOT_FOUND : rc;
}

void app_password_touch(const char *id, int64_t now_ms)
{
  db_t *db = db_get();
  if(!db)
    return;
  if(db_exec(db, "UPDATE app_passwords SET last_used_at = $1 WHERE id = $2 AND "
             "(last_used_at IS NULL OR last_used_at <= $3)", "iti", now_ms, id,
             now_ms - AP_TOUCH_EVERY_MS) != DB_OK)
    log_warn("app passwords: cannot record the use of %s", id);
}
