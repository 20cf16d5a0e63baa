/* timefmt: clocks in milliseconds and RFC 3339 UTC timestamps (API §1). */
#ifndef NETRA_TIMEFMT_H
#define NETRA_TIMEFMT_H
#include <stdint.h>

/** Wall-clock time in milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t time_now_ms(void);

/** Monotonic milliseconds (CLOCK_MONOTONIC), for durations and rates only. */
int64_t time_mono_ms(void);

/** Formats `ms` since the epoch as "2026-11-24T10:15:30.123Z" (UTC, always
 *  three fraction digits). Negative times round down; a time outside what
 *  gmtime can represent is written as "1970-01-01T00:00:00.000Z". */
void time_rfc3339(int64_t ms, char out[32]);

#endif
