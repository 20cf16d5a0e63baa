/* hasher: SHA-256 of spooled chunk files, off the request thread. An upload
 * hashes its whole file as the body streams in; the hash of each chunk is
 * taken here instead, by reading the just-written spool file back (from the
 * page cache), so the two passes run on two cores. Jobs are FIFO over a few
 * threads; each reports once through its callback, on a hasher thread. */
#ifndef NETRA_HASHER_H
#define NETRA_HASHER_H
#include <stdint.h>

#define HASHER_THREADS_MAX 4

/** rc 0 with the lowercase hex digest, or -1 (the file is shorter than
 *  `size` or unreadable: logged). */
typedef void (*hasher_done_fn)(void *arg, int rc, const char *sha256_hex);

/** Starts `threads` (1..HASHER_THREADS_MAX) hasher threads. 0, or -1. */
int hasher_start(int threads);

/** Runs what is queued, then stops the threads. */
void hasher_stop(void);

/** Hashes the first `size` bytes of the file at `path` and calls `done`;
 *  on the calling thread when the hasher is not running (or out of
 *  memory). `path` is copied. */
void hasher_submit(const char *path, uint64_t size, hasher_done_fn done, void *arg);

/** The same, now, on the calling thread. */
int hasher_file(const char *path, uint64_t size, char hex[65]);

#endif
