/* cache: progressive, size-capped, restart-surviving disk cache of chunks
 * (see cache.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blob/cache.h"
#include "util/log.h"

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

/* ---- index ---------------------------------------------------------------- */

static size_t cache_hash(const struct cache *c, const char *key)
{
  uint32_t h = 2166136261u;
  for(; *key; key++)
    h = (h ^ (unsigned char)*key) * 16777619u;
  return h & (c->nbuckets - 1);
}

static struct cache_entry *cache_find(struct cache *c, const char *key)
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

static void cache_hash_add(struct cache *c, struct cache_entry *e)
{
  if(c->count >= c->nbuckets)
    cache_grow(c);
  size_t h = cache_hash(c, e->key);
  e->hnext = c->buckets[h];
  c->buckets[h] = e;
  c->count++;
}

static void cache_hash_del(struct cache *c, struct cache_entry *e)
{
  for(struct cache_entry **pp = &c->buckets[cache_hash(c, e->key)]; *pp; pp = &(*pp)->hnext)
    if(*pp == e) {
      *pp = e->hnext;
      c->count--;
      return;
    }
}

static void cache_lru_unlink(struct cache *c, struct cache_entry *e)
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

static void cache_lru_front(struct cache *c, struct cache_entry *e)
{
  cache_lru_unlink(c, e);
  e->lru_next = c->lru_head;
  if(c->lru_head)
    c->lru_head->lru_prev = e;
  c->lru_head = e;
  if(!c->lru_tail)
    c->lru_tail = e;
}

static void cache_path(const struct cache *c, const char *key, bool part, char *out, size_t outsz)
{
  snprintf(out, outsz, "%s/%s%s", c->dir, key, part ? ".part" : "");
}

/* Removes an entry nobody references: its file, its index slot, its bytes. */
static void cache_evict(struct cache *c, struct cache_entry *e)
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
  free(e);
}

/* Evicts least recently used idle entries until the total is at most `limit`. */
static void cache_evict_to(struct cache *c, uint64_t limit)
{
  for(struct cache_entry *e = c->lru_tail, *prev; e && c->total > limit; e = prev) {
    prev = e->lru_prev;
    if(e->refs == 0)
      cache_evict(c, e);
  }
}

/* ---- present ranges --------------------------------------------------------- */

static int cache_seg_find(const struct cache_entry *e, uint64_t off)
{
  for(int i = 0; i < e->nsegs; i++)
    if(off >= e->segs[i].start && off < e->segs[i].end)
      return i;
  return -1;
}

/* Marks [a, b) present, merging neighbours. -1 when the table is full. */
static int cache_seg_add(struct cache_entry *e, uint64_t a, uint64_t b)
{
  int i = 0;
  if(a >= b)
    return 0;
  while(i < e->nsegs && e->segs[i].end < a)
    i++;
  if(i < e->nsegs && e->segs[i].start <= b) { /* overlaps or touches segs[i] */
    if(a < e->segs[i].start)
      e->segs[i].start = a;
    if(b > e->segs[i].end)
      e->segs[i].end = b;
    /* It may now reach the next ones. */
    while(i + 1 < e->nsegs && e->segs[i + 1].start <= e->segs[i].end) {
      if(e->segs[i + 1].end > e->segs[i].end)
        e->segs[i].end = e->segs[i + 1].end;
      memmove(&e->segs[i + 1], &e->segs[i + 2], (size_t)(e->nsegs - i - 2) * sizeof(e->segs[0]));
      e->nsegs--;
    }
    return 0;
  }
  if(e->nsegs == CACHE_MAX_SEGS)
    return -1;
  memmove(&e->segs[i + 1], &e->segs[i], (size_t)(e->nsegs - i) * sizeof(e->segs[0]));
  e->segs[i].start = a;
  e->segs[i].end = b;
  e->nsegs++;
  return 0;
}

/* The first byte at or after `off` that is present or claimed by a fill. */
static uint64_t cache_gap_end(const struct cache_entry *e, uint64_t off)
{
  uint64_t end = e->size;
  for(int i = 0; i < e->nsegs; i++)
    if(e->segs[i].start > off && e->segs[i].start < end)
      end = e->segs[i].start;
  for(const struct cache_fill *f = e->fills; f; f = f->next)
    if(f->cur > off && f->cur < end)
      end = f->cur;
  return end;
}

static void cache_finish_if_complete(struct cache *c, struct cache_entry *e)
{
  char from[4096], to[4096];
  if(e->complete || e->doomed || e->nsegs != 1 || e->segs[0].start != 0 ||
     e->segs[0].end != e->size)
    return;
  cache_path(c, e->key, true, from, sizeof(from));
  cache_path(c, e->key, false, to, sizeof(to));
  if(rename(from, to) != 0) {
    log_warn("cache: cannot keep %s: %s", to, strerror(errno));
    return; /* still readable; just not kept across a restart */
  }
  e->complete = true;
}

/* ---- waiters ------------------------------------------------------------------ */

static void cache_waiter_attach(struct cache_fill *f, struct cache_waiter *w, uint64_t want)
{
  w->fill = f;
  w->want = want;
  w->prev = NULL;
  w->next = f->waiters;
  if(f->waiters)
    f->waiters->prev = w;
  f->waiters = w;
}

static void cache_waiter_detach(struct cache_waiter *w)
{
  struct cache_fill *f = w->fill;
  if(!f)
    return;
  if(w->prev)
    w->prev->next = w->next;
  else
    f->waiters = w->next;
  if(w->next)
    w->next->prev = w->prev;
  w->fill = NULL;
  w->prev = w->next = NULL;
}

/* Wakes the waiters of f for which `pred` holds (all when `all`). */
static void cache_wake(struct cache_fill *f, bool all, bool failed)
{
  for(struct cache_waiter *w = f->waiters, *next; w; w = next) {
    next = w->next;
    if(all || w->want < f->cur) {
      cache_waiter_detach(w);
      w->failed = failed && w->want >= f->cur;
      if(w->wake)
        w->wake(w->arg);
    }
  }
}

void cache_waiter_set(struct cache *c, struct cache_waiter *w, void (*wake)(void *arg), void *arg)
{
  pthread_mutex_lock(&c->lock);
  w->wake = wake;
  w->arg = arg;
  pthread_mutex_unlock(&c->lock);
}

void cache_unwait(struct cache *c, struct cache_waiter *w)
{
  pthread_mutex_lock(&c->lock);
  cache_waiter_detach(w);
  w->failed = false;
  pthread_mutex_unlock(&c->lock);
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
    cache_hash_add(c, e);
  }
  e->refs++;
  cache_lru_front(c, e);
out:
  pthread_mutex_unlock(&c->lock);
  return e;
}

/* Drops a reference; caller holds the lock. */
static void cache_unref(struct cache *c, struct cache_entry *e)
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

/* ---- fills ---------------------------------------------------------------------- */

/* Starts a fill at `off` (not present, not claimed); caller holds the lock. */
static struct cache_fill *cache_fill_new(struct cache_entry *e, uint64_t off)
{
  struct cache_fill *f = calloc(1, sizeof(*f));
  if(!f)
    return NULL;
  f->e = e;
  f->cur = off;
  f->stop = cache_gap_end(e, off);
  f->next = e->fills;
  e->fills = f;
  e->nfills++;
  e->refs++;
  return f;
}

struct cache_fill *cache_prefetch(struct cache *c, struct cache_entry *e)
{
  struct cache_fill *f = NULL;
  pthread_mutex_lock(&c->lock);
  if(!e->fills && e->nsegs < CACHE_MAX_SEGS - 1) {
    uint64_t off = e->nsegs && e->segs[0].start == 0 ? e->segs[0].end : 0;
    if(off < e->size)
      f = cache_fill_new(e, off);
  }
  pthread_mutex_unlock(&c->lock);
  return f;
}

ssize_t cache_read(struct cache *c, struct cache_entry *e, void *buf, size_t n, uint64_t off,
                   struct cache_waiter *w, struct cache_fill **start_fill)
{
  *start_fill = NULL;
  pthread_mutex_lock(&c->lock);
  if(off >= e->size || n == 0) {
    pthread_mutex_unlock(&c->lock);
    return 0;
  }
  int i = cache_seg_find(e, off);
  if(i >= 0) {
    uint64_t avail = e->segs[i].end - off;
    int fd = e->fd;
    cache_waiter_detach(w);
    pthread_mutex_unlock(&c->lock);
    if(n > avail)
      n = (size_t)avail;
    ssize_t got;
    do
      got = pread(fd, buf, n, (off_t)off);
    while(got < 0 && errno == EINTR);
    return got > 0 ? got : CACHE_ERR;
  }
  if(w->failed) {
    w->failed = false;
    pthread_mutex_unlock(&c->lock);
    return CACHE_ERR;
  }
  cache_waiter_detach(w);
  /* Join a fill that will bring these bytes soon... */
  struct cache_fill *join = NULL, *behind = NULL;
  for(struct cache_fill *f = e->fills; f; f = f->next) {
    if(f->cur <= off && off < f->stop) {
      behind = f;
      if(off - f->cur <= CACHE_JOIN_BYTES)
        join = f;
    }
  }
  /* ...or start one right here (a Range fetch), taking the rest of the gap
   * from a fill far behind. */
  if(!join && e->nfills < CACHE_MAX_FILLS && e->nsegs + e->nfills < CACHE_MAX_SEGS) {
    if(behind)
      behind->stop = off;
    join = cache_fill_new(e, off);
    if(join) {
      *start_fill = join;
      if(behind) /* its waiters for bytes past the cut come along */
        for(struct cache_waiter *x = behind->waiters, *next; x; x = next) {
          next = x->next;
          if(x->want >= off) {
            cache_waiter_detach(x);
            cache_waiter_attach(join, x, x->want);
          }
        }
    }
    else if(behind)
      behind->stop = cache_gap_end(e, behind->cur); /* undo the cut */
  }
  if(!join)
    join = behind ? behind : e->fills; /* at the limits: wait for any progress */
  if(!join) {
    pthread_mutex_unlock(&c->lock);
    return CACHE_ERR; /* out of memory, or the range table is full */
  }
  cache_waiter_attach(join, w, off);
  pthread_mutex_unlock(&c->lock);
  return CACHE_AGAIN;
}

uint64_t cache_fill_pos(struct cache *c, const struct cache_fill *f)
{
  pthread_mutex_lock(&c->lock);
  uint64_t v = f->cur;
  pthread_mutex_unlock(&c->lock);
  return v;
}

uint64_t cache_fill_stop(struct cache *c, const struct cache_fill *f)
{
  pthread_mutex_lock(&c->lock);
  uint64_t v = f->stop;
  pthread_mutex_unlock(&c->lock);
  return v;
}

size_t cache_fill_write(struct cache *c, struct cache_fill *f, uint64_t off, const void *data,
                        size_t n)
{
  struct cache_entry *e = f->e;
  pthread_mutex_lock(&c->lock);
  if(off != f->cur || f->cur >= f->stop || f->io_error) {
    pthread_mutex_unlock(&c->lock);
    return 0;
  }
  if(n > f->stop - f->cur)
    n = (size_t)(f->stop - f->cur);
  int fd = e->fd;
  pthread_mutex_unlock(&c->lock);
  /* These bytes are this fill's alone: write them without the lock. */
  size_t done = 0;
  while(done < n) {
    ssize_t w = pwrite(fd, (const char *)data + done, n - done, (off_t)(off + done));
    if(w < 0 && errno == EINTR)
      continue;
    if(w <= 0)
      break;
    done += (size_t)w;
  }
  pthread_mutex_lock(&c->lock);
  if(done < n) {
    log_warn("cache: write to chunk %s failed: %s", e->key, strerror(errno));
    f->io_error = true;
  }
  if(done > 0) {
    uint64_t end = off + done;
    if(end > f->stop)
      end = f->stop; /* cut meanwhile: the rest belongs to another fill */
    if(end > off && cache_seg_add(e, off, end) != 0) {
      f->io_error = true; /* cannot happen: fills are bounded by the table */
      done = 0;
    }
    else {
      f->cur = end;
      cache_wake(f, false, false);
      cache_finish_if_complete(c, e);
    }
  }
  if(f->io_error)
    done = 0;
  pthread_mutex_unlock(&c->lock);
  return done;
}

void cache_fill_end(struct cache *c, struct cache_fill *f, bool ok)
{
  struct cache_entry *e = f->e;
  pthread_mutex_lock(&c->lock);
  for(struct cache_fill **pp = &e->fills; *pp; pp = &(*pp)->next)
    if(*pp == f) {
      *pp = f->next;
      e->nfills--;
      break;
    }
  cache_wake(f, true, !ok || f->io_error);
  cache_unref(c, e);
  pthread_mutex_unlock(&c->lock);
  free(f);
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
    if(n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      struct cache_found *g = realloc(found, ncap * sizeof(*g));
      if(!g)
        break;
      found = g;
      cap = ncap;
    }
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
  if((mkdir(dir, 0700) != 0 && errno != EEXIST) || cache_scan(c) != 0) {
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
