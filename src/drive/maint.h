/* maint: offline and background maintenance behind `netradrive gc` and
 * `netradrive fsck`. */
#ifndef NETRA_MAINT_H
#define NETRA_MAINT_H
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

struct maint_report {
  long chunks_checked;
  long chunks_missing;
  long chunks_corrupt;
  long files_damaged;
  long orphans_found;      /* stored chunks nothing references */
  long orphans_removed;
  long garbage_removed;    /* pending deletions carried out */
  long files_removed;      /* damaged files removed by --repair */
  long counters_wrong;     /* child_counts rows that differ from a recount */
  long counters_fixed;     /* rebuilt by --repair */
  long keys_wrong;         /* folders whose tree key is not their place's */
  long keys_fixed;         /* rebuilt by --repair */
};

/* Both run on the calling thread's connection and the open store; 0 or -1. */

/** gc: carries out pending deletions (including staged chunks older than
 *  `staged_age_ms`) and, for the local store, removes chunk files nothing
 *  references that are older than an hour, and stale spool files.
 *  `staged_age_ms` 0 (--all-staged) means no server runs: unreferenced
 *  chunks of any age go. */
int maint_gc(const char *data_dir, int64_t staged_age_ms, FILE *out, FILE *progress,
             struct maint_report *rep);

/** fsck: reads every stored chunk back (a progress line on `progress`
 *  when it is a terminal; NULL: none) and checks its size and checksum
 *  (of the kind its record names: SHA-256, or XXH3-128);
 *  reports damaged files and unreferenced chunks older than an hour. With
 *  `repair` (run only while no server runs), damaged files are removed
 *  (their folder sizes and usage corrected) and unreferenced chunks of any
 *  age deleted. It also recounts every folder's live children against its
 *  child_counts row (the listing's X-Total-Count); --repair rebuilds them. */
int maint_fsck(bool repair, FILE *out, FILE *progress, struct maint_report *rep);

#endif
