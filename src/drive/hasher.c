/* hasher: see hasher.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "drive/hasher.h"
#include "util/log.h"

/* Read back in pieces that stay in a core's L2 cache between the two
 * hashes that consume them. */
#define HASHER_BUF (256 * 1024)

struct hasher_job {
  struct hasher_job *next;
  uint64_t size;
  enum checksum_kind kind;
  hasher_done_fn done;
  void *arg;
  char *state_out;              /* NULL, or where the file hash's state goes */
  char path[];
};

struct hasher_stream {
  struct hasher_stream *next;   /* in the ready list */
  struct hasher_job *head, *tail;
  bool active;                  /* in the ready list or being hashed */
  bool failed;                  /* a chunk failed: the file hash is void */
  struct checksum file;         /* SHA-256 of the whole file */
};

static pthread_mutex_t hasher_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hasher_cond = PTHREAD_COND_INITIALIZER;
static struct hasher_stream *ready_head, *ready_tail;   /* streams with work */
static pthread_t threads[HASHER_THREADS_MAX];
static int nthreads;
static bool stopping;

/* Feeds the first `size` bytes of `path` to the chunk checksum and, when
 * given, the file hash. `buf` holds HASHER_BUF bytes. */
static int hash_file_into(const char *path, uint64_t size, enum checksum_kind kind,
                          struct checksum *file, char *buf, char out[CHECKSUM_TEXT_MAX])
{
  struct checksum sum = {0};
  int rc = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if(!buf || fd < 0 || checksum_init(&sum, kind) != 0)
    goto out;
  uint64_t left = size;
  while(left > 0) {
    size_t want = left < HASHER_BUF ? (size_t)left : HASHER_BUF;
    ssize_t got = read(fd, buf, want);
    if(got < 0 && errno == EINTR)
      continue;
    if(got <= 0)
      goto out;
    checksum_update(&sum, buf, (size_t)got);
    if(file)
      checksum_update(file, buf, (size_t)got);
    left -= (uint64_t)got;
  }
  rc = checksum_final(&sum, out);
out:
  if(rc != 0)
    log_error("hasher: cannot hash %llu bytes of %s: %s", (unsigned long long)size, path,
              fd < 0 ? strerror(errno) : !buf ? "out of memory" : "short or unreadable");
  if(fd >= 0)
    close(fd);
  checksum_free(&sum);
  return rc;
}

int hasher_file(const char *path, uint64_t size, enum checksum_kind kind,
                char out[CHECKSUM_TEXT_MAX])
{
  char *buf = malloc(HASHER_BUF);
  int rc = hash_file_into(path, size, kind, NULL, buf, out);
  free(buf);
  return rc;
}

/* Under the lock: `s` has jobs and none running; let a thread take it. */
static void hasher_ready(struct hasher_stream *s)
{
  s->next = NULL;
  if(ready_tail)
    ready_tail->next = s;
  else
    ready_head = s;
  ready_tail = s;
  pthread_cond_signal(&hasher_cond);
}

/* Hashes one chunk of `s` (no lock held: only one job of a stream runs at
 * a time), hands the stream its next job, and reports. The report may
 * free the stream, so the stream is done with before it. */
static void hasher_run(struct hasher_stream *s, struct hasher_job *j, bool failed, char *buf)
{
  char sum[CHECKSUM_TEXT_MAX] = "";
  int rc = -1;
  if(!failed) {
    char *own = buf ? NULL : malloc(HASHER_BUF);
    rc = hash_file_into(j->path, j->size, j->kind, &s->file, buf ? buf : own, sum);
    free(own);
    /* Still this stream's only job running: the state is exactly the file
     * up to the end of this chunk. */
    if(rc == 0 && j->state_out && checksum_export(&s->file, j->state_out) != 0)
      rc = -1;
  }
  pthread_mutex_lock(&hasher_lock);
  if(rc != 0)
    s->failed = true;
  if(s->active) {
    if(s->head)
      hasher_ready(s);
    else
      s->active = false;
  }
  pthread_mutex_unlock(&hasher_lock);
  j->done(j->arg, rc, rc == 0 ? sum : NULL);
  free(j);
}

static void *hasher_main(void *unused)
{
  (void)unused;
  pthread_setname_np(pthread_self(), "nd-hasher");   /* for top -H and perf */
  char *buf = malloc(HASHER_BUF);   /* NULL: each job allocates its own */
  pthread_mutex_lock(&hasher_lock);
  for(;;) {
    while(!ready_head && !stopping)
      pthread_cond_wait(&hasher_cond, &hasher_lock);
    struct hasher_stream *s = ready_head;
    if(!s)
      break;   /* stopping, and nothing left */
    ready_head = s->next;
    if(!ready_head)
      ready_tail = NULL;
    struct hasher_job *j = s->head;
    s->head = j->next;
    if(!s->head)
      s->tail = NULL;
    bool failed = s->failed;
    pthread_mutex_unlock(&hasher_lock);
    hasher_run(s, j, failed, buf);   /* may free `s` when it was its last job */
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
  pthread_mutex_lock(&hasher_lock);
  nthreads = 0;
  pthread_mutex_unlock(&hasher_lock);
}

struct hasher_stream *hasher_stream_new(void)
{
  struct hasher_stream *s = calloc(1, sizeof(*s));
  if(!s)
    return NULL;
  if(checksum_init(&s->file, CHECKSUM_SHA256) != 0) {
    hasher_stream_free(s);
    return NULL;
  }
  return s;
}

struct hasher_stream *hasher_stream_resume(const char *state)
{
  struct hasher_stream *s = calloc(1, sizeof(*s));
  if(s && checksum_import(&s->file, state) != 0) {
    hasher_stream_free(s);
    return NULL;
  }
  return s;
}

void hasher_stream_add(struct hasher_stream *s, const char *path, uint64_t size,
                       enum checksum_kind kind, hasher_done_fn done, void *arg)
{
  hasher_stream_add_saving(s, path, size, kind, NULL, done, arg);
}

void hasher_stream_add_saving(struct hasher_stream *s, const char *path, uint64_t size,
                              enum checksum_kind kind, char *state_out, hasher_done_fn done,
                              void *arg)
{
  size_t len = strlen(path) + 1;
  struct hasher_job *j = malloc(sizeof(*j) + len);
  if(!j) {
    pthread_mutex_lock(&hasher_lock);
    s->failed = true;   /* a chunk the file hash never saw */
    pthread_mutex_unlock(&hasher_lock);
    done(arg, -1, NULL);
    return;
  }
  memcpy(j->path, path, len);
  j->size = size;
  j->kind = kind;
  j->done = done;
  j->arg = arg;
  j->state_out = state_out;
  j->next = NULL;
  pthread_mutex_lock(&hasher_lock);
  /* A stream with jobs queued keeps queueing even while stopping (the
   * threads drain them first), so its chunks stay in order. */
  if(nthreads > 0 && (!stopping || s->active)) {
    if(s->tail)
      s->tail->next = j;
    else
      s->head = j;
    s->tail = j;
    if(!s->active) {
      s->active = true;
      hasher_ready(s);
    }
    pthread_mutex_unlock(&hasher_lock);
    return;
  }
  bool failed = s->failed;
  pthread_mutex_unlock(&hasher_lock);
  hasher_run(s, j, failed, NULL);   /* not running: here and now */
}

void hasher_stream_cancel(struct hasher_stream *s)
{
  pthread_mutex_lock(&hasher_lock);
  s->failed = true;   /* the rest is skipped, as after a failed chunk */
  pthread_mutex_unlock(&hasher_lock);
}

int hasher_stream_final(struct hasher_stream *s, char hex[65])
{
  char text[CHECKSUM_TEXT_MAX];
  pthread_mutex_lock(&hasher_lock);   /* the last chunk's writes, seen */
  bool failed = s->failed || s->active;
  pthread_mutex_unlock(&hasher_lock);
  if(failed || checksum_final(&s->file, text) != 0 || strlen(text) != 64)
    return -1;
  memcpy(hex, text, 65);
  return 0;
}

void hasher_stream_free(struct hasher_stream *s)
{
  if(!s)
    return;
  checksum_free(&s->file);
  free(s);
}
