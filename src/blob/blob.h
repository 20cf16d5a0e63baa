/* blob: the chunk store. A file's content is an ordered list of chunks; each
 * chunk is stored by a backend (local disk, Telegram) under an opaque locator
 * that only this layer understands. The shape is asynchronous so a remote
 * backend fits: writes complete through a callback, reads may have to wait
 * for bytes to arrive. */
#ifndef NETRA_BLOB_H
#define NETRA_BLOB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/checksum.h"

#define BLOB_LOCATOR_MAX 512
#define BLOB_PATH_MAX 4096
#define BLOB_CHUNK_MIN (64 * 1024) /* blob_chunk_size never balances below this */

enum { BLOB_OK = 0, BLOB_ERR = -1, BLOB_AGAIN = -2, BLOB_NOTFOUND = -3, BLOB_CANCELLED = -4 };

struct blob;
struct blob_reader;

/** Called exactly once when a put finishes: rc BLOB_OK with the locator to
 *  record, or an error. Normally later, on a store thread: local, the
 *  writer thread once the chunk is fsynced and renamed into place;
 *  Telegram, the loop thread once the reply came. It may also run before
 *  blob_put returns, when the put cannot be queued (out of memory; for
 *  Telegram also an empty chunk): callers must be ready for both. */
typedef void (*blob_done_fn)(void *arg, int rc, const char *locator);

/** The backends. */
enum blob_kind { BLOB_KIND_LOCAL = 0, BLOB_KIND_TELEGRAM };

/** What a store is opened with: only what blob needs from the
 *  configuration. Read during blob_open only (the store copies what it
 *  keeps). */
struct blob_backend;

struct blob_options {
  enum blob_kind kind;
  const struct blob_backend *backend; /* a backend of one's own (backend.h; tests), else NULL */
  const char *data_dir;       /* chunks/, tmp/ (spool files) and cache/ go under it */
  uint64_t chunk_size;        /* CHUNK_SIZE: the largest chunk */
  uint64_t cache_size;        /* CACHE_SIZE: cap of the download cache (remote stores) */
  struct {
    const char *bot_tokens;   /* TELEGRAM_BOT_TOKEN: comma list, raw */
    const char *chat_ids;     /* TELEGRAM_STORAGE_CHAT_ID: comma list, raw */
    const char *api_url;      /* TELEGRAM_API_URL: Bot API base, no trailing slash */
    bool local_mode;          /* TELEGRAM_LOCAL_MODE: a self-hosted Bot API server */
    int parallel;             /* TELEGRAM_PARALLEL_UPLOADS: documents sent at once */
    bool pacing;              /* TELEGRAM_PACING: client-side flood control */
  } telegram;
};

/** Opens the store `opt` names; creates its directories. Returns NULL with
 *  a one-line message in err. */
struct blob *blob_open(const struct blob_options *opt, char *err, size_t errlen);
void blob_close(struct blob *b);
/** "local" or "telegram": recorded with every content and pending delete. */
const char *blob_backend_name(const struct blob *b);
/** True for stores whose puts travel over the network (not "local"):
 *  uploads to them are tasks the user can watch and cancel. */
bool blob_is_remote(const struct blob *b);
/** How many chunks the store downloads at once to good effect (readers
 *  open that many to keep it busy); 1 when it does not say. */
int blob_fetch_parallel(const struct blob *b);
/** How many chunks one upload should keep spooled or in flight to keep the
 *  store busy (beyond that the upload waits for one to complete). Local
 *  disk: 8. Telegram: max(8, 2 x TELEGRAM_PARALLEL_UPLOADS): chunks of one
 *  size sent together finish together, so a whole round more queued lets
 *  every sender start its next chunk at once. */
int blob_put_parallel(const struct blob *b);
/** The chunk size the store wants for a file whose size is known to lie in
 *  [size_min, size_max] (both 0: unknown); never above CHUNK_SIZE. Local
 *  disk: CHUNK_SIZE. Telegram: when the file takes at least one full round
 *  of TELEGRAM_PARALLEL_UPLOADS chunks, chunks just small enough that their
 *  count is a whole number of rounds (52 chunks over 8 senders would end
 *  with half of them idle, 56 slightly smaller ones do not), counted from
 *  size_min and sized to cover size_max; CHUNK_SIZE when that would go
 *  under BLOB_CHUNK_MIN. An upload that knows only its request length
 *  passes that as size_max and the length less its framing as size_min. */
uint64_t blob_chunk_size(const struct blob *b, uint64_t size_min, uint64_t size_max);
/** The checksum kind this store keeps with its chunks: SHA-256 for remote
 *  stores (it also names the document sent; hashing is cheap next to the
 *  network), XXH3-128 for local disk (where hashing is the bottleneck). */
enum checksum_kind blob_chunk_checksum(const struct blob *b);
/** True when reachable (for /readyz). */
int blob_ping(struct blob *b);

/** Creates a new spool file for a chunk being received; returns an fd open
 *  for writing and its path, or -1. */
int blob_spool_create(struct blob *b, char *path, size_t pathsz);

/** Longest spool owner name (a node id). */
#define BLOB_SPOOL_OWNER_MAX 63
/** Names the spool files this process creates after `owner` (its node id;
 *  NULL or a name with a '.' = unnamed), so that several servers sharing a
 *  DATA_DIR tell theirs apart. Call before the first spool file. */
void blob_spool_set_owner(struct blob *b, const char *owner);

/** Removes the spool files whose owner `live` says is gone (false; "" for
 *  files of no owner), every file when `live` is NULL; returns how many,
 *  or -1 when the directory cannot be read. What a dead process left
 *  mid-upload is never read again. */
int blob_spool_clear(struct blob *b, bool (*live)(const char *owner, void *arg), void *arg);

/** Stores a complete spooled chunk (`size` bytes, with the checksum text of
 *  the kind blob_chunk_checksum names: util/checksum.h). The
 *  spool file is consumed (moved or removed) whatever the outcome. The chunk
 *  is durable when `done` reports BLOB_OK. Returns BLOB_OK when accepted. */
int blob_put(struct blob *b, const char *spool_path, uint64_t size, const char *checksum,
             blob_done_fn done, void *arg);

/** Asks the store to give up a put started with this `arg` (queued or in
 *  flight): it stops sending, and the put's `done` then reports
 *  BLOB_CANCELLED (or its real outcome when it finished meanwhile) exactly
 *  once, later, on the store's thread; never from inside blob_cancel. A put
 *  the store no longer knows (already done) is ignored. Does not block.
 *  BLOB_OK when asked, BLOB_ERR when the backend cannot cancel (the put then
 *  runs to its end as usual). */
int blob_cancel(struct blob *b, void *put_arg);

/** Opens a chunk of `size` bytes for reading. */
int blob_reader_open(struct blob *b, const char *locator, uint64_t size, struct blob_reader **out);
/** Reads up to n bytes at off. Returns the count (>0), 0 at the end of the
 *  chunk, BLOB_AGAIN when the bytes have not arrived yet (then `wake` runs
 *  once they have; see blob_reader_set_wake), or an error. */
ssize_t blob_reader_pread(struct blob_reader *rd, void *buf, size_t n, uint64_t off);
/** Registers a callback for BLOB_AGAIN (remote backends). Contract: after a
 *  BLOB_AGAIN the wake must eventually fire (or a later pread fail), and no
 *  wake may fire once blob_reader_close has returned — the HTTP layer keeps
 *  a connection suspended until it is woken. */
void blob_reader_set_wake(struct blob_reader *rd, void (*wake)(void *arg), void *arg);
void blob_reader_close(struct blob_reader *rd);

/** Removes a stored chunk; a chunk that is already gone counts as removed.
 *  BLOB_OK, or an error to retry later. Called from background work only. */
int blob_delete(struct blob *b, const char *locator);

/** Removes several chunks at once (Telegram deletes up to 100 messages per
 *  call); rcs[i] is what blob_delete would answer for locators[i]. Called
 *  from background work only. */
void blob_delete_many(struct blob *b, const char *const *locators, int n, int *rcs);

/* Stores whose chunks are numbered in order within a series (Telegram:
 * message ids, sequential within a chat) can find chunks that landed but
 * were never recorded (the process died in between): the gaps below the
 * highest recorded number. drive/orphans.c keeps the bookkeeping; these two
 * keep the locator format here. */
#define BLOB_SERIES_MAX 64
/** The series and number of a locator (also a gap locator). BLOB_OK, or
 *  BLOB_ERR when the store does not number its chunks (local) or the
 *  locator is not one of its. */
/** True when the store numbers its chunks in series (blob_sequence can
 *  answer): only then can unrecorded chunks be found as gaps. */
bool blob_has_sequences(const struct blob *b);
int blob_sequence(struct blob *b, const char *locator, char series[BLOB_SERIES_MAX],
                  int64_t *seq);
/** The locator that deletes whatever sits at `seq` in `series` although
 *  nothing recorded it (blob_delete removes it; gone already counts as
 *  removed). BLOB_OK or BLOB_ERR. */
int blob_gap_locator(struct blob *b, const char *series, int64_t seq, char *out, size_t outsz);

/** Called for each stored chunk by blob_list; non-zero stops the walk. */
typedef int (*blob_list_fn)(void *arg, const char *locator, int64_t mtime_ms);
/** Walks every chunk the store holds (local store); BLOB_ERR when the
 *  backend cannot enumerate (Telegram). */
int blob_list(struct blob *b, blob_list_fn fn, void *arg);

#endif
