/* db_copy: `netradrive migrate --from URL --to URL`, moving an installation's
 * metadata from one database to another (SQLite to PostgreSQL, or back).
 *
 * The target's schema is made by the same numbered migrations, then every
 * table of db_copy_tables.h is copied in key order, in batches of a few
 * hundred rows, one target transaction per batch (memory stays flat on both
 * sides). Rows already on the target are skipped by primary key, so an
 * interrupted copy is resumed by running it again; a target holding users
 * the source does not have is refused. At the end each table's row count
 * and checksum are compared (see db_copy.c for the checksum); a target
 * that already matches says "already copied, verified" and changes
 * nothing. Stop the servers on the source first: rows written during the
 * copy show up as a mismatch. */
#ifndef NETRA_DB_COPY_H
#define NETRA_DB_COPY_H
#include <stdio.h>

/** Copies and verifies. Per-table verification lines and the summary go to
 *  `out`; the progress line (a terminal only) and errors, one line each, to
 *  `errf`. Returns 0 when the target matches the source at the end, 1
 *  otherwise. */
int db_copy(const char *from, const char *to, FILE *out, FILE *errf);

#endif
