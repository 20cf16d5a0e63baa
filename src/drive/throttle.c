/* throttle: a fixed array scanned linearly. With a few thousand entries a
 * scan is a few microseconds, far below the Argon2id verify every login pays,
 * and it keeps eviction trivial to reason about. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "drive/throttle.h"

struct throttle_entry {
  bool used;
  uint64_t hash;             /* compared before the key */
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
  struct throttle_entry *entries;
};

/* FNV-1a: cheap and good enough to skip most string compares. */
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
  if(max_failures < 1 || window_s < 1 || capacity < 1)
    return NULL;
  throttle_t *t = calloc(1, sizeof(*t));
  if(!t)
    return NULL;
  t->entries = calloc(capacity, sizeof(*t->entries));
  if(!t->entries) {
    free(t);
    return NULL;
  }
  pthread_mutex_init(&t->lock, NULL);
  t->max_failures = max_failures;
  t->window_ms = (int64_t)window_s * 1000;
  t->capacity = capacity;
  return t;
}

void throttle_free(throttle_t *t)
{
  if(!t)
    return;
  pthread_mutex_destroy(&t->lock);
  free(t->entries);
  free(t);
}

static bool entry_expired(const throttle_t *t, const struct throttle_entry *e, int64_t now)
{
  return now - e->window_start_ms >= t->window_ms;
}

/* Seconds left on the lock of `e`, or 0 when it is not locked. */
static int entry_retry_after(const throttle_t *t, const struct throttle_entry *e, int64_t now)
{
  if(e->count < t->max_failures || entry_expired(t, e, now))
    return 0;
  int64_t left = e->window_start_ms + t->window_ms - now;
  return (int)((left + 999) / 1000);
}

/* The entry holding `key`, or NULL. Caller holds the lock. */
static struct throttle_entry *entry_find(throttle_t *t, const char *key, size_t n, uint64_t h)
{
  for(size_t i = 0; i < t->capacity; i++) {
    struct throttle_entry *e = &t->entries[i];
    if(e->used && e->hash == h && !strncmp(e->key, key, n) && e->key[n] == 0)
      return e;
  }
  return NULL;
}

/* A slot for a new key: a free one, else an expired one, else the unlocked
 * entry with the oldest window, else the oldest entry. */
static struct throttle_entry *entry_take(throttle_t *t, int64_t now)
{
  struct throttle_entry *unlocked = NULL, *oldest = NULL;
  for(size_t i = 0; i < t->capacity; i++) {
    struct throttle_entry *e = &t->entries[i];
    if(!e->used) {
      t->used++;
      return e;
    }
    if(entry_expired(t, e, now))
      return e;
    if(!entry_retry_after(t, e, now) &&
       (!unlocked || e->window_start_ms < unlocked->window_start_ms))
      unlocked = e;
    if(!oldest || e->window_start_ms < oldest->window_start_ms)
      oldest = e;
  }
  return unlocked ? unlocked : oldest;
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
  struct throttle_entry *e = entry_find(t, key, n, h);
  if(e)
    retry = entry_retry_after(t, e, now_ms);
  pthread_mutex_unlock(&t->lock);
  return retry;
}

int throttle_fail(throttle_t *t, const char *key, int64_t now_ms)
{
  size_t n = key_len(key);
  uint64_t h = throttle_hash(key, n);
  pthread_mutex_lock(&t->lock);
  struct throttle_entry *e = entry_find(t, key, n, h);
  if(!e) {
    e = entry_take(t, now_ms);
    e->used = true;
    e->hash = h;
    memcpy(e->key, key, n);
    e->key[n] = 0;
    e->count = 0;
    e->window_start_ms = now_ms;
  }
  else if(entry_expired(t, e, now_ms)) {
    e->count = 0;
    e->window_start_ms = now_ms;
  }
  if(e->count < t->max_failures)
    e->count++;
  int retry = entry_retry_after(t, e, now_ms);
  pthread_mutex_unlock(&t->lock);
  return retry;
}

void throttle_clear(throttle_t *t, const char *key)
{
  size_t n = key_len(key);
  uint64_t h = throttle_hash(key, n);
  pthread_mutex_lock(&t->lock);
  struct throttle_entry *e = entry_find(t, key, n, h);
  if(e) {
    memset(e, 0, sizeof(*e));
    t->used--;
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
