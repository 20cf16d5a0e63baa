/* throttle: in-memory counters of failed attempts (logins), one per key
 * (a folded account name, a client address). A key that collects
 * `max_failures` failures within one window of `window_s` seconds, counted
 * from its first failure, is locked until that window has passed.
 *
 * The table is bounded: when it is full, an expired entry is reused, else
 * the unlocked entry with the oldest window, else the oldest entry, so a
 * flood of distinct keys costs memory never beyond the capacity. State is
 * per process and lost on restart, which is fine for rate limiting.
 * All functions are thread-safe. Times are milliseconds (any clock, but one
 * clock per table; callers use time_mono_ms()). */
#ifndef NETRA_THROTTLE_H
#define NETRA_THROTTLE_H
#include <stddef.h>
#include <stdint.h>

/** Longest key kept; longer keys are truncated (still distinct in practice:
 *  callers prefix a kind and the values are bounded well below this). */
#define THROTTLE_KEY_MAX 300

typedef struct throttle throttle_t;

/** Creates a table for up to `capacity` keys. Returns NULL on bad arguments
 *  (any of them < 1) or out of memory. */
throttle_t *throttle_new(int max_failures, int window_s, size_t capacity);

/** Frees the table (NULL is fine). */
void throttle_free(throttle_t *t);

/** Returns 0 when `key` may try now, else the seconds (>= 1, rounded up)
 *  until its lock ends, suitable for Retry-After. */
int throttle_check(throttle_t *t, const char *key, int64_t now_ms);

/** Records one failure for `key`. Returns the seconds until the lock ends
 *  when this failure locked the key, else 0. */
int throttle_fail(throttle_t *t, const char *key, int64_t now_ms);

/** Forgets `key` (a successful login clears its account's counter). */
void throttle_clear(throttle_t *t, const char *key);

/** Number of keys currently held (for tests and metrics). */
size_t throttle_size(throttle_t *t);

#endif
