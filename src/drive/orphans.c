/* orphans: see orphans.h. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "drive/content.h"
#include "drive/garbage.h"
#include "drive/orphans.h"
#include "drive/store.h"
#include "util/log.h"
#include "util/grow.h"

#define ORPHANS_MAX_SERIES 256   /* Telegram: at most 64 chats */

size_t orphans_gaps(const int64_t *known, size_t n, int64_t from, int64_t to, int64_t *out,
                    size_t max)
{
  size_t k = 0, got = 0;
  while(k < n && known[k] <= from)
    k++;
  for(int64_t id = from + 1; id <= to && got < max; id++) {
    while(k < n && known[k] < id)
      k++;
    if(k < n && known[k] == id)
      continue;
    out[got++] = id;
  }
  return got;
}

/* The recorded numbers of one series. */
struct orphans_series {
  char name[BLOB_SERIES_MAX];
  int64_t *ids;
  size_t n, cap;
};

struct orphans_known {
  struct blob *store;
  struct orphans_series series[ORPHANS_MAX_SERIES];
  int nseries;
  bool oom;
};

/* Files one locator under its series (locators without one are skipped). */
static int orphans_collect(void *arg, const char *locator)
{
  struct orphans_known *k = arg;
  char name[BLOB_SERIES_MAX];
  int64_t seq;
  if(blob_sequence(k->store, locator, name, &seq) != BLOB_OK)
    return 0;
  int i = 0;
  while(i < k->nseries && strcmp(k->series[i].name, name))
    i++;
  if(i == k->nseries) {
    if(i == ORPHANS_MAX_SERIES)
      return 0;
    memset(&k->series[i], 0, sizeof(k->series[i]));
    memcpy(k->series[i].name, name, sizeof(name));
    k->nseries++;
  }
  struct orphans_series *s = &k->series[i];
  int64_t *grown = grow_room(s->ids, &s->cap, s->n, sizeof(*grown), 256);
  if(!grown) {
    k->oom = true;
    return 1;
  }
  s->ids = grown;
  s->ids[s->n++] = seq;
  return 0;
}

static int orphans_cmp(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

struct orphans_mark {
  int64_t mark, ceiling, ceiling_at;
};

static void orphans_mark_fill(db_stmt_t *st, void *arg)
{
  struct orphans_mark *m = arg;
  m->mark = db_col_int(st, 0);
  m->ceiling = db_col_int(st, 1);
  m->ceiling_at = db_col_int(st, 2);
}

/* Deals with one series in one transaction (its deletions and its mark
 * together). Returns the deletions queued or a fault code. */
static int64_t orphans_series_pass(db_t *db, const char *backend, struct orphans_series *s,
                                   int64_t now, int64_t grace_ms)
{
  static int64_t gaps[ORPHANS_SCAN_MAX];   /* one sweeping thread at a time (see orphans_sweep) */
  qsort(s->ids, s->n, sizeof(*s->ids), orphans_cmp);
  int64_t top = s->ids[s->n - 1];
  struct orphans_mark m = {0, 0, 0};
  int rc = drive_read_one(db_query(db, "SELECT mark, ceiling, ceiling_at FROM orphan_marks "
                                        "WHERE backend = $1 AND series = $2",
                                    "tt", backend, s->name),
                           orphans_mark_fill, &m);
  if(rc != DRIVE_OK && rc != DRIVE_NOT_FOUND)
    return rc;
  /* A series seen for the first time starts at its lowest known number:
   * what a chat held before NetraDrive's first recorded chunk is not ours to
   * judge (history of a chat put to use later, an upgrade), so it is never
   * touched. */
  if(rc == DRIVE_NOT_FOUND)
    m.mark = s->ids[0];
  /* Without grace: up to the highest recorded number now. With it: up to
   * the ceiling seen at least grace_ms ago; a put below it that landed then
   * has been recorded since, or never will be. */
  int64_t limit = grace_ms == 0 ? top
                  : m.ceiling > m.mark && m.ceiling_at <= now - grace_ms ? m.ceiling
                                                                          : m.mark;
  int64_t to = limit - m.mark > ORPHANS_SCAN_MAX ? m.mark + ORPHANS_SCAN_MAX : limit;
  size_t n = to > m.mark ? orphans_gaps(s->ids, s->n, m.mark, to, gaps, ORPHANS_SCAN_MAX) : 0;
  if(db_begin(db) != DB_OK)
    return DRIVE_DB;
  for(size_t i = 0; i < n; i++) {
    char locator[BLOB_LOCATOR_MAX];
    if(blob_gap_locator(store_blob(), s->name, gaps[i], locator, sizeof(locator)) != BLOB_OK)
      continue;
    if((rc = garbage_record_delete(db, backend, locator)) != DRIVE_OK)
      goto fail;
  }
  if(to > m.mark)
    m.mark = to;
  /* A new ceiling once the last one is dealt with: moving it on every pass
   * would keep it from ever ageing past the grace period. */
  if(m.mark >= m.ceiling && top > m.mark) {
    m.ceiling = top;
    m.ceiling_at = now;
  }
  rc = drive_db(db_exec(db, "INSERT INTO orphan_marks (backend, series, mark, ceiling, ceiling_at) "
                            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (backend, series) DO UPDATE "
                            "SET mark = $3, ceiling = $4, ceiling_at = $5",
                        "ttiii", backend, s->name, m.mark, m.ceiling, m.ceiling_at));
  if(rc != DRIVE_OK)
    goto fail;
  if(db_commit(db) != DB_OK) {
    rc = DRIVE_DB;
    goto fail;
  }
  return (int64_t)n;
fail:
  db_rollback(db);
  return rc;
}

int64_t orphans_sweep(int64_t now, int64_t grace_ms)
{
  static pthread_mutex_t one_at_a_time = PTHREAD_MUTEX_INITIALIZER;
  db_t *db = db_get();
  struct blob *b = store_blob();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!b || !blob_has_sequences(b))
    return 0;   /* nothing to find: do not read every locator for nothing */
  const char *backend = store_backend_name();
  struct orphans_known *k = calloc(1, sizeof(*k));
  if(!k)
    return DRIVE_INTERNAL;
  k->store = b;
  int64_t total = 0;
  pthread_mutex_lock(&one_at_a_time);
  /* Everything recorded, read after the ceilings it is compared with. */
  int rc = content_each_locator(db, backend, orphans_collect, k);
  if(rc == DRIVE_OK)
    rc = garbage_each_locator(db, backend, orphans_collect, k);
  if(rc == DRIVE_OK && k->oom)
    rc = DRIVE_INTERNAL;
  for(int i = 0; rc == DRIVE_OK && i < k->nseries; i++) {
    int64_t n = orphans_series_pass(db, backend, &k->series[i], now, grace_ms);
    if(n < 0)
      rc = (int)n;
    else
      total += n;
  }
  pthread_mutex_unlock(&one_at_a_time);
  for(int i = 0; i < k->nseries; i++)
    free(k->series[i].ids);
  free(k);
  if(rc != DRIVE_OK)
    return rc;
  if(total > 0)
    log_info("store: %lld unrecorded chunk(s) of interrupted uploads queued for removal",
             (long long)total);
  return total;
}
