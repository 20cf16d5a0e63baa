/* sq_ckpt: SQLite's WAL checkpoints, run by a thread of their own instead of
 * by whichever commit crosses the threshold. */
#ifndef NETRA_SQ_CKPT_H
#define NETRA_SQ_CKPT_H
#include <sqlite3.h>

/* WAL frames past which a checkpoint is due (SQLite's own default), and
 * past which the committing connection runs one itself, as SQLite would:
 * the WAL stays bounded even when the thread cannot keep up. */
#define SQ_CKPT_PAGES 1000
#define SQ_CKPT_INLINE_PAGES 16000

/** Hands connection `h`'s checkpoints of the database file `path` to the
 *  checkpoint thread (started at the first one due). */
void sq_ckpt_attach(sqlite3 *h, const char *path);

/** Stops the thread (it finishes the checkpoint it is in) and forgets the
 *  file: the next attach names it again. */
void sq_ckpt_stop(void);

#endif
