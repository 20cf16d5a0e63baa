/* cache_fill: the progressive part of the chunk cache. An entry's present
 * bytes are a short sorted list of ranges; fills write at their cursor and
 * wake the readers waiting on them; a read of missing bytes joins a fill
 * about to bring them or starts one of its own (see cache_read). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blob/cache_priv.h"
#include "util/log.h"
#include "util/metric_list.h"

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
    metric_add(&metric_cache_fill_bytes, NULL, done);
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

