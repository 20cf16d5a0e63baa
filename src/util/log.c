#include "util/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level log_min = LOG_INFO;
static const char *const log_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(enum log_level lvl)
{
  log_min = lvl;
}

int log_level_parse(const char *s)
{
  if(!strcasecmp(s, "debug")) return LOG_DEBUG;
  if(!strcasecmp(s, "info")) return LOG_INFO;
  if(!strcasecmp(s, "warn") || !strcasecmp(s, "warning")) return LOG_WARN;
  if(!strcasecmp(s, "error")) return LOG_ERROR;
  return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
  if(lvl < log_min)
    return;
  char line[2048];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, ts.tv_nsec / 1000000, log_names[lvl]);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  /* One fputs per line so concurrent threads never interleave within a line. */
  size_t len = strlen(line);
  line[len] = '\n';
  line[len + 1] = 0;
  fputs(line, stderr);
}
