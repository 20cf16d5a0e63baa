/* blob: dispatch to the configured backend, plus what all backends share
 * (the spool directory under DATA_DIR/tmp). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blob/backend.h"
#include "util/fsutil.h"
#include "util/id.h"

struct blob {
  const struct blob_backend *be;
  void *self;
  uint64_t chunk_size;        /* CHUNK_SIZE */
  char spool_dir[BLOB_PATH_MAX - 64];
  char spool_owner[BLOB_SPOOL_OWNER_MAX + 1];   /* "" = unnamed */
};

struct blob_reader {
  const struct blob_backend *be;
  void *rd;
};

struct blob *blob_open(const struct blob_options *opt, char *err, size_t errlen)
{
  struct blob *b = calloc(1, sizeof(*b));
  if(!b) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  b->be = opt->backend                      ? opt->backend
          : opt->kind == BLOB_KIND_TELEGRAM ? &blob_telegram_backend
                                            : &blob_local_backend;
  b->chunk_size = opt->chunk_size;
  if(snprintf(b->spool_dir, sizeof(b->spool_dir), "%s/tmp", opt->data_dir) >=
     (int)sizeof(b->spool_dir) || fs_mkdir_p(b->spool_dir, 0700) != 0) {
    snprintf(err, errlen, "DATA_DIR: cannot create '%s/tmp'", opt->data_dir);
    free(b);
    return NULL;
  }
  b->self = b->be->open(opt, err, errlen);
  if(!b->self) {
    free(b);
    return NULL;
  }
  return b;
}

void blob_close(struct blob *b)
{
  if(!b)
    return;
  b->be->close(b->self);
  free(b);
}

const char *blob_backend_name(const struct blob *b)
{
  return b->be->name;
}

bool blob_is_remote(const struct blob *b)
{
  return strcmp(b->be->name, "local") != 0;
}

enum checksum_kind blob_chunk_checksum(const struct blob *b)
{
  return blob_is_remote(b) ? CHECKSUM_SHA256 : CHECKSUM_XXH128;
}

int blob_fetch_parallel(const struct blob *b)
{
  return b->be->fetch_parallel ? b->be->fetch_parallel(b->self) : 1;
}

int blob_put_parallel(const struct blob *b)
{
  return b->be->put_parallel ? b->be->put_parallel(b->self) : BLOB_PUT_PARALLEL_DEFAULT;
}

uint64_t blob_chunk_size(const struct blob *b, uint64_t size_min, uint64_t size_max)
{
  return b->be->chunk_size ? b->be->chunk_size(b->self, size_min, size_max) : b->chunk_size;
}

int blob_ping(struct blob *b)
{
  return b->be->ping(b->self);
}

int blob_spool_create(struct blob *b, char *path, size_t pathsz)
{
  char id[ID_LEN + 1];
  id_new(id);
  int n = b->spool_owner[0]
              ? snprintf(path, pathsz, "%s/%s.%s.part", b->spool_dir, b->spool_owner, id)
              : snprintf(path, pathsz, "%s/%s.part", b->spool_dir, id);
  if(n < 0 || n >= (int)pathsz)
    return -1;
  return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

void blob_spool_set_owner(struct blob *b, const char *owner)
{
  snprintf(b->spool_owner, sizeof(b->spool_owner), "%s", owner && !strchr(owner, '.') ? owner : "");
}

/* The owner part of a spool file's name ("OWNER.ID.part"), "" for none. */
static void blob_spool_owner_of(const char *name, char *out, size_t outsz)
{
  const char *dot = strchr(name, '.');
  size_t n = dot && strchr(dot + 1, '.') ? (size_t)(dot - name) : 0;
  if(n >= outsz)
    n = 0;
  memcpy(out, name, n);
  out[n] = '\0';
}

int blob_spool_clear(struct blob *b, bool (*live)(const char *owner, void *arg), void *arg)
{
  DIR *d = opendir(b->spool_dir);
  if(!d)
    return -1;
  int n = 0;
  struct dirent *e;
  /* unlinkat on the open directory: no path building; subdirectories (none
   * of ours) fail with EISDIR and stay. */
  while((e = readdir(d)) != NULL) {
    char owner[BLOB_SPOOL_OWNER_MAX + 1];
    if(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    blob_spool_owner_of(e->d_name, owner, sizeof(owner));
    if(live && live(owner, arg))
      continue;
    if(unlinkat(dirfd(d), e->d_name, 0) == 0)
      n++;
  }
  closedir(d);
  return n;
}

int blob_put(struct blob *b, const char *spool_path, uint64_t size, const char *checksum,
             blob_done_fn done, void *arg)
{
  return b->be->put(b->self, spool_path, size, checksum, done, arg);
}

int blob_cancel(struct blob *b, void *put_arg)
{
  return b->be->cancel ? b->be->cancel(b->self, put_arg) : BLOB_ERR;
}

int blob_reader_open(struct blob *b, const char *locator, uint64_t size, struct blob_reader **out)
{
  *out = NULL;
  struct blob_reader *r = malloc(sizeof(*r));
  if(!r)
    return BLOB_ERR;
  r->be = b->be;
  int rc = b->be->reader_open(b->self, locator, size, &r->rd);
  if(rc != BLOB_OK) {
    free(r);
    return rc;
  }
  *out = r;
  return BLOB_OK;
}

ssize_t blob_reader_pread(struct blob_reader *rd, void *buf, size_t n, uint64_t off)
{
  return rd->be->reader_pread(rd->rd, buf, n, off);
}

void blob_reader_set_wake(struct blob_reader *rd, void (*wake)(void *arg), void *arg)
{
  if(rd->be->reader_set_wake)
    rd->be->reader_set_wake(rd->rd, wake, arg);
}

void blob_reader_close(struct blob_reader *rd)
{
  if(!rd)
    return;
  rd->be->reader_close(rd->rd);
  free(rd);
}

int blob_delete(struct blob *b, const char *locator)
{
  return b->be->del(b->self, locator);
}

void blob_delete_many(struct blob *b, const char *const *locators, int n, int *rcs)
{
  if(b->be->del_many) {
    b->be->del_many(b->self, locators, n, rcs);
    return;
  }
  for(int i = 0; i < n; i++)
    rcs[i] = b->be->del(b->self, locators[i]);
}

int blob_list(struct blob *b, blob_list_fn fn, void *arg)
{
  return b->be->list ? b->be->list(b->self, fn, arg) : BLOB_ERR;
}

bool blob_has_sequences(const struct blob *b)
{
  return b->be->sequence && b->be->gap_locator;
}

int blob_sequence(struct blob *b, const char *locator, char series[BLOB_SERIES_MAX], int64_t *seq)
{
  return b->be->sequence ? b->be->sequence(b->self, locator, series, seq) : BLOB_ERR;
}

int blob_gap_locator(struct blob *b, const char *series, int64_t seq, char *out, size_t outsz)
{
  return b->be->gap_locator ? b->be->gap_locator(b->self, series, seq, out, outsz) : BLOB_ERR;
}
