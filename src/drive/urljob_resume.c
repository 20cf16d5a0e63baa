/* urljob_resume: see urljob_resume.h. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "drive/garbage.h"
#include "drive/urljob_resume.h"
#include "util/log.h"

/* Runs in the caller's transaction: appends the pieces and holds them. */
static int resume_add_pieces(db_t *db, const char *job_id, const struct upload_prefix *p)
{
  int rc = DRIVE_OK;
  for(size_t i = p->first; rc == DRIVE_OK && i < p->count; i++) {
    const struct upload_piece *q = &p->pieces[i - p->first];
    rc = drive_db(db_exec(db, "INSERT INTO url_job_chunks (job_id, idx, size, checksum, locator, "
                              "staged_id) VALUES ($1, $2, $3, $4, $5, $6)",
                          "tiittt", job_id, (int64_t)i, (int64_t)q->size, q->checksum,
                          q->locator, q->staged_id));
    if(rc == DRIVE_OK)
      rc = garbage_hold(db, q->staged_id);
  }
  return rc;
}

int urljob_resume_save(const char *job_id, const struct upload_prefix *p)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char *head = NULL;
  int rc = drive_tx_begin(db);
  if(rc != DRIVE_OK)
    return rc;
  if(p->first == 0) {
    /* A new record: the head is written this once. */
    head = malloc(2 * p->head_len + 1);
    rc = head ? DRIVE_OK : DRIVE_INTERNAL;
    if(rc == DRIVE_OK) {
      sodium_bin2hex(head, 2 * p->head_len + 1, (const unsigned char *)p->head, p->head_len);
      rc = drive_db(db_exec(db, "DELETE FROM url_job_chunks WHERE job_id = $1", "t", job_id));
    }
    if(rc == DRIVE_OK)
      rc = drive_db(db_exec(db, "DELETE FROM url_job_resume WHERE job_id = $1", "t", job_id));
    if(rc == DRIVE_OK)
      rc = drive_db(db_exec(db, "INSERT INTO url_job_resume (job_id, chunk_size, bytes, "
                                "chunk_count, hash_state, head) VALUES ($1, $2, $3, $4, $5, $6)",
                            "tiiitt", job_id, (int64_t)p->chunk_size, (int64_t)p->bytes,
                            (int64_t)p->count, p->hash_state, head));
  }
  else
    rc = drive_db(db_exec(db, "UPDATE url_job_resume SET bytes = $1, chunk_count = $2, "
                              "hash_state = $3 WHERE job_id = $4",
                          "iitt", (int64_t)p->bytes, (int64_t)p->count, p->hash_state, job_id));
  if(rc == DRIVE_OK)
    rc = resume_add_pieces(db, job_id, p);
  free(head);
  return drive_tx_end(db, rc);
}

struct resume_head_row {
  struct upload_prefix *p;
  char head_hex[2 * MIME_HEAD_MAX + 1];
};

static void resume_fill(db_stmt_t *st, void *arg)
{
  struct resume_head_row *r = arg;
  r->p->chunk_size = (uint64_t)db_col_int(st, 0);
  r->p->bytes = (uint64_t)db_col_int(st, 1);
  r->p->count = (size_t)db_col_int(st, 2);
  db_col_copy(st, 3, r->p->hash_state, sizeof(r->p->hash_state));
  db_col_copy(st, 4, r->head_hex, sizeof(r->head_hex));
}

int urljob_resume_load(const char *job_id, struct upload_prefix *out)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  memset(out, 0, sizeof(*out));
  struct resume_head_row *r = calloc(1, sizeof(*r));
  if(!r)
    return DRIVE_INTERNAL;
  r->p = out;
  int rc = drive_read_one(db_query(db, "SELECT chunk_size, bytes, chunk_count, hash_state, head "
                                       "FROM url_job_resume WHERE job_id = $1", "t", job_id),
                          resume_fill, r);
  if(rc == DRIVE_OK && (out->count == 0 || out->count > SIZE_MAX / sizeof(*out->pieces) ||
                        sodium_hex2bin((unsigned char *)out->head, sizeof(out->head), r->head_hex,
                                       strlen(r->head_hex), NULL, &out->head_len, NULL) != 0))
    rc = DRIVE_NOT_FOUND;   /* nothing worth resuming, or a record we cannot read */
  free(r);
  if(rc == DRIVE_OK && !(out->pieces = calloc(out->count, sizeof(*out->pieces))))
    rc = DRIVE_INTERNAL;
  if(rc != DRIVE_OK) {
    upload_prefix_free(out);
    return rc;
  }
  db_stmt_t *st = db_query(db, "SELECT idx, size, checksum, locator, staged_id FROM url_job_chunks "
                           "WHERE job_id = $1 AND idx < $2 ORDER BY idx", "ti", job_id,
                           (int64_t)out->count);
  if(!st) {
    upload_prefix_free(out);
    return DRIVE_DB;
  }
  size_t n = 0;
  uint64_t bytes = 0;
  int step;
  while((step = db_step(st)) == DB_ROW && n < out->count) {
    struct upload_piece *q = &out->pieces[n];
    if(db_col_int(st, 0) != (int64_t)n)
      break;   /* a gap: the record is not whole */
    q->size = (uint64_t)db_col_int(st, 1);
    db_col_copy(st, 2, q->checksum, sizeof(q->checksum));
    db_col_copy(st, 3, q->locator, sizeof(q->locator));
    db_col_copy(st, 4, q->staged_id, sizeof(q->staged_id));
    bytes += q->size;
    n++;
  }
  rc = drive_stmt_end(st, step);
  if(rc == DRIVE_OK && (n != out->count || bytes != out->bytes))
    rc = DRIVE_NOT_FOUND;
  if(rc != DRIVE_OK)
    upload_prefix_free(out);
  return rc;
}

static int resume_release_one(void *arg, const char *staged_id)
{
  garbage_release(arg, staged_id);
  return 0;
}

void urljob_resume_drop(const char *job_id, bool release)
{
  db_t *db = db_get();
  if(!db)
    return;
  int rc = drive_tx_begin(db);
  if(rc == DRIVE_OK && release)
    rc = drive_each_text(db_query(db, "SELECT staged_id FROM url_job_chunks WHERE job_id = $1",
                                  "t", job_id), resume_release_one, db);
  if(rc == DRIVE_OK)
    rc = drive_db(db_exec(db, "DELETE FROM url_job_chunks WHERE job_id = $1", "t", job_id));
  if(rc == DRIVE_OK)
    rc = drive_db(db_exec(db, "DELETE FROM url_job_resume WHERE job_id = $1", "t", job_id));
  rc = drive_tx_end(db, rc);
  if(rc != DRIVE_OK)
    log_warn("url job %s: cannot forget its saved progress (%d)", job_id, rc);
}

const char *urljob_resume_validator(const struct urljob_row *r)
{
  if(r->etag[0] && strncmp(r->etag, "W/", 2) != 0)
    return r->etag;   /* a weak one may not go in If-Range (RFC 9110) */
  return r->last_modified[0] ? r->last_modified : NULL;
}

void urljob_resume_checkpoint(const struct urljob_row *r, struct upload *up, size_t *saved)
{
  struct upload_prefix p;
  if(!r->ranges || !urljob_resume_validator(r) ||
     upload_stored_prefix(up, *saved, &p) != DRIVE_OK)
    return;
  if(p.count > *saved) {
    int rc = urljob_resume_save(r->id, &p);
    if(rc == DRIVE_OK)
      *saved = p.count;
    else
      log_warn("url job %s: cannot save its progress (%d)", r->id, rc);
  }
  upload_prefix_free(&p);
}

struct upload_prefix *urljob_resume_take(const struct urljob_row *r)
{
  struct upload_prefix *p = calloc(1, sizeof(*p));
  /* Nothing left to ask for (every byte saved): simpler to start over. */
  if(p && urljob_resume_validator(r) && urljob_resume_load(r->id, p) == DRIVE_OK &&
     (r->total < 0 || p->bytes < (uint64_t)r->total))
    return p;
  urljob_resume_free(p);
  urljob_resume_drop(r->id, true);
  return NULL;
}

void urljob_resume_free(struct upload_prefix *p)
{
  if(p)
    upload_prefix_free(p);
  free(p);
}

int urljob_resume_judge(const struct urljob_row *r, uint64_t from, const struct fetch_head *h)
{
  bool same = (!r->etag[0] || !strcmp(r->etag, h->etag)) &&
              (!r->last_modified[0] || !strcmp(r->last_modified, h->last_modified));
  if(h->status == 206 && h->range_start == (int64_t)from && same)
    return URLJOB_GO_ON;
  return h->status == 200 ? URLJOB_START_OVER : URLJOB_ASK_AGAIN;
}
