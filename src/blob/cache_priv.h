/* cache_priv: the chunk cache's state, shared by cache.c (entries, open and
 * close), cache_index.c (lookup, LRU order, eviction) and cache_fill.c
 * (present ranges, fills, waiters and reads). Private to those files; the
 * functions declared here run under the cache lock (or at open, before the
 * cache is shared). */
#ifndef NETRA_CACHE_PRIV_H
#define NETRA_CACHE_PRIV_H
#include <pthread.h>
#include "blob/cache.h"

struct cache_seg {
  uint64_t start, end; /* present bytes [start, end) */
};

struct cache_fill {
  struct cache_entry *e;
  uint64_t cur, stop;
  bool io_error;
  struct cache_waiter *waiters;
  struct cache_fill *next;
};

struct cache_entry {
  char key[CACHE_KEY_MAX];
  uint64_t size;
  int fd;                 /* open while refs > 0 */
  int refs;               /* readers + fills */
  bool complete;
  bool doomed;            /* forgotten: file unlinked, freed at the last release */
  struct cache_seg segs[CACHE_MAX_SEGS]; /* sorted, disjoint, not adjacent */
  int nsegs;
  struct cache_fill *fills;
  int nfills;
  struct cache_entry *hnext;
  struct cache_entry *lru_prev, *lru_next; /* head = most recently used */
};

struct cache {
  pthread_mutex_t lock;
  char *dir;
  uint64_t cap, total;
  size_t count;
  struct cache_entry **buckets;
  size_t nbuckets;        /* a power of two */
  struct cache_entry *lru_head, *lru_tail;
};

/* cache_index.c */
/** The indexed entry named `key`, or NULL. */
struct cache_entry *cache_find(struct cache *c, const char *key);
void cache_hash_add(struct cache *c, struct cache_entry *e);
void cache_hash_del(struct cache *c, struct cache_entry *e);
void cache_lru_unlink(struct cache *c, struct cache_entry *e);
/** Makes `e` the most recently used. */
void cache_lru_front(struct cache *c, struct cache_entry *e);
/** The file of entry `key`: "<dir>/<key>", or "<dir>/<key>.part" when `part`. */
void cache_path(const struct cache *c, const char *key, bool part, char *out, size_t outsz);
/** Removes an entry nobody references: its file, its index slot, its bytes. */
void cache_evict(struct cache *c, struct cache_entry *e);
/** Evicts least recently used idle entries until the total is at most `limit`. */
void cache_evict_to(struct cache *c, uint64_t limit);

/* cache.c */
/** Drops a reference; the last one closes the file (and frees a forgotten
 *  entry, or evicts down to the cap). */
void cache_unref(struct cache *c, struct cache_entry *e);

#endif
