/* progress: see progress.h. */
#include <inttypes.h>
#include <unistd.h>
#include "util/progress.h"
#include "util/timefmt.h"

#define PROGRESS_EVERY_MS 200

void progress_format(char *out, size_t outsz, const char *what, const char *unit, int64_t done,
                     int64_t total, int64_t elapsed_ms)
{
  double rate = elapsed_ms > 0 ? (double)done * 1000.0 / (double)elapsed_ms : 0;
  if(total <= 0) {
    snprintf(out, outsz, "%s: %" PRId64 " %s, %.0f/s", what, done, unit, rate);
    return;
  }
  double pct = (double)done * 100.0 / (double)total;
  if(rate <= 0 || done >= total) {
    snprintf(out, outsz, "%s: %" PRId64 "/%" PRId64 " %s (%.1f%%)", what, done, total, unit,
             pct > 100 ? 100.0 : pct);
    return;
  }
  int64_t eta = (int64_t)((double)(total - done) / rate + 0.5);
  char left[32];
  if(eta >= 3600)
    snprintf(left, sizeof(left), "%" PRId64 "h%02" PRId64 "m", eta / 3600, eta / 60 % 60);
  else if(eta >= 60)
    snprintf(left, sizeof(left), "%" PRId64 "m%02" PRId64 "s", eta / 60, eta % 60);
  else
    snprintf(left, sizeof(left), "%" PRId64 "s", eta);
  snprintf(out, outsz, "%s: %" PRId64 "/%" PRId64 " %s (%.1f%%), %.0f/s, ETA %s", what, done,
           total, unit, pct, rate, left);
}

void progress_start(struct progress *p, FILE *out, const char *what, const char *unit,
                    int64_t total)
{
  *p = (struct progress){.out = out, .tty = out && isatty(fileno(out)), .what = what,
                         .unit = unit, .total = total, .start_ms = time_mono_ms()};
}

void progress_set(struct progress *p, int64_t done)
{
  if(!p)
    return;
  p->done = done;
  if(!p->tty)
    return;
  int64_t now = time_mono_ms();
  if(p->shown && now - p->drawn_ms < PROGRESS_EVERY_MS)
    return;
  char line[160];
  progress_format(line, sizeof(line), p->what, p->unit, done, p->total, now - p->start_ms);
  /* \r and erase-to-end: the line is redrawn in place. */
  fprintf(p->out, "\r%s\033[K", line);
  fflush(p->out);
  p->drawn_ms = now;
  p->shown = true;
}

void progress_end(struct progress *p)
{
  if(p && p->tty && p->shown) {
    fputs("\r\033[K", p->out);
    fflush(p->out);
    p->shown = false;
  }
}
