/* progress: a progress line for long commands (fsck, gc) on a terminal:
 * "fsck: 1234/5678 chunks (21.7%), 350/s, ETA 12s", redrawn in place at
 * most five times a second and cleared at the end. When the stream is not
 * a terminal nothing is drawn: the command's one-line summary says it all. */
#ifndef NETRA_PROGRESS_H
#define NETRA_PROGRESS_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
  FILE *out;
  bool tty;
  const char *what;      /* "fsck" */
  const char *unit;      /* "chunks" */
  int64_t total;         /* 0 = unknown */
  int64_t done;
  int64_t start_ms, drawn_ms;
  bool shown;
};

/** Starts a line on `out` (drawn only when it is a terminal). */
void progress_start(struct progress *p, FILE *out, const char *what, const char *unit,
                    int64_t total);
/** `done` items so far; redraws when due. NULL is fine. */
void progress_set(struct progress *p, int64_t done);
/** Clears the line, so a message or the summary that follows stands alone
 *  (the next progress_set draws it again). NULL is fine. */
void progress_end(struct progress *p);
/** The line's text for `done` of `total` after `elapsed_ms` (pure, tested). */
void progress_format(char *out, size_t outsz, const char *what, const char *unit, int64_t done,
                     int64_t total, int64_t elapsed_ms);

#endif
