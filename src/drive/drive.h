/* drive: the domain layer's shared vocabulary. Every drive/ function returns
 * one of these codes; api/ maps them to HTTP statuses. Nothing in drive/
 * knows about HTTP. */
#ifndef NETRA_DRIVE_H
#define NETRA_DRIVE_H
#include <stdbool.h>
#include <stdint.h>
#include "db/db.h"

enum {
  DRIVE_OK = 0,
  DRIVE_NOT_FOUND = 1,    /* missing, malformed id, another user's, or binned */
  DRIVE_CONFLICT = 2,     /* name clash or a state that forbids the change */
  DRIVE_INVALID = 3,      /* a bad value; the function says why */
  DRIVE_DB = 4,           /* database fault */
  DRIVE_UNAVAILABLE = 5   /* database unreachable */
};

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

/** What a folder or file listing asks for (SPEC §4 listing rules). */
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
