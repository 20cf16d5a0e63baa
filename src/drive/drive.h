/* drive: the domain layer's shared vocabulary. Every drive/ function that
 * can fail returns DRIVE_OK (0) or one of the negative codes below, the one
 * error vocabulary from drive/ to api/; api/ maps each to its HTTP reply in
 * one place (api_reply_error). Nothing in drive/ knows about HTTP. */
#ifndef NETRA_DRIVE_H
#define NETRA_DRIVE_H
#include <stdbool.h>
#include <stdint.h>
#include "db/db.h"

enum drive_status {
  DRIVE_OK = 0,
  DRIVE_PENDING = 1,           /* not a failure: accepted, the outcome comes with a wake */
  DRIVE_NOT_FOUND = -1,        /* missing, malformed id, another user's, or binned */
  DRIVE_CONFLICT = -2,         /* a name clash or a state that forbids the change */
  DRIVE_INVALID = -3,          /* a bad value; the function says why */
  DRIVE_MISSING = -4,          /* a required value is empty */
  DRIVE_DB = -5,               /* database fault (logged) */
  DRIVE_UNAVAILABLE = -6,      /* database unreachable */
  DRIVE_INTERNAL = -7,         /* out of memory, hashing or signing failed (logged) */
  DRIVE_USERNAME_TAKEN = -8,
  DRIVE_EMAIL_TAKEN = -9,
  DRIVE_BAD_CREDENTIALS = -10, /* unknown account or wrong password */
  DRIVE_UNVERIFIED = -11,      /* right password, email not verified yet */
  DRIVE_THROTTLED = -12,       /* too many recent failures; retry later */
  DRIVE_BAD_TOKEN = -13,       /* a session token (access, refresh) that is not good */
  DRIVE_BAD_LINK = -14,        /* a mailed link's token: invalid, expired or spent */
  DRIVE_PASSWORD = -15,        /* a share's password is needed, or wrong */
  DRIVE_TOO_BIG = -16,         /* over MAX_UPLOAD_SIZE */
  DRIVE_STORAGE = -17,         /* the chunk store failed */
  DRIVE_DUPLICATE = -18,       /* DEDUP=reject and the content exists */
  DRIVE_CANCELLED = -19,       /* the task was cancelled: nothing will be stored */
  DRIVE_EXPIRED = -20,         /* a session token past its lifetime */
  DRIVE_REUSED = -21           /* a rotated refresh token shown again: its family is revoked */
};

/** The metadata's version at one moment, for caches of what was rendered
 *  from it: two equal stamps mean nothing in the database changed in
 *  between (on this server or any other process sharing the file). */
struct drive_stamp {
  uint64_t v[2];
};
/** Takes the calling thread's stamp. DRIVE_OK, or DRIVE_UNAVAILABLE when
 *  the database cannot tell; then nothing may be cached. */
int drive_stamp_take(struct drive_stamp *s);

/** A short name of a code, for logs. */
const char *drive_status_name(int rc);

/** Maps a failing db.h code to a drive code (constraint -> conflict). */
static inline int drive_from_db(int dbrc)
{
  if(dbrc == DB_CONSTRAINT)
    return DRIVE_CONFLICT;
  if(dbrc == DB_UNAVAILABLE)
    return DRIVE_UNAVAILABLE;
  return DRIVE_DB;
}

/** Maps any db.h result code: DB_OK is DRIVE_OK. */
static inline int drive_db(int dbrc)
{
  return dbrc == DB_OK ? DRIVE_OK : drive_from_db(dbrc);
}

/** Finalizes `st` after its last db_step returned `step`: DRIVE_OK when the
 *  query ran to its end (DB_DONE) or was left at a row on purpose (DB_ROW)
 *  and finalized cleanly, else the fault. */
static inline int drive_stmt_end(db_stmt_t *st, int step)
{
  int frc = db_finalize(st);
  if(step != DB_DONE && step != DB_ROW)
    return drive_from_db(step);
  return drive_db(frc);
}

/** Reads the current row of a statement into `arg`. */
typedef void (*drive_fill_fn)(db_stmt_t *st, void *arg);

/** Runs a query expected to yield at most one row (`st` may be NULL: a
 *  failed db_query); `fill` reads the row. Finalizes. DRIVE_OK,
 *  DRIVE_NOT_FOUND when there is no row, or a fault. */
int drive_read_one(db_stmt_t *st, drive_fill_fn fill, void *arg);

/** Runs a query and calls `fn(arg, text)` with its first column for every
 *  row, until `fn` returns non-zero: positive stops it (still DRIVE_OK), a
 *  negative DRIVE_* code stops it and is returned (the callback's own fault,
 *  out of memory say, is not lost). Finalizes. DRIVE_OK or a fault. */
int drive_each_text(db_stmt_t *st, int (*fn)(void *arg, const char *text), void *arg);

/** Starts a write transaction; DRIVE_OK or a fault code. */
static inline int drive_tx_begin(db_t *db)
{
  int rc = db_begin(db);
  return rc == DB_OK ? DRIVE_OK : drive_from_db(rc);
}

/** Ends a transaction: commits when rc is DRIVE_OK (a failed commit becomes
 *  the result), rolls back otherwise. Returns the final code. */
static inline int drive_tx_end(db_t *db, int rc)
{
  if(rc == DRIVE_OK) {
    int crc = db_commit(db);
    if(crc == DB_OK)
      return DRIVE_OK;
    rc = drive_from_db(crc);
  }
  db_rollback(db);
  return rc;
}

/** Sort keys of a listing. */
enum drive_sort {
  DRIVE_SORT_NAME = 0,  /* case-insensitive (name_key) */
  DRIVE_SORT_SIZE,
  DRIVE_SORT_CREATED,
  DRIVE_SORT_UPDATED
};

/** Default and largest page size of a listing. */
#define DRIVE_LIST_DEFAULT 1000
#define DRIVE_LIST_MAX 10000

/** What a folder or file listing asks for (API §4 listing rules). */
struct drive_listing {
  const char *parent_id;  /* NULL = root / "no parent"; not validated yet */
  bool in_bin;            /* include_deleted=true: list the bin */
  bool starred;           /* is_starred=true: only starred items */
  enum drive_sort sort;
  bool desc;
  int64_t limit;          /* 1..DRIVE_LIST_MAX */
  int64_t offset;         /* >= 0 */
};

#endif
