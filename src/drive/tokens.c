#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/tokens.h"
#include "util/jwt.h"
#include "util/log.h"

static const char *tokens_secret;
static int64_t tokens_access_ttl = 30 * 60;
static int64_t tokens_refresh_ttl = 7 * 24 * 3600;

static const char *const token_typ_names[] = {
  [TOKEN_ACCESS] = "access",
  [TOKEN_REFRESH] = "refresh",
  [TOKEN_VERIFY] = "verify",
  [TOKEN_RESET] = "reset",
};

void tokens_init(const char *secret, int64_t access_ttl_s, int64_t refresh_ttl_s)
{
  tokens_secret = secret;
  tokens_access_ttl = access_ttl_s;
  tokens_refresh_ttl = refresh_ttl_s;
}

int64_t token_ttl(enum token_type typ)
{
  switch(typ) {
  case TOKEN_ACCESS: return tokens_access_ttl;
  case TOKEN_REFRESH: return tokens_refresh_ttl;
  case TOKEN_VERIFY: return TOKEN_VERIFY_TTL_S;
  case TOKEN_RESET: return TOKEN_RESET_TTL_S;
  }
  return 0;
}

/* Copies a string claim; fails when it is absent, empty or too long. */
static int claim_copy(const json_t *claims, const char *key, char *out, size_t outsz)
{
  const char *v = json_string_value(json_object_get(claims, key));
  if(!v || !*v || strlen(v) >= outsz)
    return -1;
  memcpy(out, v, strlen(v) + 1);
  return 0;
}

int token_sign(enum token_type typ, const char *user_id, const char *username, int64_t now_s,
               char **out, struct token_claims *claims)
{
  int rc = -1;
  char jti[ID_LEN + 1];
  *out = NULL;
  if(strlen(user_id) > ID_LEN || strlen(username) >= sizeof(claims->username))
    return -1;
  id_new(jti);
  int64_t exp = now_s + token_ttl(typ);
  json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "typ", token_typ_names[typ], "sub", user_id,
                        "username", username, "iat", (json_int_t)now_s, "exp", (json_int_t)exp,
                        "jti", jti);
  if(!j || jwt_sign(tokens_secret, j, out) != 0)
    goto out;
  if(claims) {
    claims->typ = typ;
    strcpy(claims->sub, user_id);
    strcpy(claims->username, username);
    strcpy(claims->jti, jti);
    claims->iat = now_s;
    claims->exp = exp;
  }
  rc = 0;
out:
  json_decref(j);
  return rc;
}

int token_verify(enum token_type typ, const char *token, int64_t now_s, struct token_claims *out)
{
  json_t *claims = NULL;
  int rc = jwt_verify(tokens_secret, token, token_typ_names[typ], now_s, &claims);
  if(rc == JWT_EXPIRED)
    return DRIVE_EXPIRED;
  if(rc != JWT_OK)
    return DRIVE_BAD_TOKEN;
  rc = DRIVE_BAD_TOKEN;
  json_t *iat = json_object_get(claims, "iat");
  if(claim_copy(claims, "sub", out->sub, sizeof(out->sub)) ||
     claim_copy(claims, "username", out->username, sizeof(out->username)) ||
     claim_copy(claims, "jti", out->jti, sizeof(out->jti)) || !json_is_integer(iat))
    goto out;
  out->typ = typ;
  out->iat = (int64_t)json_integer_value(iat);
  out->exp = (int64_t)json_integer_value(json_object_get(claims, "exp"));
  rc = DRIVE_OK;
out:
  json_decref(claims);
  return rc;
}

void token_pair_free(struct token_pair *p)
{
  free(p->access);
  free(p->refresh);
  p->access = p->refresh = NULL;
}

/* Signs a pair and records the refresh token in `family_id`. Runs inside the
 * caller's transaction. */
static int pair_issue(db_t *db, const char *user_id, const char *username, const char *family_id,
                      int64_t now_s, struct token_pair *out)
{
  struct token_claims rc_claims;
  out->access = out->refresh = NULL;
  if(token_sign(TOKEN_ACCESS, user_id, username, now_s, &out->access, NULL) ||
     token_sign(TOKEN_REFRESH, user_id, username, now_s, &out->refresh, &rc_claims)) {
    token_pair_free(out);
    return DRIVE_INTERNAL;
  }
  /* Expired rows can never be presented successfully again: drop them here
   * so the table stays the size of the live sessions. */
  int rc = db_exec(db, "DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at < $2", "ti",
                   user_id, (int64_t)now_s * 1000);
  if(rc == DB_OK)
    rc = db_exec(db,
                 "INSERT INTO refresh_tokens (jti, user_id, family_id, revoked, created_at, "
                 "expires_at) VALUES ($1, $2, $3, 0, $4, $5)",
                 "tttii", rc_claims.jti, user_id, family_id ? family_id : rc_claims.jti,
                 (int64_t)now_s * 1000, rc_claims.exp * 1000);
  if(rc != DB_OK)
    token_pair_free(out);
  return drive_db(rc);
}

int tokens_issue_pair(const char *user_id, const char *username, int64_t now_s,
                      struct token_pair *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* A single INSERT (plus cleanup) needs no explicit transaction. */
  return pair_issue(db, user_id, username, NULL, now_s, out);
}

int tokens_rotate(const char *refresh_token, int64_t now_s, struct token_pair *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct token_claims c;
  char family[ID_LEN + 1], username[sizeof(c.username)];
  int64_t revoked = 0;
  out->access = out->refresh = NULL;
  int rc = token_verify(TOKEN_REFRESH, refresh_token, now_s, &c);
  if(rc != DRIVE_OK)
    return rc;

  rc = drive_tx_begin(db);
  if(rc != DRIVE_OK)
    return rc;
  db_stmt_t *st = db_query(db,
                           "SELECT r.revoked, r.family_id, u.username FROM refresh_tokens r "
                           "JOIN users u ON u.id = r.user_id WHERE r.jti = $1 AND r.user_id = $2",
                           "tt", c.jti, c.sub);
  rc = db_step(st);
  if(rc == DB_ROW) {
    revoked = db_col_int(st, 0);
    db_col_copy(st, 1, family, sizeof(family));
    db_col_copy(st, 2, username, sizeof(username));
  }
  int frc = db_finalize(st);
  if(rc == DB_DONE)
    return drive_tx_end(db, DRIVE_BAD_TOKEN); /* unknown token or the user is gone */
  if(rc != DB_ROW || (rc = frc) != DB_OK)
    return drive_tx_end(db, drive_from_db(rc));

  if(revoked) {
    /* Replay of a rotated token: someone else holds the family. */
    rc = drive_tx_end(db, drive_db(db_exec(db, "UPDATE refresh_tokens SET revoked = 1 "
                                               "WHERE family_id = $1", "t", family)));
    if(rc != DRIVE_OK)
      return rc;
    log_warn("tokens: revoked refresh token reused; revoked its family for user %s", c.sub);
    return DRIVE_REUSED;
  }
  rc = drive_db(db_exec(db, "UPDATE refresh_tokens SET revoked = 1 WHERE jti = $1", "t", c.jti));
  if(rc == DRIVE_OK)
    rc = pair_issue(db, c.sub, username, family, now_s, out);
  if(rc != DRIVE_OK)
    return drive_tx_end(db, rc);
  rc = drive_tx_end(db, DRIVE_OK);
  if(rc != DRIVE_OK)
    token_pair_free(out);
  return rc;
}

int tokens_revoke(const char *refresh_token, int64_t now_s)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct token_claims c;
  int rc = token_verify(TOKEN_REFRESH, refresh_token, now_s, &c);
  if(rc != DRIVE_OK)
    return rc;
  int64_t n = 0;
  rc = db_query_int(db, &n, "SELECT COUNT(*) FROM refresh_tokens WHERE jti = $1 AND user_id = $2",
                    "tt", c.jti, c.sub);
  if(rc != DB_ROW)
    return rc == DB_DONE ? DRIVE_BAD_TOKEN : drive_from_db(rc);
  if(n == 0)
    return DRIVE_BAD_TOKEN;
  return drive_db(db_exec(db, "UPDATE refresh_tokens SET revoked = 1 WHERE jti = $1", "t", c.jti));
}

int tokens_revoke_user(db_t *db, const char *user_id)
{
  return drive_db(
      db_exec(db, "UPDATE refresh_tokens SET revoked = 1 WHERE user_id = $1", "t", user_id));
}

int tokens_spend(db_t *db, const struct token_claims *c, int64_t now_s)
{
  int rc = db_exec(db, "DELETE FROM used_tokens WHERE expires_at < $1", "i", (int64_t)now_s * 1000);
  if(rc != DB_OK)
    return drive_from_db(rc);
  rc = db_exec(db, "INSERT INTO used_tokens (jti, expires_at) VALUES ($1, $2)", "ti", c->jti,
               c->exp * 1000);
  if(rc == DB_CONSTRAINT)
    return DRIVE_BAD_LINK; /* spent already */
  return drive_db(rc);
}

int tokens_forget_expired(db_t *db, int64_t now_ms)
{
  /* Spent and expired tokens are only needed until they would expire anyway. */
  int rc = db_exec(db, "DELETE FROM used_tokens WHERE expires_at < $1", "i", now_ms);
  if(rc == DB_OK)
    rc = db_exec(db, "DELETE FROM refresh_tokens WHERE expires_at < $1", "i", now_ms);
  return drive_db(rc);
}
