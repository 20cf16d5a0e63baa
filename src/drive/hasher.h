/* hasher: an upload's hashes, off its request thread. The request thread
 * only receives the body and writes it to spool files, one per chunk; here a
 * hasher thread reads each finished spool file back (from the page cache,
 * still warm) and feeds its bytes both to the file's SHA-256 (the API's
 * `hash`, and dedup) and to the chunk's own checksum (util/checksum.h). So
 * one pass over the bytes serves both, and the request thread is free to
 * receive the next chunk meanwhile: on two cores the receive and the hash
 * run side by side.
 *
 * The file hash is sequential, so an upload's chunks are hashed one at a
 * time and in order, through its hasher_stream; the chunks of different
 * uploads run in parallel over the threads. Each chunk reports once through
 * its callback, on a hasher thread. */
#ifndef NETRA_HASHER_H
#define NETRA_HASHER_H
#include <stdint.h>
#include "util/checksum.h"

#define HASHER_THREADS_MAX 4

struct hasher_stream;

/** rc 0 with the chunk's checksum text, or -1 (the file is shorter than its
 *  size or unreadable, logged; or an earlier chunk of the stream failed). */
typedef void (*hasher_done_fn)(void *arg, int rc, const char *checksum);

/** Starts `threads` (1..HASHER_THREADS_MAX) hasher threads. 0, or -1. */
int hasher_start(int threads);

/** Runs what is queued, then stops the threads. */
void hasher_stop(void);

/** A new stream: one file's SHA-256, fed chunk by chunk. NULL: no memory. */
struct hasher_stream *hasher_stream_new(void);

/** Queues the first `size` bytes of the file at `path` (copied) as the next
 *  chunk of the stream, with a checksum of this kind, and calls `done` once
 *  it is hashed; on the calling thread, before returning, when the hasher is
 *  not running. */
void hasher_stream_add(struct hasher_stream *s, const char *path, uint64_t size,
                       enum checksum_kind kind, hasher_done_fn done, void *arg);

/** hasher_stream_add that also writes the file hash's state once this
 *  chunk is in (checksum_export: CHECKSUM_STATE_MAX bytes at state_out,
 *  valid when `done` reports 0), so the file can be resumed from there. */
void hasher_stream_add_saving(struct hasher_stream *s, const char *path, uint64_t size,
                              enum checksum_kind kind, char *state_out, hasher_done_fn done,
                              void *arg);

/** A stream that goes on from an exported state. NULL: malformed, or no
 *  memory. */
struct hasher_stream *hasher_stream_resume(const char *state);

/** Gives the stream up (its upload was cancelled or abandoned): chunks not
 *  yet hashed report -1 at once instead of being read and hashed for
 *  nothing, and so does every chunk added later. Does not block. */
void hasher_stream_cancel(struct hasher_stream *s);

/** The file's SHA-256 in lowercase hex, once every chunk added has
 *  reported. 0, or -1 when a chunk failed. */
int hasher_stream_final(struct hasher_stream *s, char hex[65]);

/** Frees a stream with no chunk in progress. NULL is fine. */
void hasher_stream_free(struct hasher_stream *s);

/** The checksum of the first `size` bytes of a file, now, on the calling
 *  thread. 0, or -1 (shorter or unreadable: logged). */
int hasher_file(const char *path, uint64_t size, enum checksum_kind kind,
                char out[CHECKSUM_TEXT_MAX]);

#endif
