/* secret: see secret.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "secret.h"
#include "util/fsutil.h"
#include "util/log.h"

#define SECRET_FILE_MAX 4096

/* Reads an existing key file. Returns 0 (key in *out), 1 when the file does
 * not exist, -1 with the error set. */
static int secret_read(const char *path, char **out, char *err, size_t errlen)
{
  char data[SECRET_FILE_MAX + 1];
  int rc = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd < 0) {
    if(errno == ENOENT)
      return 1;
    snprintf(err, errlen, "%s: cannot read the secret key: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if(fstat(fd, &st) || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: the secret key must be a regular file", path);
    goto out;
  }
  size_t n = 0;
  while(n < sizeof(data)) {
    ssize_t r = read(fd, data + n, sizeof(data) - n);
    if(r < 0 && errno == EINTR)
      continue;
    if(r < 0) {
      snprintf(err, errlen, "%s: cannot read the secret key: %s", path, strerror(errno));
      goto out;
    }
    if(r == 0)
      break;
    n += (size_t)r;
  }
  if(n > SECRET_FILE_MAX) {
    snprintf(err, errlen, "%s: the secret key file is larger than %d bytes", path,
             SECRET_FILE_MAX);
    goto out;
  }
  while(n && isspace((unsigned char)data[n - 1]))
    n--;
  data[n] = 0;
  if(n < SECRET_MIN_LEN || strlen(data) != n) {
    snprintf(err, errlen, "%s: the stored secret key must be at least %d bytes of text", path,
             SECRET_MIN_LEN);
    goto out;
  }
  if(st.st_mode & 077)
    log_warn("%s is readable by other users; chmod 600 it", path);
  *out = strdup(data);
  if(!*out) {
    snprintf(err, errlen, "%s: out of memory", path);
    goto out;
  }
  rc = 0;
out:
  sodium_memzero(data, sizeof(data));
  close(fd);
  return rc;
}

/* Writes a fresh key to a private temporary file and links it into place, so
 * a crash never leaves a half-written key and two processes starting at once
 * agree on one key (the loser of the link race reads the winner's). Returns 0
 * when this process created the file, 1 when another one did first. */
static int secret_write(const char *path, char *err, size_t errlen)
{
  char tmp[PATH_MAX], hex[65];
  unsigned char raw[32];
  int rc = -1, fd = -1;
  if(snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp)) {
    snprintf(err, errlen, "%s: path is too long", path);
    return -1;
  }
  if(sodium_init() < 0) {
    snprintf(err, errlen, "SECRET_KEY: libsodium failed to initialise");
    return -1;
  }
  randombytes_buf(raw, sizeof(raw));
  sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
  hex[64] = '\n';
  unlink(tmp); /* a leftover from a crashed run with the same pid */
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if(fd < 0) {
    snprintf(err, errlen, "%s: cannot create the secret key: %s", tmp, strerror(errno));
    goto out;
  }
  if(write(fd, hex, sizeof(hex)) != (ssize_t)sizeof(hex) || fsync(fd)) {
    snprintf(err, errlen, "%s: cannot write the secret key: %s", tmp, strerror(errno));
    goto out;
  }
  close(fd);
  fd = -1;
  if(!link(tmp, path))
    rc = 0;
  else if(errno == EEXIST)
    rc = 1;
  else if(!rename(tmp, path)) /* file systems without hard links */
    rc = 0;
  else
    snprintf(err, errlen, "%s: cannot store the secret key: %s", path, strerror(errno));
out:
  if(fd >= 0)
    close(fd);
  unlink(tmp);
  sodium_memzero(raw, sizeof(raw));
  sodium_memzero(hex, sizeof(hex));
  return rc;
}

int secret_ensure(const char *data_dir, char **key, char *err, size_t errlen)
{
  char path[PATH_MAX];
  if(!err)
    errlen = 0;
  if(*key)
    return 0;
  if(!data_dir) {
    snprintf(err, errlen, "DATA_DIR: not set");
    return -1;
  }
  if(snprintf(path, sizeof(path), "%s/secret_key", data_dir) >= (int)sizeof(path)) {
    snprintf(err, errlen, "DATA_DIR: path is too long");
    return -1;
  }
  if(fs_mkdir_p(data_dir, 0700)) {
    snprintf(err, errlen, "DATA_DIR: cannot create '%s': %s", data_dir, strerror(errno));
    return -1;
  }
  bool created = false;
  int rc = secret_read(path, key, err, errlen);
  if(rc == 1) {
    rc = secret_write(path, err, errlen);
    if(rc < 0)
      return -1;
    created = rc == 0;
    rc = secret_read(path, key, err, errlen);
    if(rc == 1) {
      snprintf(err, errlen, "%s: the secret key vanished while starting", path);
      return -1;
    }
  }
  if(rc < 0)
    return -1;
  if(created)
    log_info("SECRET_KEY is not set: generated a new one in %s", path);
  else
    log_info("SECRET_KEY is not set: using the one stored in %s", path);
  return 0;
}
