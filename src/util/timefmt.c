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
  /* Digits by hand: listings format two timestamps a row, and printf's
   * machinery was a visible share of a listing's CPU. */
  const unsigned v[7] = {(unsigned)(tm.tm_year + 1900), (unsigned)tm.tm_mon + 1,
                         (unsigned)tm.tm_mday, (unsigned)tm.tm_hour, (unsigned)tm.tm_min,
                         (unsigned)tm.tm_sec, (unsigned)frac};
  static const char width[7] = {4, 2, 2, 2, 2, 2, 3};
  static const char after[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
  char *p = out;
  for(int i = 0; i < 7; i++) {
    unsigned x = v[i];
    for(int d = width[i] - 1; d >= 0; d--, x /= 10)
      p[d] = (char)('0' + x % 10);
    p += width[i];
    *p++ = after[i];
  }
  *p = 0;
}
