/* cache: the disk cache of downloaded chunks, under DATA_DIR/cache. A second
 * download or a video seek is served from here instead of going back to the
 * remote store.
 *
 * An entry is one chunk, named by a stable key (the remote file's unique
 * id). Its file is written progressively by "fills" (downloads of a byte
 * range) and readers read the part already there: a read of bytes not yet
 * present registers a waiter whose wake callback runs once they arrive (or
 * the fill bringing them ends), and tells the caller when it must start a
 * new fill, so a seek deep into a chunk fetches from there (a Range request)
 * instead of waiting for everything before it. An entry is complete when
 * every byte is there; it is then renamed from "<key>.part" to "<key>".
 *
 * Size cap with LRU eviction of entries nobody uses; complete entries
 * survive a restart (the index is rebuilt from the directory at open,
 * partial ones are dropped). One lock for everything; wake callbacks run
 * under it, so they must be cheap and must not call back into the cache. */
#ifndef NETRA_CACHE_H
#define NETRA_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CACHE_KEY_MAX 192      /* key length limit, + NUL */
#define CACHE_JOIN_BYTES (1024 * 1024) /* a read this close ahead of a fill waits for it */
#define CACHE_MAX_FILLS 4      /* fills running at once per entry */
#define CACHE_MAX_SEGS 16      /* separate present ranges tracked per entry */

enum { CACHE_ERR = -1, CACHE_AGAIN = -2 };

struct cache;
struct cache_entry;
struct cache_fill;

/** A reader's registration for CACHE_AGAIN. The owner sets wake/arg and
 *  zeroes the rest before first use. */
struct cache_waiter {
  void (*wake)(void *arg);
  void *arg;
  /* The cache's: */
  struct cache_fill *fill;  /* waiting on this fill */
  uint64_t want;            /* for the byte at this offset */
  bool failed;              /* the fill ended without it */
  struct cache_waiter *prev, *next;
};

/** Opens (creating) the cache directory `dir` with a cap of `cap` bytes and
 *  indexes what a previous run left there. NULL with a message in err. */
struct cache *cache_open(const char *dir, uint64_t cap, char *err, size_t errlen);
/** Frees the index (every entry must be released and every fill ended);
 *  partial files are removed, complete ones kept. */
void cache_close(struct cache *c);

/** True when `key` can name an entry (base64url characters, bounded). */
bool cache_key_valid(const char *key);

/** Finds or creates the entry for chunk `key` of `size` (> 0) bytes and takes
 *  a reference. NULL on error (bad key, I/O, a known entry of another size
 *  that is in use). */
struct cache_entry *cache_acquire(struct cache *c, const char *key, uint64_t size);
/** Drops a reference (the entry stays cached until evicted). */
void cache_release(struct cache *c, struct cache_entry *e);
/** True when every byte of the entry is on disk. */
bool cache_entry_complete(struct cache *c, struct cache_entry *e);

/** Reads up to n bytes at off: the count (> 0), 0 at the end, CACHE_ERR
 *  (I/O error, or the fill `w` waited on failed: reported once), or
 *  CACHE_AGAIN with `w` registered. With CACHE_AGAIN, *start_fill is set
 *  when nobody fetches these bytes yet: the caller must then fetch
 *  [cache_fill_pos, cache_fill_stop) into it and end it. */
ssize_t cache_read(struct cache *c, struct cache_entry *e, void *buf, size_t n, uint64_t off,
                   struct cache_waiter *w, struct cache_fill **start_fill);
/** Sets w's callback (under the lock: a fill may be waking it right now). */
void cache_waiter_set(struct cache *c, struct cache_waiter *w, void (*wake)(void *arg), void *arg);
/** Unregisters `w` if it waits; once this returns its wake does not run. */
void cache_unwait(struct cache *c, struct cache_waiter *w);

/** For read-ahead: a new fill for the entry's first missing bytes, or NULL
 *  when it is complete or already being filled. */
struct cache_fill *cache_prefetch(struct cache *c, struct cache_entry *e);

/** Where the fill writes next (a retry resumes there). */
uint64_t cache_fill_pos(struct cache *c, const struct cache_fill *f);
/** Where it stops (may shrink while it runs, when a reader seeks ahead). */
uint64_t cache_fill_stop(struct cache *c, const struct cache_fill *f);
/** Stores bytes at `off` (the fill's position). Returns how many it took:
 *  fewer than n means stop (the fill reached its stop, or a write failed). */
size_t cache_fill_write(struct cache *c, struct cache_fill *f, uint64_t off, const void *data,
                        size_t n);
/** Ends a fill: wakes its waiters (failed when !ok, or when a write failed)
 *  and drops its reference on the entry. */
void cache_fill_end(struct cache *c, struct cache_fill *f, bool ok);

/** The chunk is gone from the store: drop its entry now, or when the last
 *  reference goes. */
void cache_forget(struct cache *c, const char *key);

/** Bytes accounted (every entry counts its full size) and entry count. */
void cache_stats(struct cache *c, uint64_t *bytes, size_t *entries);

#endif
