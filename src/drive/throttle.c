/* throttle: a fixed array of entries with a hash index (chained through the
 * entries) for O(1) lookups, and two lists ordered by window start for O(1)
 * eviction: every entry, and the unlocked ones. A new window always starts
 * at "now", so appending keeps both lists ordered (callers use one
 * monotonic clock); locking only takes an entry out of the unlocked list,
 * which keeps its order. The oldest entry is the head of the first list:
 * when it has not expired, no entry has. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "drive/throttle.h"

#define NIL UINT32_MAX

struct throttle_link {
  uint32_t prev, next;
};

struct throttle_list {
  uint32_t head, tail;
};

struct throttle_entry {
  bool used;
  bool locked;               /* count reached max_failures in this window */
  uint64_t hash;             /* compared before the key */
  uint32_t chain;            /* next entry of the same hash bucket */
  struct throttle_link all;  /* every used entry, by window start */
  struct throttle_link open; /* the unlocked ones, by window start */
  int64_t window_start_ms;   /* first failure of the current window */
  int count;                 /* failures in the current window */
  char key[THROTTLE_KEY_MAX + 1];
};

struct throttle {
  pthread_mutex_t lock;
  int max_failures;
  int64_t window_ms;
  size_t capacity;
  size_t used;
  uint32_t mask;             /* buckets - 1 (a power of two >= 2 * capacity) */
  uint32_t *buckets;         /* first entry of each bucket, or NIL */
  uint32_t free_next;        /* entries [free_next, capacity) never used yet */
  uint32_t free_head;        /* entries cleared since, chained by `chain` */
  struct throttle_list all, open;
  struct throttle_entry *entries;
};

/* FNV-1a: cheap and good enough for a table keyed by short strings. */
static uint64_t throttle_hash(const char *key, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  for(size_t i = 0; i < n; i++) {
    h ^= (unsigned char)key[i];
    h *= 1099511628211ULL;
  }
  return h;
}

throttle_t *throttle_new(int max_failures, int window_s, size_t capacity)
{
  if(max_failures < 1 || window_s < 1 || capacity < 1 || capacity > (NIL >> 2))
    return NULL;
  throttle_t *t = calloc(1, sizeof(*t));
  if(!t)
    return NULL;
  size_t nb = 16;
  while(nb < 2 * capacity)
    nb <<= 1;
  t->entries = calloc(capacity, sizeof(*t->entries));
  t->buckets = malloc(nb * sizeof(*t->buckets));
  if(!t->entries || !t->buckets) {
    free(t->entries);
    free(t->buckets);
    free(t);
    return NULL;
  }
  memset(t->buckets, 0xff, nb * sizeof(*t->buckets));   /* all NIL */
  pthread_mutex_init(&t->lock, NULL);
  t->max_failures = max_failures;
  t->window_ms = (int64_t)window_s * 1000;
  t->capacity = capacity;
  t->mask = (uint32_t)(nb - 1);
  t->all.head = t->all.tail = t->open.head = t->open.tail = NIL;
  t->free_head = NIL;
  return t;
}

void throttle_free(throttle_t *t)
{
  if(!t)
    return;
  pthread_mutex_destroy(&t->lock);
  free(t->buckets);
  free(t->entries);
  free(t);
}

/* ---- the two ordered lists (caller holds the lock) ------------------------ */

static struct throttle_link *link_of(throttle_t *t, uint32_t i, bool all)
{
  return all ? &t->entries[i].all : &t->entries[i].open;
}

static void list_append(throttle_t *t, struct throttle_list *l, uint32_t i, bool all)
{
  struct throttle_link *k = link_of(t, i, all);
  k->prev = l->tail;
  k->next = NIL;
  if(l->tail != NIL)
    link_of(t, l->tail, all)->next = i;
  else
    l->head = i;
  l->tail = i;
}

static void list_remove(throttle_t *t, struct throttle_list *l, uint32_t i, bool all)
{
  struct throttle_link *k = link_of(t, i, all);
  if(k->prev != NIL)
    link_of(t, k->prev, all)->next = k->next;
  else
    l->head = k->next;
  if(k->next != NIL)
    link_of(t, k->next, all)->prev = k->prev;
  else
    l->tail = k->prev;
  k->prev = k->next = NIL;
}

/* ---- entries (caller holds the lock) -------------------------------------- */

static bool entry_expired(const throttle_t *t, const struct throttle_entry *e, int64_t now)
{
  return now - e->window_start_ms >= t->window_ms;
}

/* Seconds left on the lock of `e`, or 0 when it is not locked. */
static int entry_retry_after(const throttle_t *t, const struct throttle_entry *e, int64_t now)
{
  if(!e->locked || entry_expired(t, e, now))
    return 0;
  int64_t left = e->window_start_ms + t->window_ms - now;
  return (int)((left + 999) / 1000);
}

/* The index of the entry holding `key`, or NIL. */
static uint32_t entry_find(throttle_t *t, const char *key, size_t n, uint64_t h)
{
  for(uint32_t i = t->buckets[h & t->mask]; i != NIL; i = t->entries[i].chain) {
    struct throttle_entry *e = &t->entries[i];
    if(e->hash == h && !strncmp(e->key, key, n) && e->key[n] == 0)
      return i;
  }
  return NIL;
}

/* Takes entry i out of its bucket and both lists; it is unused after (the
 * caller reuses it or puts it on the free chain). */
static void entry_drop(throttle_t *t, uint32_t i)
{
  struct throttle_entry *e = &t->entries[i];
  for(uint32_t *pp = &t->buckets[e->hash & t->mask]; *pp != NIL; pp = &t->entries[*pp].chain)
    if(*pp == i) {
      *pp = e->chain;
      break;
    }
  list_remove(t, &t->all, i, true);
  if(!e->locked)
    list_remove(t, &t->open, i, false);
  memset(e, 0, sizeof(*e));
  t->used--;
}

/* Starts a new window for entry i at `now` (last in both lists). */
static void entry_restart(throttle_t *t, uint32_t i, int64_t now)
{
  struct throttle_entry *e = &t->entries[i];
  list_remove(t, &t->all, i, true);
  if(!e->locked)
    list_remove(t, &t->open, i, false);
  e->locked = false;
  e->count = 0;
  e->window_start_ms = now;
  list_append(t, &t->all, i, true);
  list_append(t, &t->open, i, false);
}

/* A slot for a new key: a free one, else the oldest entry when it expired
 * (then no entry is live longer), else the unlocked entry with the oldest
 * window, else the oldest entry. */
static uint32_t entry_take(throttle_t *t, int64_t now)
{
  if(t->free_head != NIL) {
    uint32_t i = t->free_head;
    t->free_head = t->entries[i].chain;
    return i;
  }
  if(t->free_next < t->capacity)
    return t->free_next++;
  uint32_t i = t->all.head;
  if(!entry_expired(t, &t->entries[i], now) && t->open.head != NIL)
    i = t->open.head;
  if(t->entries[i].used)
    entry_drop(t, i);
  return i;
}

static size_t key_len(const char *key)
{
  return strnlen(key, THROTTLE_KEY_MAX);
}

int throttle_check(throttle_t *t, const char *key, int64_t now_ms)
{
  size_t n = key_len(key);
  uint64_t h = throttle_hash(key, n);
  int retry = 0;
  pthread_mutex_lock(&t->lock);
  uint32_t i = entry_find(t, key, n, h);
  if(i != NIL)
    retry = entry_retry_after(t, &t->entries[i], now_ms);
  pthread_mutex_unlock(&t->lock);
  return retry;
}

int throttle_fail(throttle_t *t, const char *key, int64_t now_ms)
{
  size_t n = key_len(key);
  uint64_t h = throttle_hash(key, n);
  pthread_mutex_lock(&t->lock);
  uint32_t i = entry_find(t, key, n, h);
  if(i == NIL) {
    i = entry_take(t, now_ms);
    struct throttle_entry *e = &t->entries[i];
    e->used = true;
    e->hash = h;
    memcpy(e->key, key, n);
    e->key[n] = 0;
    e->chain = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = i;
    e->window_start_ms = now_ms;
    t->used++;
    list_append(t, &t->all, i, true);
    list_append(t, &t->open, i, false);
  }
  else if(entry_expired(t, &t->entries[i], now_ms))
    entry_restart(t, i, now_ms);
  struct throttle_entry *e = &t->entries[i];
  if(e->count < t->max_failures)
    e->count++;
  if(!e->locked && e->count >= t->max_failures) {
    e->locked = true;
    list_remove(t, &t->open, i, false);
  }
  int retry = entry_retry_after(t, e, now_ms);
  pthread_mutex_unlock(&t->lock);
  return retry;
}

void throttle_clear(throttle_t *t, const char *key)
{
  size_t n = key_len(key);
  uint64_t h = throttle_hash(key, n);
  pthread_mutex_lock(&t->lock);
  uint32_t i = entry_find(t, key, n, h);
  if(i != NIL) {
    entry_drop(t, i);
    t->entries[i].chain = t->free_head;
    t->free_head = i;
  }
  pthread_mutex_unlock(&t->lock);
}

size_t throttle_size(throttle_t *t)
{
  pthread_mutex_lock(&t->lock);
  size_t n = t->used;
  pthread_mutex_unlock(&t->lock);
  return n;
}
