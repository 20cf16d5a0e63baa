/* credcache: see credcache.h. */
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include "drive/credcache.h"

#define CC_WAYS 4
#define CC_SETS (CREDCACHE_SLOTS / CC_WAYS)
#define CC_DIGEST 32
#define CC_BASIC 'B'    /* a WebDAV login and its password or app password */
#define CC_BEARER 'T'   /* an API access token */

struct cc_entry {
  uint8_t digest[CC_DIGEST];  /* keyed hash of login + secret */
  struct user user;
  int64_t expires_ms;         /* 0: slot free */
};

static struct cc_entry cc_tab[CC_SETS][CC_WAYS];
static pthread_mutex_t cc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cc_once = PTHREAD_ONCE_INIT;
static uint8_t cc_key[crypto_generichash_KEYBYTES];
static uint64_t cc_epoch;

static void cc_init(void)
{
  randombytes_buf(cc_key, sizeof(cc_key));
}

/* The entry's key: the kind, then the login and the secret separated by a
 * NUL neither can hold, so ("ab", "c") and ("a", "bc") differ, and a bearer
 * token is never a Basic credential (the kind byte comes first). */
static void cc_digest(char kind, const char *login, const char *secret, uint8_t out[CC_DIGEST])
{
  crypto_generichash_state st;
  pthread_once(&cc_once, cc_init);
  crypto_generichash_init(&st, cc_key, sizeof(cc_key), CC_DIGEST);
  crypto_generichash_update(&st, (const uint8_t *)&kind, 1);
  crypto_generichash_update(&st, (const uint8_t *)login, strlen(login) + 1);
  crypto_generichash_update(&st, (const uint8_t *)secret, strlen(secret));
  crypto_generichash_final(&st, out, CC_DIGEST);
  sodium_memzero(&st, sizeof(st));
}

static struct cc_entry *cc_set(const uint8_t d[CC_DIGEST])
{
  return cc_tab[((size_t)d[0] | (size_t)d[1] << 8) % CC_SETS];
}

static bool cc_get(char kind, const char *login, const char *secret, int64_t now_ms,
                   struct user *out)
{
  uint8_t d[CC_DIGEST];
  bool hit = false;
  cc_digest(kind, login, secret, d);
  pthread_mutex_lock(&cc_lock);
  struct cc_entry *set = cc_set(d);
  for(int i = 0; i < CC_WAYS; i++) {
    struct cc_entry *e = &set[i];
    if(e->expires_ms > now_ms && sodium_memcmp(e->digest, d, CC_DIGEST) == 0) {
      *out = e->user;
      hit = true;
      break;
    }
  }
  pthread_mutex_unlock(&cc_lock);
  return hit;
}

bool credcache_get(const char *login, const char *secret, int64_t now_ms, struct user *out)
{
  return cc_get(CC_BASIC, login, secret, now_ms, out);
}

bool credcache_token_get(const char *token, int64_t now_ms, struct user *out)
{
  return cc_get(CC_BEARER, "", token, now_ms, out);
}

uint64_t credcache_epoch(void)
{
  pthread_mutex_lock(&cc_lock);
  uint64_t e = cc_epoch;
  pthread_mutex_unlock(&cc_lock);
  return e;
}

static void cc_put(char kind, const char *login, const char *secret, const struct user *u,
                   uint64_t epoch, int64_t now_ms, int64_t ttl_ms)
{
  uint8_t d[CC_DIGEST];
  cc_digest(kind, login, secret, d);
  pthread_mutex_lock(&cc_lock);
  if(epoch == cc_epoch) {
    /* The same credential again, else a free or expired slot, else the
     * entry that would expire first. */
    struct cc_entry *set = cc_set(d), *slot = &set[0];
    for(int i = 0; i < CC_WAYS; i++) {
      struct cc_entry *e = &set[i];
      if(e->expires_ms > 0 && sodium_memcmp(e->digest, d, CC_DIGEST) == 0) {
        slot = e;
        break;
      }
      if(e->expires_ms <= now_ms || e->expires_ms < slot->expires_ms)
        slot = e;
    }
    memcpy(slot->digest, d, CC_DIGEST);
    slot->user = *u;
    slot->expires_ms = now_ms + ttl_ms;
  }
  pthread_mutex_unlock(&cc_lock);
}

void credcache_put(const char *login, const char *secret, const struct user *u,
                   uint64_t epoch, int64_t now_ms)
{
  cc_put(CC_BASIC, login, secret, u, epoch, now_ms, CREDCACHE_TTL_MS);
}

void credcache_token_put(const char *token, const struct user *u, uint64_t epoch,
                         int64_t now_ms)
{
  cc_put(CC_BEARER, "", token, u, epoch, now_ms, CREDCACHE_TOKEN_TTL_MS);
}

void credcache_forget_user(const char *user_id)
{
  pthread_mutex_lock(&cc_lock);
  cc_epoch++;
  for(size_t s = 0; s < CC_SETS; s++)
    for(int i = 0; i < CC_WAYS; i++)
      if(cc_tab[s][i].expires_ms && !strcmp(cc_tab[s][i].user.id, user_id))
        memset(&cc_tab[s][i], 0, sizeof(cc_tab[s][i]));
  pthread_mutex_unlock(&cc_lock);
}

void credcache_clear(void)
{
  pthread_mutex_lock(&cc_lock);
  cc_epoch++;
  memset(cc_tab, 0, sizeof(cc_tab));
  pthread_mutex_unlock(&cc_lock);
}

size_t credcache_size(int64_t now_ms)
{
  size_t n = 0;
  pthread_mutex_lock(&cc_lock);
  for(size_t s = 0; s < CC_SETS; s++)
    for(int i = 0; i < CC_WAYS; i++)
      n += cc_tab[s][i].expires_ms > now_ms;
  pthread_mutex_unlock(&cc_lock);
  return n;
}
