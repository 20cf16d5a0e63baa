/* workq: a small pool of background threads fed by a bounded FIFO queue, for
 * CPU-heavy jobs (password hashing) that must not run on the threads that
 * multiplex many connections. Modelled on redis's bio.c: one mutex, one
 * condition variable for "a job is waiting", jobs run outside the lock.
 *
 * The queue is bounded: workq_submit() refuses a job instead of queueing
 * without limit, so a flood turns into quick refusals rather than a backlog
 * of seconds. Jobs run in submission order; with several threads they may
 * finish in any order. All functions are thread-safe. */
#ifndef NETRA_WORKQ_H
#define NETRA_WORKQ_H
#include <stddef.h>

typedef struct workq workq_t;

/** A job: runs once on one of the pool's threads. */
typedef void (*workq_fn)(void *arg);

/** Starts `threads` threads (>= 1) and a queue that holds up to `capacity`
 *  (>= 1) jobs waiting for a thread; jobs being run do not count. Returns
 *  NULL on bad arguments or when out of memory / threads. */
workq_t *workq_new(int threads, size_t capacity);

/** Queues fn(arg). Returns 0, or -1 when the queue is full or stopping (the
 *  job will not run: the caller still owns `arg`). */
int workq_submit(workq_t *q, workq_fn fn, void *arg);

/** Jobs waiting for a thread (not those running). */
size_t workq_pending(workq_t *q);

/** Runs every job already queued, stops and joins the threads, frees the
 *  pool. Submissions after this has begun are refused. NULL is fine. */
void workq_free(workq_t *q);

#endif
