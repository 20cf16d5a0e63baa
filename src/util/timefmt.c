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

/* The proleptic Gregorian date of a day count since 1970-01-01 (the
 * well-known era-based conversion: 400-year eras of 146097 days). No libc
 * call, so no time-zone lock: gmtime_r takes one, and every listing row
 * formats two or three timestamps. */
static void time_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097);                 /* [0, 146096] */
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);         /* [0, 365] */
  unsigned mp = (5 * doy + 2) / 153;                              /* [0, 11], from March */
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void time_rfc3339(int64_t ms, char out[32])
{
  /* Floor division so that -1 ms is 23:59:59.999 of the previous day. */
  int64_t sec = ms / 1000, frac = ms % 1000;
  if(frac < 0) {
    frac += 1000;
    sec -= 1;
  }
  int64_t days = sec / 86400, rem = sec % 86400;
  if(rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t year;
  unsigned mon, mday;
  time_civil(days, &year, &mon, &mday);
  if(year < 0 || year > 9999) {
    snprintf(out, 32, "1970-01-01T00:00:00.000Z");
    return;
  }
  /* Digits by hand: listings format two timestamps a row, and printf's
   * machinery was a visible share of a listing's CPU. */
  const unsigned v[7] = {(unsigned)year, mon, mday, (unsigned)(rem / 3600),
                         (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (unsigned)frac};
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
