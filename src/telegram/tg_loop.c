/* tg_loop: one thread, one libcurl multi handle, posted work and timers
 * (see tg_loop.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "telegram/tg_loop.h"
#include "util/log.h"

#define TG_LOOP_MAX_WAIT_MS 1000 /* poll at least this often, as a safety net */

struct tg_task {
  tg_loop_fn fn;
  void *arg;
  int64_t due;
  struct tg_task *next;
};

/* A timer is a task in the sorted timer list. */
struct tg_timer {
  struct tg_task task;
};

struct tg_xfer {
  CURL *easy;
  tg_xfer_done_fn done;
  void *arg;
  bool abort;             /* tg_loop_abort asked: finish on the next turn */
  struct tg_xfer *prev, *next;
};

struct tg_loop {
  pthread_t thread;
  CURLM *multi;
  pthread_mutex_t lock;
  /* Shared, under `lock`: */
  struct tg_task *posts, *posts_tail;
  bool stop;
  bool ended;
  /* Loop thread only: */
  bool stopping;
  struct tg_task *timers; /* sorted by due */
  struct tg_xfer *xfers;
  int nxfers;
  bool aborts;            /* some transfer has `abort` set */
};

static __thread struct tg_loop *tg_current; /* the loop this thread runs */

int64_t tg_loop_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tg_loop_on_thread(const struct tg_loop *l)
{
  return tg_current == l;
}

bool tg_loop_stopping(const struct tg_loop *l)
{
  return l->stopping;
}

int tg_loop_active(const struct tg_loop *l)
{
  return l->nxfers;
}

int tg_loop_post(struct tg_loop *l, tg_loop_fn fn, void *arg)
{
  struct tg_task *t = malloc(sizeof(*t));
  if(!t)
    return -1;
  t->fn = fn;
  t->arg = arg;
  t->due = 0;
  t->next = NULL;
  pthread_mutex_lock(&l->lock);
  if(l->ended) {
    pthread_mutex_unlock(&l->lock);
    free(t);
    return -1;
  }
  if(l->posts_tail)
    l->posts_tail->next = t;
  else
    l->posts = t;
  l->posts_tail = t;
  pthread_mutex_unlock(&l->lock);
  curl_multi_wakeup(l->multi);
  return 0;
}

struct tg_timer *tg_loop_timer(struct tg_loop *l, int64_t delay_ms, tg_loop_fn fn, void *arg)
{
  struct tg_timer *tm = malloc(sizeof(*tm));
  struct tg_task *t = &tm->task, **pp = &l->timers;
  if(!tm)
    return NULL;
  t->fn = fn;
  t->arg = arg;
  t->due = tg_loop_now() + (delay_ms > 0 ? delay_ms : 0);
  while(*pp && (*pp)->due <= t->due)
    pp = &(*pp)->next;
  t->next = *pp;
  *pp = t;
  return tm;
}

void tg_loop_timer_cancel(struct tg_loop *l, struct tg_timer *tm)
{
  for(struct tg_task **pp = &l->timers; *pp; pp = &(*pp)->next)
    if(*pp == &tm->task) {
      *pp = tm->task.next;
      free(tm);
      return;
    }
}

void tg_loop_abort(struct tg_loop *l, CURL *easy)
{
  struct tg_xfer *x = NULL;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
  if(x) {
    x->abort = true;
    l->aborts = true;
  }
}

void tg_loop_start(struct tg_loop *l, CURL *easy, tg_xfer_done_fn done, void *arg)
{
  struct tg_xfer *x = calloc(1, sizeof(*x));
  if(!x) {
    /* Out of memory: report it like any failed transfer. */
    log_error("telegram: out of memory starting a transfer");
    done(arg, easy, CURLE_OUT_OF_MEMORY);
    return;
  }
  x->easy = easy;
  x->done = done;
  x->arg = arg;
  curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
  x->next = l->xfers;
  if(l->xfers)
    l->xfers->prev = x;
  l->xfers = x;
  l->nxfers++;
  if(curl_multi_add_handle(l->multi, easy) != CURLM_OK) {
    /* Cannot happen with a fresh handle; abort it on the next turn. */
    log_error("telegram: curl_multi_add_handle failed");
  }
}

static void tg_xfer_unlink(struct tg_loop *l, struct tg_xfer *x)
{
  if(x->prev)
    x->prev->next = x->next;
  else
    l->xfers = x->next;
  if(x->next)
    x->next->prev = x->prev;
  l->nxfers--;
}

static void tg_xfer_finish(struct tg_loop *l, struct tg_xfer *x, CURLcode rc)
{
  curl_multi_remove_handle(l->multi, x->easy);
  tg_xfer_unlink(l, x);
  x->done(x->arg, x->easy, rc);
  free(x);
}

static void tg_run_posts(struct tg_loop *l)
{
  pthread_mutex_lock(&l->lock);
  struct tg_task *t = l->posts;
  l->posts = l->posts_tail = NULL;
  if(l->stop)
    l->stopping = true;
  pthread_mutex_unlock(&l->lock);
  while(t) {
    struct tg_task *next = t->next;
    t->fn(t->arg);
    free(t);
    t = next;
  }
}

static void tg_run_timers(struct tg_loop *l)
{
  int64_t now = tg_loop_now();
  /* Detach what is due first: callbacks may add timers. */
  struct tg_task *due = NULL, **tail = &due;
  while(l->timers && (l->stopping || l->timers->due <= now)) {
    *tail = l->timers;
    l->timers = l->timers->next;
    tail = &(*tail)->next;
  }
  *tail = NULL;
  while(due) {
    struct tg_task *next = due->next;
    due->fn(due->arg);
    free(due);
    due = next;
  }
}

static void tg_abort_all(struct tg_loop *l)
{
  /* Callbacks may start (refused) transfers: those go next turn. */
  int n = l->nxfers;
  while(n-- > 0 && l->xfers) {
    struct tg_xfer *x = l->xfers;
    while(x->next)
      x = x->next; /* oldest first */
    tg_xfer_finish(l, x, CURLE_ABORTED_BY_CALLBACK);
  }
}

/* Finishes the transfers tg_loop_abort marked. */
static void tg_run_aborts(struct tg_loop *l)
{
  while(l->aborts) {
    l->aborts = false;
    for(struct tg_xfer *x = l->xfers; x; x = x->next)
      if(x->abort) {
        tg_xfer_finish(l, x, CURLE_ABORTED_BY_CALLBACK);
        l->aborts = true; /* the list changed: look again */
        break;
      }
  }
}

static void tg_collect_done(struct tg_loop *l)
{
  CURLMsg *m;
  int left;
  while((m = curl_multi_info_read(l->multi, &left))) {
    if(m->msg != CURLMSG_DONE)
      continue;
    CURL *easy = m->easy_handle; /* m is gone once the handle is removed */
    CURLcode rc = m->data.result;
    struct tg_xfer *x = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    if(x)
      tg_xfer_finish(l, x, rc);
  }
}

static bool tg_posts_pending(struct tg_loop *l)
{
  pthread_mutex_lock(&l->lock);
  bool any = l->posts != NULL || (l->stop && !l->stopping);
  pthread_mutex_unlock(&l->lock);
  return any;
}

static void *tg_loop_main(void *arg)
{
  struct tg_loop *l = arg;
  tg_current = l;
  for(;;) {
    int running = 0;
    tg_run_posts(l);
    tg_run_timers(l);
    tg_run_aborts(l);
    if(l->stopping)
      tg_abort_all(l);
    CURLMcode mc = curl_multi_perform(l->multi, &running);
    if(mc != CURLM_OK)
      log_error("telegram: curl_multi_perform: %s", curl_multi_strerror(mc));
    tg_collect_done(l);
    bool posts = tg_posts_pending(l);
    if(l->stopping && !posts && !l->timers && !l->xfers)
      break;
    int64_t wait = TG_LOOP_MAX_WAIT_MS;
    if(posts || l->stopping)
      wait = 0;
    else if(l->timers) {
      int64_t d = l->timers->due - tg_loop_now();
      if(d < wait)
        wait = d < 0 ? 0 : d;
    }
    curl_multi_poll(l->multi, NULL, 0, (int)wait, NULL);
  }
  pthread_mutex_lock(&l->lock);
  l->ended = true;
  struct tg_task *t = l->posts; /* posted after the last turn: cannot run */
  l->posts = l->posts_tail = NULL;
  pthread_mutex_unlock(&l->lock);
  while(t) {
    struct tg_task *next = t->next;
    t->fn(t->arg); /* still run them: their owners wait for a callback */
    free(t);
    t = next;
  }
  return NULL;
}

struct tg_loop *tg_loop_new(char *err, size_t errlen)
{
  struct tg_loop *l = calloc(1, sizeof(*l));
  if(!l) {
    snprintf(err, errlen, "telegram: out of memory");
    return NULL;
  }
  pthread_mutex_init(&l->lock, NULL);
  l->multi = curl_multi_init();
  if(!l->multi || pthread_create(&l->thread, NULL, tg_loop_main, l) != 0) {
    snprintf(err, errlen, "telegram: cannot start the transfer thread");
    if(l->multi)
      curl_multi_cleanup(l->multi);
    pthread_mutex_destroy(&l->lock);
    free(l);
    return NULL;
  }
  return l;
}

void tg_loop_free(struct tg_loop *l)
{
  if(!l)
    return;
  pthread_mutex_lock(&l->lock);
  l->stop = true;
  pthread_mutex_unlock(&l->lock);
  curl_multi_wakeup(l->multi);
  pthread_join(l->thread, NULL);
  curl_multi_cleanup(l->multi);
  pthread_mutex_destroy(&l->lock);
  free(l);
}
