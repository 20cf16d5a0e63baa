/* reader: the download planner. A content is an ordered list of chunks
 * (chunk i holds bytes [i * chunk_size, ...), every chunk full but the
 * last). A read of absolute bytes finds the chunk that holds them, opens it
 * through the chunk store and reads only what was asked: a Range read
 * touches only the chunks it needs. The reader keeps the current chunk open
 * plus following ones inside the declared window — READER_AHEAD, or as many
 * as the store fetches in parallel (blob_fetch_parallel) less one, at most
 * READER_AHEAD_MAX — so a remote backend fetches ahead (bounded) with all
 * its connections busy; it never buffers a whole file.
 *
 * A reader is used by one thread at a time (the request's); only the wake
 * callback may run on another thread. Nothing here knows HTTP. */
#ifndef NETRA_READER_H
#define NETRA_READER_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "blob/blob.h"
#include "db/db.h"

/** reader_read's "not there yet": the chunk store's BLOB_AGAIN. */
#define READER_AGAIN BLOB_AGAIN

#define READER_AHEAD 2      /* chunks opened ahead of the one being read, at least */
#define READER_AHEAD_MAX 15 /* ... and at most */
#define READER_BATCH 16   /* chunk records loaded per database query */

struct reader;

/** Opens content `content_id`, which must hold `size` bytes (the file's
 *  size: a mismatch means damaged metadata). The window starts as the whole
 *  content. Returns DRIVE_OK, DRIVE_NOT_FOUND (no such content, or its
 *  records disagree), DRIVE_DB or DRIVE_UNAVAILABLE. */
int reader_open(const char *content_id, uint64_t size, struct reader **out);

/** Declares that the reads to come stay within bytes [from, to] (inclusive);
 *  read-ahead never goes past `to`. Call before each range of a multi-range
 *  answer. */
void reader_set_window(struct reader *rd, uint64_t from, uint64_t to);

/** Reads up to n bytes at absolute offset `off`, never across a chunk end
 *  (a short count is normal: call again). Returns the count (> 0), 0 at or
 *  past the end of the content, READER_AGAIN when the bytes have not arrived
 *  yet (the wake callback runs once they have), or another negative BLOB_*
 *  code (missing or damaged chunk: logged). */
ssize_t reader_read(struct reader *rd, uint64_t off, void *buf, size_t n);

/** Registers the callback for READER_AGAIN. It may run on any thread, also
 *  spuriously (e.g. when a read-ahead chunk arrives); it must be cheap and
 *  thread-safe. */
void reader_set_wake(struct reader *rd, void (*wake)(void *arg), void *arg);

/** Closes every chunk and frees. Once it returns no wake callback runs
 *  (blob_reader_close gives that guarantee per chunk). NULL is fine. */
void reader_close(struct reader *rd);

#endif
