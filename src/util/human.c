#include "util/human.h"
#include <inttypes.h>
#include <stdio.h>

void human_size(uint64_t bytes, char out[32])
{
  static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  const int last = (int)(sizeof(units) / sizeof(units[0])) - 1;
  if(bytes < 1024) {
    snprintf(out, 32, "%" PRIu64 " B", bytes);
    return;
  }
  double v = (double)bytes;
  int u = 0;
  /* 1023.995 prints as "1024.00": move up instead so the number stays < 1024. */
  while(v >= 1023.995 && u < last) {
    v /= 1024.0;
    u++;
  }
  snprintf(out, 32, "%.2f %s", v, units[u]);
}

void human_duration(int64_t secs, char out[32])
{
  if(secs < 0) {
    snprintf(out, 32, "N/A");
    return;
  }
  int64_t h = secs / 3600, m = secs % 3600 / 60, s = secs % 60;
  if(h)
    snprintf(out, 32, "%" PRId64 "h %" PRId64 "m %" PRId64 "s", h, m, s);
  else if(m)
    snprintf(out, 32, "%" PRId64 "m %" PRId64 "s", m, s);
  else
    snprintf(out, 32, "%" PRId64 "s", s);
}
