/* blob_local: chunks as files under DATA_DIR/chunks/xx/<id>. A chunk is
 * received into DATA_DIR/tmp, fsynced, then renamed into place (same file
 * system, so the rename is atomic): the database never points at a half
 * written chunk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blob/blob.h"
#include "util/id.h"
#include "util/log.h"

struct blob {
  char root[BLOB_PATH_MAX - 64];
};

struct blob_reader {
  int fd;
  uint64_t size;
};

static int ensure_dir(const char *path)
{
  if(mkdir(path, 0700) != 0 && errno != EEXIST)
    return -1;
  return 0;
}

struct blob *blob_open(const struct config *cfg, char *err, size_t errlen)
{
  if(cfg->storage_backend != STORAGE_LOCAL) {
    snprintf(err, errlen, "STORAGE_BACKEND: telegram storage is not available in this build");
    return NULL;
  }
  struct blob *b = calloc(1, sizeof(*b));
  char path[BLOB_PATH_MAX];
  if(!b)
    goto fail;
  if(snprintf(b->root, sizeof(b->root), "%s", cfg->data_dir) >= (int)sizeof(b->root))
    goto fail;
  snprintf(path, sizeof(path), "%s/chunks", b->root);
  if(ensure_dir(path))
    goto fail;
  snprintf(path, sizeof(path), "%s/tmp", b->root);
  if(ensure_dir(path))
    goto fail;
  return b;
fail:
  snprintf(err, errlen, "DATA_DIR: cannot create the chunk directories under '%s'", cfg->data_dir);
  free(b);
  return NULL;
}

void blob_close(struct blob *b)
{
  free(b);
}

const char *blob_backend_name(const struct blob *b)
{
  (void)b;
  return "local";
}

int blob_ping(struct blob *b)
{
  char path[BLOB_PATH_MAX];
  snprintf(path, sizeof(path), "%s/chunks", b->root);
  return access(path, W_OK) == 0;
}

int blob_spool_create(struct blob *b, char *path, size_t pathsz)
{
  char id[ID_LEN + 1];
  id_new(id);
  if(snprintf(path, pathsz, "%s/tmp/%s.part", b->root, id) >= (int)pathsz)
    return -1;
  return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

/* Locators are "<2 chars>/<id>": the prefix spreads files over 4096 dirs. */
int blob_local_path(const struct blob *b, const char *locator, char *out, size_t outsz)
{
  size_t n = strlen(locator);
  if(n != ID_LEN + 3 || locator[2] != '/' || !id_valid(locator + 3) ||
     memcmp(locator, locator + 3, 2) != 0)
    return BLOB_ERR;
  if(snprintf(out, outsz, "%s/chunks/%s", b->root, locator) >= (int)outsz)
    return BLOB_ERR;
  return BLOB_OK;
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

int blob_put(struct blob *b, const char *spool_path, uint64_t size, const char *sha256_hex,
             blob_done_fn done, void *arg)
{
  char id[ID_LEN + 1], locator[ID_LEN + 4], dir[BLOB_PATH_MAX], dest[BLOB_PATH_MAX];
  int rc = BLOB_ERR;
  (void)sha256_hex;
  id_new(id);
  snprintf(locator, sizeof(locator), "%.2s/%s", id, id);
  snprintf(dir, sizeof(dir), "%s/chunks/%.2s", b->root, id);
  if(blob_local_path(b, locator, dest, sizeof(dest)) != BLOB_OK || ensure_dir(dir) != 0)
    goto out;
  int fd = open(spool_path, O_RDONLY | O_CLOEXEC);
  if(fd < 0)
    goto out;
  struct stat stb;
  int ok = fstat(fd, &stb) == 0 && (uint64_t)stb.st_size == size && fsync(fd) == 0;
  close(fd);
  if(!ok) {
    log_error("blob_local: spooled chunk %s is not %llu bytes or cannot be synced", spool_path,
              (unsigned long long)size);
    goto out;
  }
  if(rename(spool_path, dest) != 0 || fsync_dir(dir) != 0) {
    log_error("blob_local: cannot store chunk %s: %s", dest, strerror(errno));
    goto out;
  }
  rc = BLOB_OK;
out:
  if(rc != BLOB_OK)
    unlink(spool_path);
  done(arg, rc, rc == BLOB_OK ? locator : NULL);
  return BLOB_OK;
}

int blob_reader_open(struct blob *b, const char *locator, uint64_t size, struct blob_reader **out)
{
  char path[BLOB_PATH_MAX];
  *out = NULL;
  if(blob_local_path(b, locator, path, sizeof(path)) != BLOB_OK)
    return BLOB_ERR;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd < 0)
    return errno == ENOENT ? BLOB_NOTFOUND : BLOB_ERR;
  struct blob_reader *rd = malloc(sizeof(*rd));
  if(!rd) {
    close(fd);
    return BLOB_ERR;
  }
  rd->fd = fd;
  rd->size = size;
  *out = rd;
  return BLOB_OK;
}

ssize_t blob_reader_pread(struct blob_reader *rd, void *buf, size_t n, uint64_t off)
{
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

void blob_reader_set_wake(struct blob_reader *rd, void (*wake)(void *arg), void *arg)
{
  (void)rd;
  (void)wake;
  (void)arg;
}

void blob_reader_close(struct blob_reader *rd)
{
  if(!rd)
    return;
  close(rd->fd);
  free(rd);
}

int blob_delete(struct blob *b, const char *locator)
{
  char path[BLOB_PATH_MAX];
  if(blob_local_path(b, locator, path, sizeof(path)) != BLOB_OK)
    return BLOB_ERR;
  if(unlink(path) != 0 && errno != ENOENT)
    return BLOB_ERR;
  return BLOB_OK;
}
