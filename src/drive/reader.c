/* reader: absolute byte reads over a content's chunk list (see reader.h).
 * Chunk records are loaded READER_BATCH at a time as the reads move on, and
 * at most `ahead` + 1 chunks are open at once (ahead follows how many chunks
 * the store fetches in parallel, bounded by READER_AHEAD_MAX), so the memory
 * and file descriptors a download holds do not grow with the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/drive.h"
#include "drive/reader.h"
#include "drive/store.h"
#include "util/id.h"
#include "util/log.h"

struct reader_meta {
  int64_t idx;
  uint64_t size;
  char locator[BLOB_LOCATOR_MAX];
};

struct reader_slot {
  int64_t idx;                  /* -1: free */
  struct blob_reader *br;
};

struct reader {
  struct blob *blob;
  char content_id[ID_LEN + 1];
  uint64_t size;
  uint64_t chunk_size;
  int64_t chunk_count;
  uint64_t win_to;              /* read-ahead stays at or below this byte */
  struct reader_meta meta[READER_BATCH];
  int64_t meta_first;           /* idx of meta[0] */
  int meta_n;
  void (*wake)(void *arg);
  void *wake_arg;
  int ahead;                    /* chunks opened ahead of the one being read */
  struct reader_slot slots[READER_AHEAD_MAX + 1];
};

/* Enough read-ahead to keep every parallel fetch of the store busy: a
 * remote store with N bots downloads N chunks at once. */
static int reader_ahead(const struct blob *b)
{
  int n = b ? blob_fetch_parallel(b) - 1 : 0;
  return n < READER_AHEAD ? READER_AHEAD : n > READER_AHEAD_MAX ? READER_AHEAD_MAX : n;
}

int reader_open(const char *content_id, uint64_t size, struct reader **out)
{
  struct reader *rd = NULL;
  int rc = DRIVE_DB;
  *out = NULL;
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(content_id))
    return DRIVE_NOT_FOUND;
  db_stmt_t *st = db_query(db, "SELECT size, chunk_size, chunk_count FROM contents WHERE id = $1",
                           "t", content_id);
  if(!st)
    return DRIVE_DB;
  int step = db_step(st);
  if(step == DB_DONE) {
    rc = DRIVE_NOT_FOUND;
    goto out;
  }
  if(step != DB_ROW)
    goto out;
  int64_t csize = db_col_int(st, 0), chunk = db_col_int(st, 1), count = db_col_int(st, 2);
  /* Every chunk full but the last, so the count follows from the sizes. */
  int64_t want = chunk > 0 ? (csize + chunk - 1) / chunk : -1;
  if(csize < 0 || (uint64_t)csize != size || chunk <= 0 || count != want) {
    log_error("reader: content %s has inconsistent records (size %lld/%llu, chunk %lld, "
              "count %lld)", content_id, (long long)csize, (unsigned long long)size,
              (long long)chunk, (long long)count);
    rc = DRIVE_NOT_FOUND;
    goto out;
  }
  rd = calloc(1, sizeof(*rd));
  if(!rd)
    goto out;
  rd->blob = store_blob();
  snprintf(rd->content_id, sizeof(rd->content_id), "%s", content_id);
  rd->size = size;
  rd->chunk_size = (uint64_t)chunk;
  rd->chunk_count = count;
  rd->win_to = size ? size - 1 : 0;
  rd->ahead = reader_ahead(rd->blob);
  for(int i = 0; i <= rd->ahead; i++)
    rd->slots[i].idx = -1;
  *out = rd;
  rc = DRIVE_OK;
out:
  if(db_finalize(st) != DB_OK && rc == DRIVE_OK) {
    free(rd);
    *out = NULL;
    rc = DRIVE_DB;
  }
  return rc;
}

void reader_set_window(struct reader *rd, uint64_t from, uint64_t to)
{
  (void)from;   /* reads are by absolute offset; only the end bounds read-ahead */
  rd->win_to = to;
}

void reader_set_wake(struct reader *rd, void (*wake)(void *arg), void *arg)
{
  rd->wake = wake;
  rd->wake_arg = arg;
  for(int i = 0; i <= rd->ahead; i++)
    if(rd->slots[i].br)
      blob_reader_set_wake(rd->slots[i].br, wake, arg);
}

static void slot_close(struct reader_slot *s)
{
  blob_reader_close(s->br);
  s->br = NULL;
  s->idx = -1;
}

void reader_close(struct reader *rd)
{
  if(!rd)
    return;
  for(int i = 0; i <= rd->ahead; i++)
    slot_close(&rd->slots[i]);
  free(rd);
}

/* The bytes chunk `idx` must hold. */
static uint64_t chunk_len(const struct reader *rd, int64_t idx)
{
  uint64_t start = (uint64_t)idx * rd->chunk_size;
  uint64_t left = rd->size - start;
  return left < rd->chunk_size ? left : rd->chunk_size;
}

/* The record of chunk `idx`, loading a batch from there when needed. */
static int chunk_meta(struct reader *rd, int64_t idx, const struct reader_meta **out)
{
  if(idx >= rd->meta_first && idx < rd->meta_first + rd->meta_n) {
    *out = &rd->meta[idx - rd->meta_first];
    return BLOB_OK;
  }
  /* db_get(): the calling thread's connection (reads may move threads). */
  db_t *db = db_get();
  int rc = BLOB_ERR;
  rd->meta_n = 0;
  rd->meta_first = idx;
  if(!db)
    return BLOB_ERR;
  db_stmt_t *st = db_query(db, "SELECT idx, size, locator FROM chunks WHERE content_id = $1 "
                               "AND idx >= $2 AND idx < $3 ORDER BY idx",
                           "tii", rd->content_id, idx, idx + (int64_t)READER_BATCH);
  if(!st)
    return BLOB_ERR;
  int step;
  while((step = db_step(st)) == DB_ROW) {
    struct reader_meta *m = &rd->meta[rd->meta_n];
    const char *loc = db_col_text(st, 2);
    m->idx = db_col_int(st, 0);
    m->size = (uint64_t)db_col_int(st, 1);
    /* Records must be contiguous from idx, sized as the layout says. */
    if(m->idx != idx + rd->meta_n || m->size != chunk_len(rd, m->idx) || !loc ||
       snprintf(m->locator, sizeof(m->locator), "%s", loc) >= (int)sizeof(m->locator))
      break;
    if(++rd->meta_n == READER_BATCH)
      break;
  }
  if(db_finalize(st) == DB_OK && rd->meta_n > 0)
    rc = BLOB_OK;
  else
    rd->meta_n = 0;
  if(rc != BLOB_OK || (step != DB_ROW && step != DB_DONE)) {
    log_error("reader: content %s: chunk %lld record missing or damaged", rd->content_id,
              (long long)idx);
    rd->meta_n = 0;
    return BLOB_NOTFOUND;
  }
  *out = &rd->meta[0];
  return BLOB_OK;
}

/* The open slot for chunk `idx`, opening it (in a free slot) when needed. */
static int slot_get(struct reader *rd, int64_t idx, struct reader_slot **out)
{
  struct reader_slot *free_slot = NULL;
  const struct reader_meta *m;
  for(int i = 0; i <= rd->ahead; i++) {
    if(rd->slots[i].idx == idx) {
      *out = &rd->slots[i];
      return BLOB_OK;
    }
    if(rd->slots[i].idx < 0 && !free_slot)
      free_slot = &rd->slots[i];
  }
  if(!free_slot)
    return BLOB_ERR;   /* callers free the slots outside the window first */
  int rc = chunk_meta(rd, idx, &m);
  if(rc != BLOB_OK)
    return rc;
  rc = blob_reader_open(rd->blob, m->locator, m->size, &free_slot->br);
  if(rc != BLOB_OK) {
    log_error("reader: content %s: cannot open chunk %lld (%d)", rd->content_id,
              (long long)idx, rc);
    return rc;
  }
  free_slot->idx = idx;
  if(rd->wake)
    blob_reader_set_wake(free_slot->br, rd->wake, rd->wake_arg);
  *out = free_slot;
  return BLOB_OK;
}

ssize_t reader_read(struct reader *rd, uint64_t off, void *buf, size_t n)
{
  struct reader_slot *s;
  if(off >= rd->size || n == 0)
    return 0;
  int64_t cur = (int64_t)(off / rd->chunk_size);
  /* Keep only [cur, cur + ahead] open: a seek elsewhere drops the rest. */
  for(int i = 0; i <= rd->ahead; i++)
    if(rd->slots[i].idx >= 0 && (rd->slots[i].idx < cur || rd->slots[i].idx > cur + rd->ahead))
      slot_close(&rd->slots[i]);
  int rc = slot_get(rd, cur, &s);
  if(rc != BLOB_OK)
    return rc;
  /* Read-ahead inside the window; a failure here shows up when it is read. */
  for(int64_t k = 1; k <= rd->ahead; k++) {
    int64_t j = cur + k;
    struct reader_slot *ahead;
    if(j >= rd->chunk_count || (uint64_t)j * rd->chunk_size > rd->win_to)
      break;
    if(slot_get(rd, j, &ahead) != BLOB_OK)
      break;
  }
  uint64_t coff = off - (uint64_t)cur * rd->chunk_size;
  uint64_t left = chunk_len(rd, cur) - coff;
  if(n > left)
    n = (size_t)left;
  ssize_t got = blob_reader_pread(s->br, buf, n, coff);
  if(got == 0) {
    log_error("reader: content %s: chunk %lld ended early", rd->content_id, (long long)cur);
    return BLOB_ERR;
  }
  return got;
}
