#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
  free(u->piece);
  for(int i = 0; i < u->nspare; i++)
    free(u->spare[i]);
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

/* A piece is written (a hasher thread): its buffer is free for the next,
 * and a caller waiting for room may go on. The piece's chunk is in flight,
 * so `u` is alive. */
static void upload_piece_done(void *arg, char *data, size_t n)
{
  struct upload *u = arg;
  pthread_mutex_lock(&u->lock);
  if(u->nspare < UPLOAD_PIECES)
    u->spare[u->nspare++] = data;
  else
    free(data);
  u->bytes_out -= n;
  if(u->waiting && u->bytes_out < UPLOAD_PIECES * UPLOAD_PIECE && u->inflight <= u->wait_limit) {
    u->waiting = false;
    if(u->wake)
      u->wake(u->wake_arg);
  }
  pthread_mutex_unlock(&u->lock);
}

/* Hands the piece being filled to the hasher, which hashes it and writes
 * it to the chunk's spool file. */
static void upload_send_piece(struct upload *u)
{
  if(!u->piece || u->piece_fill == 0)
    return;
  char *data = u->piece;
  size_t n = u->piece_fill;
  u->piece = NULL;
  u->piece_fill = 0;
  u->chunk_sent += n;
  pthread_mutex_lock(&u->lock);
  u->bytes_out += n;
  pthread_mutex_unlock(&u->lock);
  hasher_stream_piece(u->hash, u->spool_fd, data, n, blob_chunk_checksum(store_blob()),
                      false, upload_piece_done, u);
}

/* A buffer for the next piece: a written one again when there is one. */
static char *upload_take_piece(struct upload *u)
{
  char *b = NULL;
  pthread_mutex_lock(&u->lock);
  if(u->nspare > 0)
    b = u->spare[--u->nspare];
  pthread_mutex_unlock(&u->lock);
  if(!u->piece_cap)   /* the chunk size is settled by the first byte */
    u->piece_cap = u->chunk_size < UPLOAD_PIECE ? (size_t)u->chunk_size : UPLOAD_PIECE;
  return b ? b : malloc(u->piece_cap);
}

/* Starts a chunk: its spool file, and its record, in flight from its first
 * byte (its pieces hold `u` alive through it). */
static int upload_open_chunk(struct upload *u)
{
  u->spool_fd = blob_spool_create(store_blob(), u->spool_path, sizeof(u->spool_path));
  if(u->spool_fd < 0) {
    log_error("upload: cannot create a spool file: %s", strerror(errno));
    return DRIVE_STORAGE;
  }
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
    close(u->spool_fd);
    u->spool_fd = -1;
    unlink(u->spool_path);
    return cancelled ? DRIVE_CANCELLED : DRIVE_STORAGE;
  }
  struct upload_chunk *c = &u->chunks[u->nchunks];
  memset(c, 0, sizeof(*c));
  c->put = p;
  p->u = u;
  p->size = 0;
  p->checksum[0] = '\0';
  memcpy(p->spool, u->spool_path, sizeof(p->spool));
  p->idx = u->nchunks++;
  u->inflight++;
  pthread_mutex_unlock(&u->lock);
  u->chunk_fill = u->chunk_sent = 0;
  return DRIVE_OK;
}

/* Ends the current chunk: its last piece and its end go to the hasher,
 * which closes the spool file and reports its checksum (then it is
 * stored: upload_hashed). With `abandon` (the upload is given up) it
 * reports a failure instead, and the spool file is removed. */
static int upload_flush_chunk(struct upload *u, bool abandon)
{
  if(u->spool_fd < 0)
    return DRIVE_OK;
  if(!abandon)
    upload_send_piece(u);
  pthread_mutex_lock(&u->lock);
  struct upload_chunk *c = &u->chunks[u->nchunks - 1];
  struct upload_put *p = c->put;
  c->size = p->size = u->chunk_sent;
  bool cancelled = u->cancelled;
  pthread_mutex_unlock(&u->lock);
  int fd = u->spool_fd;
  u->spool_fd = -1;
  u->chunk_fill = u->chunk_sent = 0;
  u->piece_fill = 0;
  hasher_stream_end(u->hash, fd, blob_chunk_checksum(store_blob()), !blob_is_remote(store_blob()),
                    abandon || cancelled,
                    u->resumable ? p->hash_state : NULL, upload_hashed, p);
  return cancelled ? DRIVE_CANCELLED : DRIVE_OK;
}

/* Decides, under the lock, whether the caller must wait for the store (no
 * more than `limit` chunks in flight) or the hasher (no more than
 * UPLOAD_PIECES full pieces' bytes out). */
static int upload_backpressure(struct upload *u, int limit)
{
  int rc = DRIVE_OK;
  pthread_mutex_lock(&u->lock);
  if(u->cancelled)
    rc = DRIVE_CANCELLED;
  else if(u->put_failed)
    rc = DRIVE_STORAGE;
  else if(u->inflight > limit || u->bytes_out >= UPLOAD_PIECES * UPLOAD_PIECE) {
    u->waiting = true;
    u->wait_limit = limit;
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
    int rc;
    if(u->spool_fd < 0 && (rc = upload_open_chunk(u)) != DRIVE_OK)
      return rc;
    if(!u->piece && !(u->piece = upload_take_piece(u))) {
      log_error("upload: out of memory for a piece");
      return DRIVE_STORAGE;
    }
    uint64_t room = u->chunk_size - u->chunk_fill;
    size_t k = n < room ? n : (size_t)room;
    if(k > u->piece_cap - u->piece_fill)
      k = u->piece_cap - u->piece_fill;
    memcpy(u->piece + u->piece_fill, data, k);
    u->piece_fill += k;
    u->chunk_fill += k;
    data += k;
    n -= k;
    if(u->chunk_fill == u->chunk_size) {
      if((rc = upload_flush_chunk(u, false)) != DRIVE_OK)
        return rc;
    }
    else if(u->piece_fill == u->piece_cap)
      upload_send_piece(u);
  }
  /* Keep as many chunks spooled or in flight as the store says keeps it
   * busy (receiving, hashing and storing overlap), the one being received
   * included; then wait. Disk, not memory: one spool file each. Memory is
   * the pieces, bounded apart. */
  return upload_backpressure(u, blob_put_parallel(store_blob()));
}

int upload_finish(struct upload *u, char *file_id, size_t idsz)
{
  char sha[65], mime[128];
  int rc = upload_flush_chunk(u, false);
  if(rc)
    return rc;
  rc = upload_backpressure(u, 0);   /* every chunk must have landed */
  if(rc)
    return rc;
  if(u->finished)
    return DRIVE_STORAGE;
  if(hasher_stream_final(u->hash, sha) != 0)
    return DRIVE_STORAGE;
  mime_sniff(u->head, u->head_len, u->name, mime, sizeof(mime));

  db_t *db = db_get();
  if(!db || idsz < ID_LEN + 1)
    return DRIVE_DB;
  /* Past this point a cancel is refused: the file is about to appear. */
  if(u->task && task_commit_begin(u->task) != DRIVE_OK)
    return DRIVE_CANCELLED;
  if((rc = drive_tx_begin(db)) != DRIVE_OK)
    return rc;
  rc = upload_commit(u, db, sha, mime, file_id, upload_opt.dedup_reject);
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
  upload_flush_chunk(u, true);   /* a chunk being received: dropped */
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
