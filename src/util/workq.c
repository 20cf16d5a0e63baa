/* workq: see workq.h. A ring of (fn, arg) slots under one mutex; workers
 * sleep on `ready` and take the oldest job. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "util/workq.h"

struct workq_job {
  workq_fn fn;
  void *arg;
};

struct workq {
  pthread_mutex_t lock;
  pthread_cond_t ready;      /* a job was queued, or the pool is stopping */
  struct workq_job *ring;
  size_t capacity, head, count; /* jobs live at ring[head .. head+count) mod capacity */
  bool stopping;
  int nthreads;              /* threads started (joined by workq_free) */
  pthread_t *threads;
};

static void *workq_main(void *p)
{
  workq_t *q = p;
  pthread_mutex_lock(&q->lock);
  for(;;) {
    while(!q->count && !q->stopping)
      pthread_cond_wait(&q->ready, &q->lock);
    if(!q->count)
      break; /* stopping, and the queue is drained */
    struct workq_job job = q->ring[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    pthread_mutex_unlock(&q->lock);
    job.fn(job.arg);
    pthread_mutex_lock(&q->lock);
  }
  pthread_mutex_unlock(&q->lock);
  return NULL;
}

workq_t *workq_new(int threads, size_t capacity)
{
  if(threads < 1 || capacity < 1)
    return NULL;
  workq_t *q = calloc(1, sizeof(*q));
  if(!q)
    return NULL;
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->ready, NULL);
  q->capacity = capacity;
  q->ring = calloc(capacity, sizeof(*q->ring));
  q->threads = calloc((size_t)threads, sizeof(*q->threads));
  if(!q->ring || !q->threads) {
    workq_free(q);
    return NULL;
  }
  for(; q->nthreads < threads; q->nthreads++) {
    if(pthread_create(&q->threads[q->nthreads], NULL, workq_main, q) != 0) {
      workq_free(q);
      return NULL;
    }
  }
  return q;
}

int workq_submit(workq_t *q, workq_fn fn, void *arg)
{
  int rc = -1;
  pthread_mutex_lock(&q->lock);
  if(!q->stopping && q->count < q->capacity) {
    q->ring[(q->head + q->count) % q->capacity] = (struct workq_job){fn, arg};
    q->count++;
    pthread_cond_signal(&q->ready);
    rc = 0;
  }
  pthread_mutex_unlock(&q->lock);
  return rc;
}

size_t workq_pending(workq_t *q)
{
  pthread_mutex_lock(&q->lock);
  size_t n = q->count;
  pthread_mutex_unlock(&q->lock);
  return n;
}

void workq_free(workq_t *q)
{
  if(!q)
    return;
  pthread_mutex_lock(&q->lock);
  q->stopping = true;
  pthread_cond_broadcast(&q->ready);
  pthread_mutex_unlock(&q->lock);
  for(int i = 0; i < q->nthreads; i++)
    pthread_join(q->threads[i], NULL);
  pthread_cond_destroy(&q->ready);
  pthread_mutex_destroy(&q->lock);
  free(q->threads);
  free(q->ring);
  free(q);
}
