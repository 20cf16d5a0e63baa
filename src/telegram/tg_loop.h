/* tg_loop: the one thread that drives every Bot API transfer. It owns a
 * libcurl multi handle, so any number of uploads and downloads are in flight
 * at once without a thread each; other threads hand it work with
 * tg_loop_post. Everything the Telegram layer keeps (pacing, queues,
 * retries) is touched only on this thread, so it needs no locks.
 *
 * Stopping drains instead of dropping: pending timers fire at once, running
 * transfers complete with CURLE_ABORTED_BY_CALLBACK, new transfers are
 * refused the same way, and the thread ends when nothing is left, so every
 * callback runs exactly once. */
#ifndef NETRA_TG_LOOP_H
#define NETRA_TG_LOOP_H
#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tg_loop;
struct tg_timer;

typedef void (*tg_loop_fn)(void *arg);
/** A transfer finished (or was aborted); the easy handle is the caller's
 *  again, already removed from the multi handle. */
typedef void (*tg_xfer_done_fn)(void *arg, CURL *easy, CURLcode rc);

/** Starts the thread. The process must have called curl_global_init once,
 *  before starting any thread (main does); this does not. NULL with a
 *  message in err. */
struct tg_loop *tg_loop_new(char *err, size_t errlen);

/** Stops (draining as described above), joins the thread and frees. */
void tg_loop_free(struct tg_loop *l);

/** Runs fn(arg) on the loop thread soon. Any thread. 0, or -1 once the
 *  thread has ended (then fn never runs). */
int tg_loop_post(struct tg_loop *l, tg_loop_fn fn, void *arg);

/** True on the loop thread. */
bool tg_loop_on_thread(const struct tg_loop *l);

/** True once tg_loop_free began (loop thread). */
bool tg_loop_stopping(const struct tg_loop *l);

/** Runs fn(arg) on the loop thread after `delay_ms` (loop thread only).
 *  The handle lives until the timer fires or is cancelled; NULL when out of
 *  memory. */
struct tg_timer *tg_loop_timer(struct tg_loop *l, int64_t delay_ms, tg_loop_fn fn, void *arg);
/** Drops a pending timer without running it (loop thread only). */
void tg_loop_timer_cancel(struct tg_loop *l, struct tg_timer *t);

/** Adds a prepared easy handle (loop thread only, never from inside a curl
 *  callback); `done` runs exactly once, later (or at once when out of
 *  memory, so the caller must not touch its state after this call). */
void tg_loop_start(struct tg_loop *l, CURL *easy, tg_xfer_done_fn done, void *arg);

/** Aborts a transfer started with tg_loop_start (loop thread only): its
 *  `done` runs on the next turn with CURLE_ABORTED_BY_CALLBACK, unless it
 *  completes first. */
void tg_loop_abort(struct tg_loop *l, CURL *easy);

/** Transfers in flight (loop thread). */
int tg_loop_active(const struct tg_loop *l);

/** Monotonic milliseconds. */
int64_t tg_loop_now(void);

#endif
