/* cache: progressive, size-capped, restart-surviving disk cache of chunks
 * (see cache.h). This file: entries (acquire, release, forget) and opening
 * the cache over what a previous run left; lookup and eviction are in
 * cache_index.c, present ranges, fills and reads in cache_fill.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blob/cache_priv.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/metric_list.h"
#include "util/grow.h"

bool cache_key_valid(const char *key)
{
  size_t n = 0;
  for(; key[n]; n++) {
    char ch = key[n];
    if(!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '_') || n + 1 >= CACHE_KEY_MAX)
      return false;
  }
  return n > 0;
}

/* ---- entries ------------------------------------------------------------------- */

static int cache_open_fd(struct cache *c, struct cache_entry *e, bool create)
{
  char path[4096];
  cache_path(c, e->key, !e->complete, path, sizeof(path));
  if(create) {
    e->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if(e->fd >= 0 && ftruncate(e->fd, (off_t)e->size) != 0) {
      close(e->fd);
      unlink(path);
      e->fd = -1;
    }
  }
  else
    e->fd = open(path, (e->complete ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if(e->fd < 0) {
    log_warn("cache: cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

static struct cache_entry *cache_entry_new(const char *key, uint64_t size, bool complete)
{
  size_t klen = strlen(key);
  if(klen >= CACHE_KEY_MAX)
    return NULL;
  struct cache_entry *e = calloc(1, sizeof(*e));
  if(!e)
    return NULL;
  memcpy(e->key, key, klen + 1);
  e->size = size;
  e->fd = -1;
  e->complete = complete;
  if(complete) {
    e->segs[0].start = 0;
    e->segs[0].end = size;
    e->nsegs = 1;
  }
  return e;
}

struct cache_entry *cache_acquire(struct cache *c, const char *key, uint64_t size)
{
  if(!cache_key_valid(key) || size == 0)
    return NULL;
  pthread_mutex_lock(&c->lock);
  struct cache_entry *e = cache_find(c, key);
  if(e && e->size != size) {
    if(e->refs > 0) {
      log_warn("cache: chunk %s is cached with another size", key);
      e = NULL;
      goto out;
    }
    cache_evict(c, e); /* stale or damaged: fetch it again */
    e = NULL;
  }
  if(e) {
    if(e->refs == 0 && cache_open_fd(c, e, false) != 0) {
      /* Its file vanished: forget it and start over. */
      cache_evict(c, e);
      e = NULL;
    }
    else if(e->complete && e->refs == 0)
      futimens(e->fd, NULL); /* LRU order that survives a restart */
  }
  if(!e) {
    if(c->total + size > c->cap)
      cache_evict_to(c, c->cap > size ? c->cap - size : 0);
    e = cache_entry_new(key, size, false);
    if(!e)
      goto out;
    if(cache_open_fd(c, e, true) != 0) {
      free(e);
      e = NULL;
      goto out;
    }
    c->total += size;
    metric_set(&metric_cache_bytes, NULL, (int64_t)c->total);
    cache_hash_add(c, e);
  }
  e->refs++;
  cache_lru_front(c, e);
out:
  pthread_mutex_unlock(&c->lock);
  return e;
}

/* Drops a reference; caller holds the lock. */
void cache_unref(struct cache *c, struct cache_entry *e)
{
  if(--e->refs > 0)
    return;
  close(e->fd);
  e->fd = -1;
  if(e->doomed) {
    cache_evict(c, e);
    return;
  }
  cache_evict_to(c, c->cap);
}

void cache_release(struct cache *c, struct cache_entry *e)
{
  if(!e)
    return;
  pthread_mutex_lock(&c->lock);
  cache_unref(c, e);
  pthread_mutex_unlock(&c->lock);
}

bool cache_entry_complete(struct cache *c, struct cache_entry *e)
{
  pthread_mutex_lock(&c->lock);
  bool done = e->nsegs == 1 && e->segs[0].start == 0 && e->segs[0].end == e->size;
  pthread_mutex_unlock(&c->lock);
  return done;
}

void cache_forget(struct cache *c, const char *key)
{
  char path[4096];
  if(!cache_key_valid(key))
    return;
  pthread_mutex_lock(&c->lock);
  struct cache_entry *e = cache_find(c, key);
  if(e) {
    if(e->refs == 0)
      cache_evict(c, e);
    else {
      /* In use: unlink now (open descriptors still read), free at the end. */
      cache_path(c, e->key, !e->complete, path, sizeof(path));
      unlink(path);
      cache_hash_del(c, e);
      cache_lru_unlink(c, e);
      e->doomed = true;
    }
  }
  pthread_mutex_unlock(&c->lock);
}

void cache_stats(struct cache *c, uint64_t *bytes, size_t *entries)
{
  pthread_mutex_lock(&c->lock);
  *bytes = c->total;
  *entries = c->count;
  pthread_mutex_unlock(&c->lock);
}

/* ---- open / close ------------------------------------------------------------------ */

struct cache_found {
  struct cache_entry *e;
  int64_t mtime;
};

static int cache_found_cmp(const void *a, const void *b)
{
  const struct cache_found *x = a, *y = b;
  return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Indexes complete chunks left by an earlier run; removes anything else. */
static int cache_scan(struct cache *c)
{
  DIR *d = opendir(c->dir);
  struct cache_found *found = NULL;
  size_t n = 0, cap = 0;
  char path[4096];
  if(!d)
    return -1;
  struct dirent *de;
  while((de = readdir(d))) {
    struct stat st;
    if(!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    cache_path(c, de->d_name, false, path, sizeof(path));
    if(lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    if(!cache_key_valid(de->d_name) || st.st_size <= 0) {
      unlink(path); /* partial downloads and strays */
      continue;
    }
    struct cache_found *g = grow_room(found, &cap, n, sizeof(*g), 64);
    if(!g)
      break;
    found = g;
    found[n].e = cache_entry_new(de->d_name, (uint64_t)st.st_size, true);
    found[n].mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if(found[n].e)
      n++;
  }
  closedir(d);
  if(n > 1)
    qsort(found, n, sizeof(*found), cache_found_cmp);
  for(size_t i = 0; i < n; i++) { /* oldest first, so the newest ends at the head */
    cache_hash_add(c, found[i].e);
    cache_lru_front(c, found[i].e);
    c->total += found[i].e->size;
  }
  free(found);
  cache_evict_to(c, c->cap);
  metric_set(&metric_cache_bytes, NULL, (int64_t)c->total);
  return 0;
}

struct cache *cache_open(const char *dir, uint64_t cap, char *err, size_t errlen)
{
  struct cache *c = calloc(1, sizeof(*c));
  if(!c || !(c->dir = strdup(dir)) || !(c->buckets = calloc(256, sizeof(*c->buckets)))) {
    snprintf(err, errlen, "cache: out of memory");
    goto fail;
  }
  c->nbuckets = 256;
  c->cap = cap;
  pthread_mutex_init(&c->lock, NULL);
  if(fs_mkdir_p(dir, 0700) != 0 || cache_scan(c) != 0) {
    snprintf(err, errlen, "DATA_DIR: cannot use the chunk cache directory '%s': %s", dir,
             strerror(errno));
    pthread_mutex_destroy(&c->lock);
    goto fail;
  }
  return c;
fail:
  if(c) {
    for(size_t i = 0; c->buckets && i < c->nbuckets; i++)
      for(struct cache_entry *e = c->buckets[i], *next; e; e = next) {
        next = e->hnext;
        free(e);
      }
    free(c->buckets);
    free(c->dir);
    free(c);
  }
  return NULL;
}

void cache_close(struct cache *c)
{
  char path[4096];
  if(!c)
    return;
  for(struct cache_entry *e = c->lru_head, *next; e; e = next) {
    next = e->lru_next;
    if(e->refs > 0)
      log_warn("cache: chunk %s still in use at close", e->key);
    if(!e->complete) {
      cache_path(c, e->key, true, path, sizeof(path));
      unlink(path);
    }
    if(e->fd >= 0)
      close(e->fd);
    free(e);
  }
  free(c->buckets);
  free(c->dir);
  pthread_mutex_destroy(&c->lock);
  free(c);
}
