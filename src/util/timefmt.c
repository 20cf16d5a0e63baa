#include "util/timefmt.h"
#include <stdio.h>
#include <time.h>

static int64_t time_clock_ms(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_now_ms(void)
{
  return time_clock_ms(CLOCK_REALTIME);
}

int64_t time_mono_ms(void)
{
  return time_clock_ms(CLOCK_MONOTONIC);
}

void time_rfc3339(int64_t ms, char out[32])
{
  /* Floor division so that -1 ms is 23:59:59.999 of the previous day. */
  int64_t sec = ms / 1000, frac = ms % 1000;
  if(frac < 0) {
    frac += 1000;
    sec -= 1;
  }
  time_t t = (time_t)sec;
  struct tm tm;
  if(!gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900 || tm.tm_year < -1900) {
    snprintf(out, 32, "1970-01-01T00:00:00.000Z");
    return;
  }
  /* The modulos are no-ops on valid fields; they let the compiler see that
   * the text always fits in 32 bytes. */
  snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
           (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
           (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
           (unsigned)frac % 1000u);
}
