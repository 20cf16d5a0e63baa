/* cache_index: finding entries by key (a chained hash table that doubles as
 * it fills) and their LRU order, and evicting idle entries from its tail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blob/cache_priv.h"
#include "util/metric_list.h"

static size_t cache_hash(const struct cache *c, const char *key)
{
  uint32_t h = 2166136261u;
  for(; *key; key++)
    h = (h ^ (unsigned char)*key) * 16777619u;
  return h & (c->nbuckets - 1);
}

struct cache_entry *cache_find(struct cache *c, const char *key)
{
  for(struct cache_entry *e = c->buckets[cache_hash(c, key)]; e; e = e->hnext)
    if(!strcmp(e->key, key))
      return e;
  return NULL;
}

static void cache_grow(struct cache *c)
{
  size_t n = c->nbuckets * 2;
  struct cache_entry **b = calloc(n, sizeof(*b));
  if(!b)
    return; /* longer chains, still correct */
  struct cache_entry **old = c->buckets;
  size_t oldn = c->nbuckets;
  c->buckets = b;
  c->nbuckets = n;
  for(size_t i = 0; i < oldn; i++)
    for(struct cache_entry *e = old[i], *next; e; e = next) {
      next = e->hnext;
      size_t h = cache_hash(c, e->key);
      e->hnext = b[h];
      b[h] = e;
    }
  free(old);
}

void cache_hash_add(struct cache *c, struct cache_entry *e)
{
  if(c->count >= c->nbuckets)
    cache_grow(c);
  size_t h = cache_hash(c, e->key);
  e->hnext = c->buckets[h];
  c->buckets[h] = e;
  c->count++;
}

void cache_hash_del(struct cache *c, struct cache_entry *e)
{
  for(struct cache_entry **pp = &c->buckets[cache_hash(c, e->key)]; *pp; pp = &(*pp)->hnext)
    if(*pp == e) {
      *pp = e->hnext;
      c->count--;
      return;
    }
}

void cache_lru_unlink(struct cache *c, struct cache_entry *e)
{
  if(e->lru_prev)
    e->lru_prev->lru_next = e->lru_next;
  else if(c->lru_head == e)
    c->lru_head = e->lru_next;
  if(e->lru_next)
    e->lru_next->lru_prev = e->lru_prev;
  else if(c->lru_tail == e)
    c->lru_tail = e->lru_prev;
  e->lru_prev = e->lru_next = NULL;
}

void cache_lru_front(struct cache *c, struct cache_entry *e)
{
  cache_lru_unlink(c, e);
  e->lru_next = c->lru_head;
  if(c->lru_head)
    c->lru_head->lru_prev = e;
  c->lru_head = e;
  if(!c->lru_tail)
    c->lru_tail = e;
}

void cache_path(const struct cache *c, const char *key, bool part, char *out, size_t outsz)
{
  snprintf(out, outsz, "%s/%s%s", c->dir, key, part ? ".part" : "");
}

/* Removes an entry nobody references: its file, its index slot, its bytes. */
void cache_evict(struct cache *c, struct cache_entry *e)
{
  char path[4096];
  if(!e->doomed) {
    cache_path(c, e->key, !e->complete, path, sizeof(path));
    unlink(path);
    cache_hash_del(c, e);
    cache_lru_unlink(c, e);
  }
  if(e->fd >= 0)
    close(e->fd);
  c->total -= e->size;
  metric_set(&metric_cache_bytes, NULL, (int64_t)c->total);
  free(e);
}

/* Evicts least recently used idle entries until the total is at most `limit`. */
void cache_evict_to(struct cache *c, uint64_t limit)
{
  for(struct cache_entry *e = c->lru_tail, *prev; e && c->total > limit; e = prev) {
    prev = e->lru_prev;
    if(e->refs == 0)
      cache_evict(c, e);
  }
}
