/* blob_local: chunks as files under DATA_DIR/chunks/xx/<id>. A chunk is
 * received into DATA_DIR/tmp, fsynced, then renamed into place (same file
 * system, so the rename is atomic): the database never points at a half
 * written chunk. */
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blob/backend.h"
#include "util/fsutil.h"
#include "util/id.h"
#include "util/log.h"
#include "util/metric_list.h"

/* A chunk waiting for its fsync + rename. */
struct local_job {
  struct local_job *next;
  char spool_path[BLOB_PATH_MAX];
  uint64_t size;
  blob_done_fn done;
  void *arg;
};

/* Writer threads: fsync is the slow part of a local put and mostly waits
 * on the disk, so concurrent uploads' chunks are synced side by side (ext4
 * folds concurrent fsyncs into shared journal commits) instead of queueing
 * behind one thread's fsyncs. Each chunk is still fsynced, renamed and its
 * directory fsynced by one thread, in that order, before it is reported;
 * chunks may now complete out of order (uploads allow it: remote stores are
 * parallel too). */
#define LOCAL_WRITERS 4

struct local {
  char root[BLOB_PATH_MAX - 64];
  /* The writers make chunks durable while the request threads go on
   * receiving the next ones. */
  pthread_t writer[LOCAL_WRITERS];
  int nwriters;
  bool stopping;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct local_job *head, *tail;
};

struct local_reader {
  int fd;
  uint64_t size;
};

static void *local_writer_main(void *self);

static void *local_open(const struct blob_options *opt, char *err, size_t errlen)
{
  struct local *b = calloc(1, sizeof(*b));
  char path[BLOB_PATH_MAX];
  if(!b)
    goto fail;
  if(snprintf(b->root, sizeof(b->root), "%s", opt->data_dir) >= (int)sizeof(b->root))
    goto fail;
  snprintf(path, sizeof(path), "%s/chunks", b->root);
  if(fs_mkdir_p(path, 0700) != 0)
    goto fail;
  pthread_mutex_init(&b->lock, NULL);
  pthread_cond_init(&b->cond, NULL);
  for(int i = 0; i < LOCAL_WRITERS; i++) {
    if(pthread_create(&b->writer[i], NULL, local_writer_main, b) != 0)
      break;
    b->nwriters++;
  }
  if(b->nwriters == 0) {
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->cond);
    snprintf(err, errlen, "cannot start the chunk writer thread");
    free(b);
    return NULL;
  }
  return b;
fail:
  snprintf(err, errlen, "DATA_DIR: cannot create the chunk directories under '%s'", opt->data_dir);
  free(b);
  return NULL;
}

static void local_close(void *self)
{
  struct local *b = self;
  if(!b)
    return;
  if(b->nwriters > 0) {
    pthread_mutex_lock(&b->lock);
    b->stopping = true;   /* the writers drain what is queued, then end */
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    for(int i = 0; i < b->nwriters; i++)
      pthread_join(b->writer[i], NULL);
  }
  pthread_mutex_destroy(&b->lock);
  pthread_cond_destroy(&b->cond);
  free(b);
}

static int local_ping(void *self)
{
  struct local *b = self;
  char path[BLOB_PATH_MAX];
  snprintf(path, sizeof(path), "%s/chunks", b->root);
  return access(path, W_OK) == 0;
}

/* Locators are "<2 chars>/<id>": the prefix spreads files over 4096 dirs. */
static int local_path(const struct local *b, const char *locator, char *out, size_t outsz)
{
  size_t n = strlen(locator);
  if(n != ID_LEN + 3 || locator[2] != '/' || !id_valid(locator + 3) ||
     memcmp(locator, locator + 3, 2) != 0)
    return BLOB_ERR;
  if(snprintf(out, outsz, "%s/chunks/%s", b->root, locator) >= (int)outsz)
    return BLOB_ERR;
  return BLOB_OK;
}

/* Counts a store call for /metrics; `kind` names its failure, NULL for none. */
static void local_count(const char *op, const char *kind)
{
  const char *call[] = {"local", op};
  metric_inc(&metric_storage_calls, call);
  if(kind) {
    const char *err[] = {"local", kind};
    metric_inc(&metric_storage_errors, err);
  }
}

static int fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* Moves a synced chunk into its directory. The 4096 directories exist
 * after the first few thousand chunks, so the rename is tried first and a
 * missing directory made only when it fails (no mkdir walk per chunk). As
 * before, the directory made is not synced into chunks/ on its own: the
 * chunk directory's fsync that follows commits the file system's journal
 * up to it, the mkdir included (ext4 and XFS commit metadata in order). */
static int local_rename(const char *from, const char *to, const char *dir)
{
  if(rename(from, to) == 0)
    return 0;
  if(errno != ENOENT || fs_mkdir_p(dir, 0700) != 0)
    return -1;
  return rename(from, to);
}

/* Makes one spooled chunk durable and moves it into place; calls done. */
static void local_store(struct local *b, const char *spool_path, uint64_t size, blob_done_fn done,
                        void *arg)
{
  char id[ID_LEN + 1], locator[ID_LEN + 4], dir[BLOB_PATH_MAX], dest[BLOB_PATH_MAX];
  int rc = BLOB_ERR;
  id_new(id);
  snprintf(locator, sizeof(locator), "%.2s/%s", id, id);
  snprintf(dir, sizeof(dir), "%s/chunks/%.2s", b->root, id);
  if(local_path(b, locator, dest, sizeof(dest)) != BLOB_OK)
    goto out;
  int fd = open(spool_path, O_RDONLY | O_CLOEXEC);
  if(fd < 0)
    goto out;
  struct stat stb;
  int ok = fstat(fd, &stb) == 0 && (uint64_t)stb.st_size == size && fsync(fd) == 0;
  /* Durable now, so its pages are clean and were read for the last time by
   * the hashers: let them go. A big upload then recycles its own few
   * chunks' worth of page cache instead of pushing out everything else
   * cached (the database's pages, chunks being downloaded) a GiB at a time. */
  if(ok)
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
  if(!ok) {
    log_error("blob_local: spooled chunk %s is not %llu bytes or cannot be synced", spool_path,
              (unsigned long long)size);
    goto out;
  }
  if(local_rename(spool_path, dest, dir) != 0 || fsync_dir(dir) != 0) {
    log_error("blob_local: cannot store chunk %s: %s", dest, strerror(errno));
    goto out;
  }
  rc = BLOB_OK;
out:
  local_count("put", rc == BLOB_OK ? NULL : "io");
  if(rc != BLOB_OK)
    unlink(spool_path);
  done(arg, rc, rc == BLOB_OK ? locator : NULL);
}

static void *local_writer_main(void *self)
{
  pthread_setname_np(pthread_self(), "nd-chunkwriter");   /* for top -H and perf */
  struct local *b = self;
  pthread_mutex_lock(&b->lock);
  for(;;) {
    while(!b->head && !b->stopping)
      pthread_cond_wait(&b->cond, &b->lock);
    struct local_job *j = b->head;
    if(!j)
      break;   /* stopping and drained */
    b->head = j->next;
    if(!b->head)
      b->tail = NULL;
    pthread_mutex_unlock(&b->lock);
    local_store(b, j->spool_path, j->size, j->done, j->arg);
    free(j);
    pthread_mutex_lock(&b->lock);
  }
  pthread_mutex_unlock(&b->lock);
  return NULL;
}

static int local_put(void *self, const char *spool_path, uint64_t size, const char *checksum,
                     blob_done_fn done, void *arg)
{
  struct local *b = self;
  (void)checksum;
  struct local_job *j = calloc(1, sizeof(*j));
  if(!j || snprintf(j->spool_path, sizeof(j->spool_path), "%s", spool_path) >= (int)sizeof(j->spool_path)) {
    free(j);
    local_store(b, spool_path, size, done, arg);   /* no memory: do it inline */
    return BLOB_OK;
  }
  j->size = size;
  j->done = done;
  j->arg = arg;
  pthread_mutex_lock(&b->lock);
  if(b->tail)
    b->tail->next = j;
  else
    b->head = j;
  b->tail = j;
  pthread_cond_signal(&b->cond);
  pthread_mutex_unlock(&b->lock);
  return BLOB_OK;
}

static int local_reader_open(void *self, const char *locator, uint64_t size, void **out)
{
  struct local *b = self;
  char path[BLOB_PATH_MAX];
  *out = NULL;
  if(local_path(b, locator, path, sizeof(path)) != BLOB_OK) {
    local_count("open", "bad_locator");
    return BLOB_ERR;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd < 0) {
    bool gone = errno == ENOENT;
    local_count("open", gone ? "not_found" : "io");
    return gone ? BLOB_NOTFOUND : BLOB_ERR;
  }
  struct stat st;
  if(fstat(fd, &st) != 0 || (uint64_t)st.st_size != size) {
    log_error("blob_local: chunk %s is %lld bytes, expected %llu: damaged", locator,
              (long long)st.st_size, (unsigned long long)size);
    close(fd);
    local_count("open", "damaged");
    return BLOB_ERR;
  }
  local_count("open", NULL);
  struct local_reader *rd = malloc(sizeof(*rd));
  if(!rd) {
    close(fd);
    return BLOB_ERR;
  }
  rd->fd = fd;
  rd->size = size;
  *out = rd;
  return BLOB_OK;
}

static ssize_t local_reader_pread(void *self, void *buf, size_t n, uint64_t off)
{
  struct local_reader *rd = self;
  if(off >= rd->size)
    return 0;
  if(n > rd->size - off)
    n = (size_t)(rd->size - off);
  ssize_t got;
  do
    got = pread(rd->fd, buf, n, (off_t)off);
  while(got < 0 && errno == EINTR);
  if(got == 0)
    return BLOB_ERR;   /* shorter than recorded: the chunk is damaged */
  return got < 0 ? BLOB_ERR : got;
}

static void local_reader_close(void *self)
{
  struct local_reader *rd = self;
  if(!rd)
    return;
  close(rd->fd);
  free(rd);
}

static int local_delete(void *self, const char *locator)
{
  struct local *b = self;
  char path[BLOB_PATH_MAX];
  if(local_path(b, locator, path, sizeof(path)) != BLOB_OK) {
    local_count("delete", "bad_locator");
    return BLOB_ERR;
  }
  bool failed = unlink(path) != 0 && errno != ENOENT;
  local_count("delete", failed ? "io" : NULL);
  return failed ? BLOB_ERR : BLOB_OK;
}

static int local_list(void *self, blob_list_fn fn, void *arg)
{
  struct local *b = self;
  char dir[BLOB_PATH_MAX], path[BLOB_PATH_MAX], locator[BLOB_LOCATOR_MAX];
  snprintf(dir, sizeof(dir), "%s/chunks", b->root);
  DIR *top = opendir(dir);
  if(!top)
    return BLOB_ERR;
  int rc = BLOB_OK;
  struct dirent *d;
  while(rc == BLOB_OK && (d = readdir(top)) != NULL) {
    if(strlen(d->d_name) != 2)
      continue;
    if(snprintf(path, sizeof(path), "%s/chunks/%.2s", b->root, d->d_name) >= (int)sizeof(path))
      continue;
    DIR *sub = opendir(path);
    if(!sub)
      continue;
    struct dirent *e;
    while(rc == BLOB_OK && (e = readdir(sub)) != NULL) {
      if(e->d_name[0] == '.')
        continue;
      snprintf(locator, sizeof(locator), "%s/%s", d->d_name, e->d_name);
      char full[BLOB_PATH_MAX];
      struct stat st;
      if(local_path(b, locator, full, sizeof(full)) != BLOB_OK || stat(full, &st) != 0)
        continue;
      if(fn(arg, locator, (int64_t)st.st_mtime * 1000) != 0)
        rc = BLOB_CANCELLED;
    }
    closedir(sub);
  }
  closedir(top);
  return rc == BLOB_CANCELLED ? BLOB_OK : rc;
}

const struct blob_backend blob_local_backend = {
  .name = "local",
  .open = local_open,
  .close = local_close,
  .ping = local_ping,
  .put = local_put,
  .reader_open = local_reader_open,
  .reader_pread = local_reader_pread,
  .reader_set_wake = NULL,
  .reader_close = local_reader_close,
  .del = local_delete,
  .list = local_list,
};
