/* ft_time: clocks and sleeping, the tools behind latency, slow replies and
 * bandwidth caps. */
#ifndef FT_TIME_H
#define FT_TIME_H
#include <stdint.h>

/** Seconds on the monotonic clock. */
double ft_time_mono(void);
/** Seconds since the Unix epoch (message dates). */
int64_t ft_time_unix(void);
/** Sleeps `seconds` (nothing when <= 0), resuming after signals. */
void ft_time_sleep(double seconds);
/** Sleeps until `bytes` moved since `start` fit a rate of `rate` bytes/s
 *  (no-op when rate is 0). */
void ft_time_pace(double start, uint64_t bytes, uint64_t rate);

#endif
