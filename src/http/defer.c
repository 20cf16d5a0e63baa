/* defer: ordinary handlers hand slow CPU work (password hashing) to a small
 * pool so that the poll thread, which multiplexes many connections, keeps
 * serving the others. The connection is suspended meanwhile; the worker
 * resumes it and the connection runs the request again on its own poll
 * thread, where http_defer_finish() lets the route reply. */
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include "http/defer.h"
#include "util/log.h"
#include "util/workq.h"

/* Jobs waiting for a thread. At ~25 ms a hash and one thread per core, 64
 * is about a second of work on two cores: beyond that a caller is better
 * told to come back than left waiting. */
#define DEFER_QUEUE_MAX 64
#define DEFER_THREADS_MAX 8
#define DEFER_BUSY "Server busy. Try again later."
/* The pool's threads run at a lower priority (nice) than the poll threads:
 * with every core hashing, a request that needs a millisecond of CPU should
 * still get it at once rather than a time slice later. */
#define DEFER_NICE 10

struct http_deferral {
  struct http_conn *conn;
  http_work_fn work;
  http_done_fn done;
  void *arg;
  bool refused; /* the queue was full: `work` never ran */
};

static workq_t *defer_pool;

int http_defer_start(void)
{
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int n = cores < 1 ? 1 : cores > DEFER_THREADS_MAX ? DEFER_THREADS_MAX : (int)cores;
  defer_pool = workq_new(n, DEFER_QUEUE_MAX);
  return defer_pool ? 0 : -1;
}

void http_defer_stop(void)
{
  workq_free(defer_pool);
  defer_pool = NULL;
}

/* On a pool thread. Touches only the deferral, which the request's thread
 * leaves alone until the connection is resumed. */
static void defer_run(void *p)
{
  static __thread bool niced;
  struct http_deferral *d = p;
  if(!niced) {
    niced = true; /* Linux: a thread id as PRIO_PROCESS sets that thread only */
    setpriority(PRIO_PROCESS, (id_t)gettid(), DEFER_NICE);
  }
  d->work(d->arg);
  http_conn_resume(d->conn);
}

int http_defer(struct http_req *r, http_work_fn work, http_done_fn done, void *arg)
{
  struct http_deferral *d = malloc(sizeof(*d));
  if(!d) {
    done(NULL, arg);
    return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  }
  *d = (struct http_deferral){r->conn, work, done, arg, false};
  r->deferral = d;
  /* Suspend before queueing: the worker may resume at once. A refusal is
   * answered after a resume too, so that every reply is made with the
   * connection in the same (running) state. */
  http_conn_suspend(r->conn);
  if(!defer_pool || workq_submit(defer_pool, defer_run, d) != 0) {
    d->refused = true;
    http_conn_resume(r->conn);
  }
  return HTTP_PENDING;
}

void http_defer_finish(struct http_req *r)
{
  struct http_deferral *d = r->deferral;
  r->deferral = NULL;
  if(d->refused) {
    log_warn("request %s: the work queue is full; answering 429", r->request_id);
    http_add_header(r, HTTP_HEADER_RETRY_AFTER, "1");
    http_reply_error(r, HTTP_TOO_MANY_REQUESTS, DEFER_BUSY);
    d->done(NULL, d->arg);
  }
  else
    d->done(r, d->arg);
  free(d);
}

void http_defer_drop(struct http_req *r)
{
  struct http_deferral *d = r->deferral;
  r->deferral = NULL;
  if(d) {
    d->done(NULL, d->arg);
    free(d);
  }
}
