/* caller: who is asking. The bearer-token check the HTTP core runs before
 * any HTTP_AUTH route, and the accessors handlers read the caller with. */
#include <stdio.h>
#include <stdlib.h>
#include "api/api.h"
#include "drive/credcache.h"
#include "drive/tokens.h"
#include "drive/users.h"
#include "util/timefmt.h"

struct api_caller {
  char id[ID_LEN + 1];
  char username[40];
  bool settled;   /* no operation of the caller's pending (settle.c) */
};

int api_auth_bearer(struct http_req *r, const char *token, void **auth)
{
  struct token_claims c;
  struct user u;
  (void)r;
  while(*token == ' ')
    token++;
  if(token_verify(TOKEN_ACCESS, token, time_now_ms() / 1000, &c) != DRIVE_OK)
    return -1;
  /* A deleted account's tokens die with it, and a password reset ends the
   * sessions before it. A database outage is not the token's fault: 503.
   * The account's row is remembered for the token like a WebDAV credential
   * (a reset forgets it on every node), so most requests skip the read. */
  int64_t now = time_mono_ms();
  if(!credcache_token_get(token, now, &u)) {
    uint64_t epoch = credcache_epoch();
    int rc = users_get(c.sub, &u);
    if(rc == DRIVE_UNAVAILABLE)
      return HTTP_AUTH_UNAVAILABLE;
    if(rc != DRIVE_OK)
      return -1;
    credcache_token_put(token, &u, epoch, now);
  }
  if(c.iat < u.sessions_after)
    return -1;
  struct api_caller *who = calloc(1, sizeof(*who));
  if(!who)
    return -1;
  snprintf(who->id, sizeof(who->id), "%s", u.id);
  snprintf(who->username, sizeof(who->username), "%s", u.username);
  *auth = who;
  return 0;
}

int api_caller_set(struct http_req *r, const char *id, const char *username)
{
  struct api_caller *who = calloc(1, sizeof(*who));
  if(!who)
    return -1;
  snprintf(who->id, sizeof(who->id), "%s", id);
  snprintf(who->username, sizeof(who->username), "%s", username);
  if(r->auth)
    api_auth_free(r->auth);
  r->auth = who;
  return 0;
}

void api_auth_free(void *auth)
{
  free(auth);
}

const char *api_auth_user(const void *auth)
{
  const struct api_caller *who = auth;
  return who ? who->id : NULL;
}

/* Every HTTP_AUTH route has a caller; "" keeps a misrouted call harmless
 * (it matches no owner). */
const char *api_user_id(const struct http_req *r)
{
  const struct api_caller *who = r->auth;
  return who ? who->id : "";
}

const char *api_username(const struct http_req *r)
{
  const struct api_caller *who = r->auth;
  return who ? who->username : "";
}

bool api_caller_settled(const struct http_req *r)
{
  const struct api_caller *who = r->auth;
  return who && who->settled;
}

void api_caller_mark_settled(struct http_req *r)
{
  struct api_caller *who = r->auth;
  if(who)
    who->settled = true;
}
