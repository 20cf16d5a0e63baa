/* orphans: chunks that reached storage but were never recorded. A store
 * that numbers its chunks in order within a series (blob_sequence:
 * Telegram's message ids within a chat) can show them: a number below the
 * highest recorded one that no chunk and no pending_deletes record knows is
 * a put that landed while its process died before recording it (a running
 * upload records each chunk as staged as soon as it lands). Such numbers
 * are queued as deletions (garbage.c), and the sweeper removes them. The
 * `orphan_marks` table (owned here) keeps, per series, how far that has
 * been done, so each number is looked at once. */
#ifndef NETRA_ORPHANS_H
#define NETRA_ORPHANS_H
#include <stddef.h>
#include <stdint.h>

/* A server looks again this often, and deals only with numbers seen
 * recorded at least ORPHANS_GRACE_MS ago: a put landing on another thread
 * is recorded long before then. */
#define ORPHANS_INTERVAL_MS (10 * 60 * 1000)
#define ORPHANS_GRACE_MS (10 * 60 * 1000)
/* Numbers looked at per series and pass: bounds the work of one pass. */
#define ORPHANS_SCAN_MAX 10000

/** Writes to out the numbers in (from, to] absent from `known` (sorted
 *  ascending, repeats allowed), ascending, at most `max`; returns how many.
 *  Pure. */
size_t orphans_gaps(const int64_t *known, size_t n, int64_t from, int64_t to, int64_t *out,
                    size_t max);

/** One pass over the open store's series on this thread's connection.
 *  grace_ms 0: no put of a live process can be between landing and being
 *  recorded (server start, gc with no server running), so everything below
 *  the highest recorded number is dealt with now. Returns the number of
 *  deletions queued (>= 0) or a fault code; a store without series: 0. */
int64_t orphans_sweep(int64_t now, int64_t grace_ms);

#endif
