/* drive: see drive.h. */
#include "drive/drive.h"

const char *drive_status_name(int rc)
{
  switch(rc) {
  case DRIVE_OK: return "ok";
  case DRIVE_PENDING: return "pending";
  case DRIVE_NOT_FOUND: return "not found";
  case DRIVE_CONFLICT: return "conflict";
  case DRIVE_INVALID: return "invalid";
  case DRIVE_MISSING: return "missing";
  case DRIVE_DB: return "database error";
  case DRIVE_UNAVAILABLE: return "database unavailable";
  case DRIVE_INTERNAL: return "internal error";
  case DRIVE_USERNAME_TAKEN: return "username taken";
  case DRIVE_EMAIL_TAKEN: return "email taken";
  case DRIVE_BAD_CREDENTIALS: return "bad credentials";
  case DRIVE_UNVERIFIED: return "unverified";
  case DRIVE_THROTTLED: return "throttled";
  case DRIVE_BAD_TOKEN: return "bad token";
  case DRIVE_BAD_LINK: return "bad link";
  case DRIVE_PASSWORD: return "password";
  case DRIVE_TOO_BIG: return "too big";
  case DRIVE_STORAGE: return "storage error";
  case DRIVE_DUPLICATE: return "duplicate";
  case DRIVE_CANCELLED: return "cancelled";
  case DRIVE_EXPIRED: return "expired";
  case DRIVE_REUSED: return "reused";
  }
  return "unknown";
}

int drive_read_one(db_stmt_t *st, drive_fill_fn fill, void *arg)
{
  if(!st)
    return DRIVE_DB;
  int step = db_step(st);
  if(step == DB_ROW)
    fill(st, arg);
  int rc = drive_stmt_end(st, step);
  return rc == DRIVE_OK && step == DB_DONE ? DRIVE_NOT_FOUND : rc;
}

int drive_each_text(db_stmt_t *st, int (*fn)(void *arg, const char *text), void *arg)
{
  if(!st)
    return DRIVE_DB;
  int rc, stop = 0;
  while((rc = db_step(st)) == DB_ROW)
    if((stop = fn(arg, db_col_text(st, 0))) != 0)
      break;   /* left at a row on purpose: drive_stmt_end takes it as done */
  rc = drive_stmt_end(st, rc);
  return stop < 0 && rc == DRIVE_OK ? stop : rc;
}

int drive_stamp_take(struct drive_stamp *s)
{
  db_t *db = db_get();
  return db && db_data_version(db, s->v) == DB_OK ? DRIVE_OK : DRIVE_UNAVAILABLE;
}
