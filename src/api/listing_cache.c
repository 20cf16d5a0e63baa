/* listing_cache: see listing_cache.h. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/listing_cache.h"
#include "api/render.h"

/* Few entries: a user browsing re-lists a handful of folders, and every
 * database change empties the cache's use anyway. */
#define LISTING_CACHE_ENTRIES 16

struct listing_entry {
  char key[LISTING_KEY_MAX];
  struct drive_stamp stamp;
  int64_t total;
  char *body;             /* NULL: slot free */
  size_t len;
  uint64_t used;          /* the thread's tick at the last hit, for LRU */
};

struct listing_store {
  struct listing_entry e[LISTING_CACHE_ENTRIES];
  size_t bytes;
  uint64_t tick;
};

static size_t lc_budget;
static pthread_key_t lc_key;
static pthread_once_t lc_once = PTHREAD_ONCE_INIT;

static void lc_store_free(void *p)
{
  struct listing_store *s = p;
  for(size_t i = 0; s && i < LISTING_CACHE_ENTRIES; i++)
    free(s->e[i].body);
  free(s);
}

static void lc_make_key(void)
{
  (void)pthread_key_create(&lc_key, lc_store_free);
}

void listing_cache_setup(size_t bytes_per_thread)
{
  pthread_once(&lc_once, lc_make_key);
  lc_budget = bytes_per_thread;
}

/* The calling thread's store, made on first use; NULL when off or out of
 * memory (then nothing is cached, which is only slower). */
static struct listing_store *lc_store(void)
{
  if(!lc_budget)
    return NULL;
  struct listing_store *s = pthread_getspecific(lc_key);
  if(!s && (s = calloc(1, sizeof(*s))) != NULL && pthread_setspecific(lc_key, s) != 0) {
    free(s);
    s = NULL;
  }
  return s;
}

void listing_key_make(struct listing_key *k, const char *kind, const char *user,
                      const struct drive_listing *q)
{
  k->usable = false;
  if(!lc_budget)
    return;
  /* Every field that shapes the page; the parent id is the request's own
   * text, so a long one makes the key not fit and the request uncached. */
  int n = snprintf(k->text, sizeof(k->text), "%s/%s/%s/%d%d%d%d/%" PRId64 "/%" PRId64, kind,
                   user, q->parent_id ? q->parent_id : "", q->in_bin, q->starred, (int)q->sort,
                   q->desc, q->limit, q->offset);
  if(n < 0 || (size_t)n >= sizeof(k->text))
    return;
  k->usable = drive_stamp_take(&k->stamp) == DRIVE_OK;
}

static struct listing_entry *lc_find(struct listing_store *s, const struct listing_key *k)
{
  for(size_t i = 0; i < LISTING_CACHE_ENTRIES; i++) {
    struct listing_entry *e = &s->e[i];
    if(e->body && !strcmp(e->key, k->text))
      return e;
  }
  return NULL;
}

static void lc_drop(struct listing_store *s, struct listing_entry *e)
{
  s->bytes -= e->len;
  free(e->body);
  e->body = NULL;
  e->len = 0;
}

static bool lc_same(const struct drive_stamp *a, const struct drive_stamp *b)
{
  return a->v[0] == b->v[0] && a->v[1] == b->v[1];
}

bool listing_cache_reply(struct http_req *r, const struct listing_key *k, int *ret)
{
  struct listing_store *s = k->usable ? lc_store() : NULL;
  struct listing_entry *e = s ? lc_find(s, k) : NULL;
  if(!e)
    return false;
  if(!lc_same(&e->stamp, &k->stamp)) {
    lc_drop(s, e);   /* the database moved on: this page may be stale */
    return false;
  }
  buf_t body;
  buf_init(&body, e->len);
  if(buf_append(&body, e->body, e->len) != BUF_OK) {
    buf_free(&body);
    return false;
  }
  e->used = ++s->tick;
  char count[24];
  snprintf(count, sizeof(count), "%" PRId64, e->total);
  http_add_header(r, "X-Total-Count", count);
  *ret = render_reply(r, HTTP_OK, &body, BUF_OK);
  return true;
}

void listing_cache_put(const struct listing_key *k, const char *body, size_t len, int64_t total)
{
  struct listing_store *s = k->usable ? lc_store() : NULL;
  /* A page bigger than a quarter of the budget would evict all the rest. */
  if(!s || len > lc_budget / 4)
    return;
  struct listing_entry *e = lc_find(s, k);
  if(e)
    lc_drop(s, e);
  /* Room: the least recently used pages go until a slot is free and the
   * page fits the budget. */
  for(;;) {
    struct listing_entry *slot = NULL, *victim = NULL;
    for(size_t i = 0; i < LISTING_CACHE_ENTRIES; i++) {
      struct listing_entry *c = &s->e[i];
      if(!c->body)
        slot = slot ? slot : c;
      else if(!victim || c->used < victim->used)
        victim = c;
    }
    if(slot && s->bytes + len <= lc_budget) {
      e = slot;
      break;
    }
    if(!victim)
      return;
    lc_drop(s, victim);
  }
  e->body = malloc(len ? len : 1);
  if(!e->body)
    return;
  memcpy(e->body, body, len);
  e->len = len;
  s->bytes += len;
  memcpy(e->key, k->text, sizeof(e->key));
  e->stamp = k->stamp;
  e->total = total;
  e->used = ++s->tick;
}
