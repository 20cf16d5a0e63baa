/* hasher: see hasher.h. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "drive/hasher.h"
#include "util/log.h"

#define HASHER_BUF (256 * 1024)

struct hasher_job {
  struct hasher_job *next;
  uint64_t size;
  hasher_done_fn done;
  void *arg;
  char path[];
};

static pthread_mutex_t hasher_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hasher_cond = PTHREAD_COND_INITIALIZER;
static struct hasher_job *queue_head, *queue_tail;
static pthread_t threads[HASHER_THREADS_MAX];
static int nthreads;
static bool stopping;

/* hasher_file with a HASHER_BUF buffer of the caller's (a hasher thread
 * keeps one for all its jobs). */
static int hasher_file_buf(const char *path, uint64_t size, char hex[65], char *buf)
{
  static const char digits[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  int rc = -1;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if(!buf || !ctx || fd < 0 || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
    goto out;
  uint64_t left = size;
  while(left > 0) {
    size_t want = left < HASHER_BUF ? (size_t)left : HASHER_BUF;
    ssize_t got = read(fd, buf, want);
    if(got < 0 && errno == EINTR)
      continue;
    if(got <= 0 || !EVP_DigestUpdate(ctx, buf, (size_t)got))
      goto out;
    left -= (uint64_t)got;
  }
  if(!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32)
    goto out;
  for(unsigned int i = 0; i < 32; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  hex[64] = '\0';
  rc = 0;
out:
  if(rc != 0)
    log_error("hasher: cannot hash %llu bytes of %s: %s", (unsigned long long)size, path,
              fd < 0 ? strerror(errno) : "short or unreadable");
  if(fd >= 0)
    close(fd);
  EVP_MD_CTX_free(ctx);
  return rc;
}

int hasher_file(const char *path, uint64_t size, char hex[65])
{
  char *buf = malloc(HASHER_BUF);
  int rc = hasher_file_buf(path, size, hex, buf);
  free(buf);
  return rc;
}

static void hasher_run(struct hasher_job *j, char *buf)
{
  char hex[65] = "";
  int rc = buf ? hasher_file_buf(j->path, j->size, hex, buf) : hasher_file(j->path, j->size, hex);
  j->done(j->arg, rc, rc == 0 ? hex : NULL);
  free(j);
}

static void *hasher_main(void *unused)
{
  (void)unused;
  char *buf = malloc(HASHER_BUF);   /* NULL: each job allocates its own */
  pthread_mutex_lock(&hasher_lock);
  for(;;) {
    while(!queue_head && !stopping)
      pthread_cond_wait(&hasher_cond, &hasher_lock);
    struct hasher_job *j = queue_head;
    if(!j)
      break;   /* stopping, and nothing left */
    queue_head = j->next;
    if(!queue_head)
      queue_tail = NULL;
    pthread_mutex_unlock(&hasher_lock);
    hasher_run(j, buf);
    pthread_mutex_lock(&hasher_lock);
  }
  pthread_mutex_unlock(&hasher_lock);
  free(buf);
  return NULL;
}

int hasher_start(int n)
{
  if(n < 1)
    n = 1;
  if(n > HASHER_THREADS_MAX)
    n = HASHER_THREADS_MAX;
  pthread_mutex_lock(&hasher_lock);
  stopping = false;
  pthread_mutex_unlock(&hasher_lock);
  for(nthreads = 0; nthreads < n; nthreads++)
    if(pthread_create(&threads[nthreads], NULL, hasher_main, NULL) != 0) {
      hasher_stop();
      return -1;
    }
  return 0;
}

void hasher_stop(void)
{
  pthread_mutex_lock(&hasher_lock);
  stopping = true;
  pthread_cond_broadcast(&hasher_cond);
  pthread_mutex_unlock(&hasher_lock);
  for(int i = 0; i < nthreads; i++)
    pthread_join(threads[i], NULL);
  nthreads = 0;
}

void hasher_submit(const char *path, uint64_t size, hasher_done_fn done, void *arg)
{
  size_t len = strlen(path) + 1;
  struct hasher_job *j = malloc(sizeof(*j) + len);
  if(j) {
    memcpy(j->path, path, len);
    j->size = size;
    j->done = done;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&hasher_lock);
    if(nthreads > 0 && !stopping) {
      if(queue_tail)
        queue_tail->next = j;
      else
        queue_head = j;
      queue_tail = j;
      pthread_cond_signal(&hasher_cond);
      pthread_mutex_unlock(&hasher_lock);
      return;
    }
    pthread_mutex_unlock(&hasher_lock);
    hasher_run(j, NULL);   /* not running: here and now */
    return;
  }
  char hex[65] = "";
  int rc = hasher_file(path, size, hex);
  done(arg, rc, rc == 0 ? hex : NULL);
}
