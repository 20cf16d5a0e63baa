#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "drive/folder_ops.h"
#include "drive/content.h"
#include "drive/drive.h"
#include "drive/files.h"
#include "drive/folders.h"
#include "drive/garbage.h"
#include "drive/hasher.h"
#include "drive/mime.h"
#include "drive/store.h"
#include "drive/tasks.h"
#include "drive/upload.h"
#include "drive/upload_priv.h"
#include "util/id.h"
#include "util/log.h"
#include "util/names.h"
#include "util/timefmt.h"


static struct upload_options upload_opt;

void upload_init(const struct upload_options *o)
{
  upload_opt = *o;
}

uint64_t upload_max_size(void)
{
  return upload_opt.max_size;
}

struct upload *upload_new(const char *owner_id, const char *folder_id)
{
  struct upload *u = calloc(1, sizeof(*u));
  if(!u)
    return NULL;
  u->chunk_size = blob_chunk_size(store_blob(), 0, 0);
  u->spool_fd = -1;
  pthread_mutex_init(&u->lock, NULL);
  snprintf(u->owner_id, sizeof(u->owner_id), "%s", owner_id);
  snprintf(u->folder_id, sizeof(u->folder_id), "%s", folder_id ? folder_id : "");
  u->hash = hasher_stream_new();
  if(!u->hash) {
    upload_free(u);
    return NULL;
  }
  return u;
}

void upload_set_replace(struct upload *u, const char *file_id)
{
  snprintf(u->replace_id, sizeof(u->replace_id), "%s", file_id ? file_id : "");
}

void upload_set_mtime(struct upload *u, int64_t mtime_ms)
{
  u->mtime = mtime_ms > 0 ? mtime_ms : 0;
}

/* The task's cancel hook (tasks registry locked; see task_cancel_fn): stop
 * sending, give up what is in flight, and wake a waiting request so it can
 * answer. What was stored becomes garbage when the request lets go. */
static void upload_cancel(void *arg)
{
  struct upload *u = arg;
  pthread_mutex_lock(&u->lock);
  u->cancelled = true;
  hasher_stream_cancel(u->hash);   /* chunks still to hash: skip them */
  for(size_t i = 0; i < u->nchunks; i++)
    if(u->chunks[i].put)
      store_cancel(&u->chunks[i].put->op);
  if(u->waiting) {
    u->waiting = false;
    if(u->wake)
      u->wake(u->wake_arg);
  }
  pthread_mutex_unlock(&u->lock);
}

void upload_set_expected(struct upload *u, uint64_t size_min, uint64_t size_max)
{
  u->expected = size_max;
  /* The store picks the chunk size for a file of about this size (a remote
   * one evens out its rounds of parallel sends). */
  if(u->size == 0 && u->nchunks == 0)
    u->chunk_size = blob_chunk_size(store_blob(), size_min, size_max);
}

int upload_set_name(struct upload *u, const char *filename, const char **why)
{
  const char *err = name_clean(filename, u->name, sizeof(u->name));
  if(err) {
    *why = err;
    return DRIVE_INVALID;
  }
  /* Remote uploads take a while: the user can watch and cancel them. */
  if(!u->task && !u->untracked && blob_is_remote(store_blob())) {
    struct task_spec spec = {
      .user_id = u->owner_id, .type = "upload", .file_name = u->name,
      .folder_id = u->folder_id[0] ? u->folder_id : NULL, .total = u->expected,
    };
    u->task = task_start(&spec, upload_cancel, u);   /* NULL: goes on untracked */
  }
  return DRIVE_OK;
}

void upload_set_untracked(struct upload *u)
{
  u->untracked = true;
}

void upload_set_error(struct upload *u, const char *why)
{
  if(!u->error[0] && why)
    snprintf(u->error, sizeof(u->error), "%s", why);
}

bool upload_cancelled(struct upload *u)
{
  pthread_mutex_lock(&u->lock);
  bool c = u->cancelled;
  pthread_mutex_unlock(&u->lock);
  return c;
}

uint64_t upload_size(const struct upload *u)
{
  return u->size;
}

void upload_set_wake(struct upload *u, void (*suspend)(void *), void (*wake)(void *), void *arg)
{
  u->suspend = suspend;
  u->wake = wake;
  u->wake_arg = arg;
}

/* Not under u->lock: releasing waits for a running cancel hook. */
static void upload_destroy(struct upload *u)
{
  task_release(u->task);   /* after this, upload_cancel never runs again */
  pthread_mutex_destroy(&u->lock);
  hasher_stream_free(u->hash);
  for(size_t i = 0; i < u->nchunks; i++)
    free(u->chunks[i].hash_state);
  free(u->chunks);
  free(u);
}

/* Under the lock: extends the stored prefix over chunks that landed, in
 * order, keeping the file hash's state after the last of them. */
static void upload_advance_prefix(struct upload *u)
{
  while(u->prefix < u->nchunks && u->chunks[u->prefix].stored &&
        u->chunks[u->prefix].hash_state) {
    struct upload_chunk *c = &u->chunks[u->prefix++];
    snprintf(u->prefix_state, sizeof(u->prefix_state), "%s", c->hash_state);
    free(c->hash_state);
    c->hash_state = NULL;
    u->prefix_bytes += c->size;
  }
}

/* A chunk landed (or failed). Runs on the store's completion thread (or on
 * a hasher thread when hashing failed), never on a store's network thread.
 * The chunk is recorded as staged garbage until the file commits, so a
 * crash never leaks it. */
static void upload_put_done(void *arg, int rc, const char *locator)
{
  struct upload_put *p = arg;
  struct upload *u = p->u;
  char staged[ID_LEN + 1];
  bool recorded = false;
  /* This put keeps `u` alive; tasks are never called under u->lock. */
  if(rc == BLOB_OK && u->task)
    task_progress(u->task, p->size);
  if(rc == BLOB_OK) {
    db_t *db = db_get();
    recorded = db && garbage_record_staged(db, store_backend_name(), locator, staged) == DRIVE_OK;
    if(!recorded && store_blob())
      blob_delete(store_blob(), locator);   /* could not record it: don't leak it */
  }
  pthread_mutex_lock(&u->lock);
  if(recorded) {
    struct upload_chunk *c = &u->chunks[p->idx];
    snprintf(c->locator, sizeof(c->locator), "%s", locator);
    memcpy(c->checksum, p->checksum, sizeof(c->checksum));
    memcpy(c->staged_id, staged, sizeof(staged));
    c->stored = true;
    if(u->resumable) {
      c->hash_state = strdup(p->hash_state);   /* NULL: the prefix stops here */
      upload_advance_prefix(u);
    }
  }
  else
    u->put_failed = true;
  u->chunks[p->idx].put = NULL;
  u->inflight--;
  bool last = u->abandoned && u->inflight == 0;
  if(u->waiting) {
    u->waiting = false;
    if(u->wake)
      u->wake(u->wake_arg);
  }
  pthread_mutex_unlock(&u->lock);
  free(p);
  if(last) {
    /* The request is gone: what landed late is garbage now (but for the
     * prefix a resume after a restart will take over). */
    db_t *db = db_get();
    for(size_t i = u->kept; db && i < u->nchunks; i++)
      if(u->chunks[i].stored)
        garbage_release(db, u->chunks[i].staged_id);
    store_kick();
    upload_destroy(u);
  }
}

/* The chunk is hashed: store it, unless the upload was cancelled or its
 * request is gone (nothing would ever use the chunk). */
static void upload_hashed(void *arg, int rc, const char *checksum)
{
  struct upload_put *p = arg;
  struct upload *u = p->u;
  pthread_mutex_lock(&u->lock);
  bool cancelled = u->cancelled || u->abandoned;
  pthread_mutex_unlock(&u->lock);
  if(rc != 0 || cancelled) {
    unlink(p->spool);
    upload_put_done(p, cancelled ? BLOB_CANCELLED : BLOB_ERR, NULL);
    return;
  }
  snprintf(p->checksum, sizeof(p->checksum), "%s", checksum);
  /* Calls upload_put_done exactly once, later, on the completion thread. */
  store_put(&p->op, p->spool, p->size, p->checksum, upload_put_done, p);
}

/* Closes the current spool file and sends it on: hashed on a hasher
 * thread (into the file's hash and its own checksum) while the request
 * thread receives the next chunk, then stored. */
static int upload_flush_chunk(struct upload *u)
{
  if(u->spool_fd < 0)
    return DRIVE_OK;
  /* A local chunk is fsynced once hashed: start its disk write now, so
   * the disk works while it is hashed and the next chunk arrives. */
  if(!blob_is_remote(store_blob()))
    sync_file_range(u->spool_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  close(u->spool_fd);
  u->spool_fd = -1;
  struct upload_put *p = malloc(sizeof(*p));
  pthread_mutex_lock(&u->lock);
  if(p && u->nchunks == u->capchunks) {
    size_t cap = u->capchunks ? u->capchunks * 2 : 16;
    struct upload_chunk *grown = realloc(u->chunks, cap * sizeof(*grown));
    if(grown) {
      u->chunks = grown;
      u->capchunks = cap;
    }
  }
  if(!p || u->nchunks == u->capchunks || u->cancelled) {
    bool cancelled = u->cancelled;
    pthread_mutex_unlock(&u->lock);
    free(p);
    unlink(u->spool_path);
    return cancelled ? DRIVE_CANCELLED : DRIVE_STORAGE;
  }
  struct upload_chunk *c = &u->chunks[u->nchunks];
  memset(c, 0, sizeof(*c));
  c->size = u->chunk_fill;
  c->put = p;
  p->u = u;
  p->size = c->size;
  p->checksum[0] = '\0';
  memcpy(p->spool, u->spool_path, sizeof(p->spool));
  p->idx = u->nchunks++;
  u->inflight++;
  pthread_mutex_unlock(&u->lock);
  u->chunk_fill = 0;
  hasher_stream_add_saving(u->hash, p->spool, p->size, blob_chunk_checksum(store_blob()),
                           u->resumable ? p->hash_state : NULL, upload_hashed, p);
  return DRIVE_OK;
}

/* Decides, under the lock, whether the caller must wait for the store. */
static int upload_backpressure(struct upload *u, int limit)
{
  int rc = DRIVE_OK;
  pthread_mutex_lock(&u->lock);
  if(u->cancelled)
    rc = DRIVE_CANCELLED;
  else if(u->put_failed)
    rc = DRIVE_STORAGE;
  else if(u->inflight > limit) {
    u->waiting = true;
    if(u->suspend)
      u->suspend(u->wake_arg);
    rc = DRIVE_PENDING;
  }
  pthread_mutex_unlock(&u->lock);
  return rc;
}

int upload_write(struct upload *u, const char *data, size_t n)
{
  uint64_t max = upload_opt.max_size;
  if(max && (u->size + n < u->size || u->size + n > max))
    return DRIVE_TOO_BIG;
  if(u->head_len < MIME_HEAD_MAX) {
    size_t k = n < MIME_HEAD_MAX - u->head_len ? n : MIME_HEAD_MAX - u->head_len;
    memcpy(u->head + u->head_len, data, k);
    u->head_len += k;
  }
  u->size += n;
  while(n > 0) {
    if(u->spool_fd < 0) {
      u->spool_fd = blob_spool_create(store_blob(), u->spool_path, sizeof(u->spool_path));
      if(u->spool_fd < 0) {
        log_error("upload: cannot create a spool file: %s", strerror(errno));
        return DRIVE_STORAGE;
      }
    }
    uint64_t room = u->chunk_size - u->chunk_fill;
    size_t k = n < room ? n : (size_t)room;
    for(size_t off = 0; off < k;) {
      ssize_t w = write(u->spool_fd, data + off, k - off);
      if(w < 0 && errno == EINTR)
        continue;
      if(w <= 0) {
        log_error("upload: spool write failed: %s", strerror(errno));
        return DRIVE_STORAGE;
      }
      off += (size_t)w;
    }
    u->chunk_fill += k;
    data += k;
    n -= k;
    if(u->chunk_fill == u->chunk_size) {
      int rc = upload_flush_chunk(u);
      if(rc)
        return rc;
    }
  }
  /* Keep as many chunks spooled or in flight as the store says keeps it
   * busy (receiving, hashing and storing overlap); then wait. Disk, not
   * memory: one spool file each. */
  return upload_backpressure(u, blob_put_parallel(store_blob()) - 1);
}

/* A replacing upload's end of the commit: the live file takes the new
 * content; its folders and the owner's usage change by the difference and
 * the old content loses its reference. */
static int upload_swap(struct upload *u, db_t *db, const char *sha, const char *mime,
                       const char *content_id, int64_t stored, char *file_id)
{
  struct file_rec old;
  int rc = file_get(u->owner_id, u->replace_id, &old);
  if(rc != DRIVE_OK)
    return rc;
  if(old.is_deleted)
    return DRIVE_NOT_FOUND;
  int64_t delta = (int64_t)u->size - old.size;
  if(db_exec(db, "UPDATE files SET content_id = $1, mime_type = $2, size = $3, sha256 = $4, "
                 "updated_at = $5 WHERE id = $6 AND owner_id = $7",
             "ttititt", content_id, mime, (int64_t)u->size, sha,
             u->mtime ? u->mtime : time_now_ms(), old.id, u->owner_id))
    return DRIVE_DB;
  rc = folder_add_size(db, old.folder_id[0] ? old.folder_id : NULL, delta);
  if(rc == DRIVE_OK)
    rc = usage_add(db, u->owner_id, delta, 0, 0, stored);
  if(rc == DRIVE_OK)
    rc = content_unref(db, old.content_id);
  snprintf(file_id, ID_LEN + 1, "%.22s", old.id);
  return rc;
}

/* The commit: dedup, content + chunks, the file row, sizes and usage.
 * The owner's usage row is updated once, at the end, for both the new
 * content's stored bytes and the file's (one statement fewer per upload). */
static int upload_commit(struct upload *u, db_t *db, const char *sha, const char *mime,
                         char *file_id)
{
  int64_t now = time_now_ms();
  const char *folder = u->folder_id[0] ? u->folder_id : NULL;
  char content_id[ID_LEN + 1] = "";
  bool dup = false;
  int64_t stored = 0;   /* bytes newly stored for this owner (0 on a dedup hit) */
  int rc;

  if(folder_check_live(u->owner_id, folder) != DRIVE_OK)
    return DRIVE_NOT_FOUND;
  db_stmt_t *st = db_query(db, "SELECT id FROM contents WHERE owner_id = $1 AND sha256 = $2", "tt",
                           u->owner_id, sha);
  if(!st)
    return DRIVE_DB;
  if(db_step(st) == DB_ROW) {
    db_col_copy(st, 0, content_id, sizeof(content_id));
    dup = true;
  }
  if(db_finalize(st) != DB_OK)
    return DRIVE_DB;

  if(dup) {
    if(upload_opt.dedup_reject)
      return DRIVE_DUPLICATE;
    if(db_exec(db, "UPDATE contents SET refcount = refcount + 1 WHERE id = $1", "t", content_id))
      return DRIVE_DB;
    /* Our copy of the bytes is redundant: it becomes garbage. */
    u->redundant = true;
    for(size_t i = 0; i < u->nchunks; i++)
      if((rc = garbage_release(db, u->chunks[i].staged_id)) != DRIVE_OK)
        return rc;
  }
  else {
    id_new(content_id);
    if(db_exec(db, "INSERT INTO contents (id, owner_id, sha256, size, chunk_size, chunk_count, "
                   "backend, refcount, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
               "tttiiiti", content_id, u->owner_id, sha, (int64_t)u->size,
               (int64_t)u->chunk_size, (int64_t)u->nchunks,
               store_backend_name(), now))
      return DRIVE_DB;
    for(size_t i = 0; i < u->nchunks; i++) {
      struct upload_chunk *c = &u->chunks[i];
      if(db_exec(db, "INSERT INTO chunks (content_id, idx, size, checksum, locator) "
                     "VALUES ($1, $2, $3, $4, $5)",
                 "tiitt", content_id, (int64_t)i, (int64_t)c->size, c->checksum, c->locator))
        return DRIVE_DB;
      if((rc = garbage_confirm(db, c->staged_id)) != DRIVE_OK)
        return rc;
    }
    stored = (int64_t)u->size;
  }

  if(u->replace_id[0])
    return upload_swap(u, db, sha, mime, content_id, stored, file_id);
  struct file_rec f = {.size = (int64_t)u->size, .created_at = now,
                       .updated_at = u->mtime ? u->mtime : now};
  snprintf(f.owner_id, sizeof(f.owner_id), "%.31s", u->owner_id);
  snprintf(f.folder_id, sizeof(f.folder_id), "%.31s", u->folder_id);
  snprintf(f.content_id, sizeof(f.content_id), "%s", content_id);
  snprintf(f.name, sizeof(f.name), "%s", u->name);
  snprintf(f.mime_type, sizeof(f.mime_type), "%s", mime);
  snprintf(f.sha256, sizeof(f.sha256), "%s", sha);
  id_new(f.id);
  rc = file_insert_row(db, &f);
  if(rc != DRIVE_OK)
    return rc;
  memcpy(file_id, f.id, ID_LEN + 1);
  rc = folder_add_size(db, folder, (int64_t)u->size);
  if(rc == DRIVE_OK)
    rc = usage_add(db, u->owner_id, (int64_t)u->size, 1, 0, stored);
  return rc;
}

int upload_finish(struct upload *u, char *file_id, size_t idsz)
{
  char sha[65];
  int rc = upload_flush_chunk(u);
  if(rc)
    return rc;
  /* The type depends on the head and the name only: sniff it while the
   * last chunk is hashed and made durable (the store's threads wait on the
   * disk), not after. A small file's one chunk is still on its way here. */
  if(!u->sniffed) {
    mime_sniff(u->head, u->head_len, u->name, u->mime, sizeof(u->mime));
    u->sniffed = true;
  }
  rc = upload_backpressure(u, 0);   /* every chunk must have landed */
  if(rc)
    return rc;
  if(u->finished)
    return DRIVE_STORAGE;
  if(hasher_stream_final(u->hash, sha) != 0)
    return DRIVE_STORAGE;

  db_t *db = db_get();
  if(!db || idsz < ID_LEN + 1)
    return DRIVE_DB;
  /* Past this point a cancel is refused: the file is about to appear. */
  if(u->task && task_commit_begin(u->task) != DRIVE_OK)
    return DRIVE_CANCELLED;
  if((rc = folder_ops_tx_begin(db, u->owner_id)) != DRIVE_OK)
    return rc;
  rc = upload_commit(u, db, sha, u->mime, file_id);
  rc = drive_tx_end(db, rc);
  if(rc != DRIVE_OK)
    return rc;
  u->finished = true;
  if(u->task)
    task_complete(u->task, file_id, u->size);
  if(u->redundant && u->nchunks) {
    /* Removing a local chunk is one unlink: do it now so the duplicate never
     * lingers on disk; remote removals stay with the sweeper. */
    if(!blob_is_remote(store_blob()))
      for(size_t i = 0; i < u->nchunks; i++)
        if(blob_delete(store_blob(), u->chunks[i].locator) == BLOB_OK)
          garbage_done(db, u->chunks[i].staged_id);
    store_kick();
  }
  return DRIVE_OK;
}

void upload_free(struct upload *u)
{
  if(!u)
    return;
  if(u->spool_fd >= 0) {
    close(u->spool_fd);
    unlink(u->spool_path);
    u->spool_fd = -1;
  }
  if(u->task && !u->finished)
    task_fail(u->task, u->error[0] ? u->error : "The upload was interrupted before it finished");
  pthread_mutex_lock(&u->lock);
  u->wake = NULL;   /* the request is going away */
  if(u->inflight > 0) {
    u->abandoned = true;   /* the last upload_put_done cleans up */
    /* Nobody will use what is still being hashed or sent: stop it where
     * we can. */
    if(!u->finished) {
      hasher_stream_cancel(u->hash);
      for(size_t i = 0; i < u->nchunks; i++)
        if(u->chunks[i].put)
          store_cancel(&u->chunks[i].put->op);
    }
    pthread_mutex_unlock(&u->lock);
    return;
  }
  pthread_mutex_unlock(&u->lock);
  if(!u->finished) {
    /* Abandoned: everything stored so far becomes garbage now. */
    db_t *db = db_get();
    bool any = false;
    for(size_t i = u->kept; db && i < u->nchunks; i++)
      if(u->chunks[i].stored) {
        garbage_release(db, u->chunks[i].staged_id);
        any = true;
      }
    if(any)
      store_kick();
  }
  upload_destroy(u);
}
