/* loop: THREADS poll threads, each with its own level-triggered epoll, an
 * eventfd for resumes coming from other threads, its connections and their
 * timer lists. Each thread watches the shared listening socket with
 * EPOLLEXCLUSIVE, so the kernel wakes one of them per new connection; the
 * kernel tends to wake the same idle thread, so the accepting thread deals
 * the connections out round-robin (through the target's resume queue). A
 * connection then lives and dies on its thread; only resumes and new
 * connections cross threads, through the locked queue. */
#include "http/loop.h"
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "http/conn.h"
#include "http/conn_limit.h"
#include "util/cidr.h"
#include "util/log.h"
#include "util/metric_list.h"

#define LOOP_EVENTS 64
#define LOOP_ACCEPT_BATCH 32
#define LOOP_LINGER_S 2    /* silence while discarding an unread body before closing */
#define LOOP_ACCEPT_PAUSE_MS 100  /* out of descriptors: wait before accepting again */
#define LOOP_ACCEPT_WARN_MS 10000 /* at most one such warning per this */

struct http_loop {
  pthread_t thread;
  int ep, evfd;
  pthread_mutex_t lock;
  struct http_conn *rq_head;          /* resume queue, under lock */
  struct http_conn *all;              /* every connection */
  struct http_conn *dead;             /* closed in this batch, freed after it */
  struct http_conn *t_head[CT_COUNT], *t_tail[CT_COUNT];
  bool listening;                     /* the listening socket is in ep */
  bool accept_stopped;                /* quiescing: this thread no longer accepts */
  int64_t accept_resume_ms;           /* paused for descriptors until then */
  char scratch[LOOP_SCRATCH];
};

static struct http_loop *loops;
static int nloops, nthreads;
static int loop_listen_fd = -1;
static struct loop_config cfg;
static atomic_int open_conns;
static atomic_bool quiesce, stop_now;
static atomic_int quiesced;
static atomic_uint next_loop;   /* round-robin over the threads */
static _Thread_local struct http_loop *cur_loop;
static char listen_marker, wake_marker;
static _Atomic int64_t accept_warned_ms;

int64_t loop_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t loop_now_ms(void)
{
  return loop_now_us() / 1000;
}

char *loop_scratch(void)
{
  return cur_loop->scratch;
}

bool loop_stopping(void)
{
  return atomic_load(&quiesce);
}

size_t loop_upload_buffer(void)
{
  return cfg.upload_buffer;
}

int loop_open_connections(void)
{
  return atomic_load(&open_conns);
}

static int loop_timeout_s(enum conn_timer t)
{
  return t == CT_SHORT ? cfg.short_timeout : t == CT_LONG ? cfg.long_timeout : LOOP_LINGER_S;
}

static void timer_unlink(struct http_conn *c)
{
  if(c->tclass == CT_NONE)
    return;
  struct http_loop *l = c->loop;
  if(c->t_prev)
    c->t_prev->t_next = c->t_next;
  else
    l->t_head[c->tclass] = c->t_next;
  if(c->t_next)
    c->t_next->t_prev = c->t_prev;
  else
    l->t_tail[c->tclass] = c->t_prev;
  c->t_prev = c->t_next = NULL;
  c->tclass = CT_NONE;
}

void loop_touch(struct http_conn *c, enum conn_timer t)
{
  timer_unlink(c);
  c->last_ms = loop_now_ms();
  if(t == CT_NONE)
    return;
  struct http_loop *l = c->loop;
  c->tclass = t;
  c->t_prev = l->t_tail[t];
  if(l->t_tail[t])
    l->t_tail[t]->t_next = c;
  else
    l->t_head[t] = c;
  l->t_tail[t] = c;
}

void loop_watch(struct http_conn *c, uint32_t ev)
{
  if(ev == c->ev && c->in_epoll == (ev != 0))
    return;
  struct epoll_event e = {.events = ev, .data.ptr = c};
  if(!ev) {
    /* Not watched at all while suspended: a level-triggered hang-up would
     * otherwise wake the thread again and again. */
    if(c->in_epoll)
      epoll_ctl(c->loop->ep, EPOLL_CTL_DEL, c->fd, NULL);
    c->in_epoll = false;
  }
  else if(epoll_ctl(c->loop->ep, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) == 0)
    c->in_epoll = true;
  else
    log_warn("http: epoll_ctl: %s", strerror(errno));
  c->ev = ev;
}

void http_slot_release(struct http_slot *slot)
{
  if(!slot->held)
    return;
  slot->held = false;
  if(slot->counted)
    conn_limit_give(&slot->addr);
  atomic_fetch_sub(&open_conns, 1);
  metric_add(&metric_http_open_connections, NULL, (uint64_t)-1);
}

/* Takes `c` out of the loop; its slots go to *keep, or back now. */
static void loop_unlink(struct http_conn *c, struct http_slot *keep)
{
  struct http_loop *l = c->loop;
  pthread_mutex_lock(&l->lock);
  if(c->resume_queued)
    for(struct http_conn **pp = &l->rq_head; *pp; pp = &(*pp)->rq_next)
      if(*pp == c) {
        *pp = c->rq_next;
        break;
      }
  c->resume_queued = false;
  pthread_mutex_unlock(&l->lock);
  timer_unlink(c);
  if(c->a_prev)
    c->a_prev->a_next = c->a_next;
  else
    l->all = c->a_next;
  if(c->a_next)
    c->a_next->a_prev = c->a_prev;
  if(c->in_epoll)
    epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
  c->in_epoll = false;
  struct http_slot slot = {.held = true};
  slot.counted = c->counted && cidr_addr_from_sockaddr(&c->peer.sa, &slot.addr);
  if(keep)
    *keep = slot;
  else
    http_slot_release(&slot);
}

/* A closed connection is freed once the current batch of events is done:
 * a later event of the batch, or a resume, may still name it. */
static void loop_bury(struct http_conn *c)
{
  c->fd = -1;
  c->a_next = c->loop->dead;
  c->loop->dead = c;
}

static void loop_free_dead(struct http_loop *l)
{
  while(l->dead) {
    struct http_conn *c = l->dead;
    l->dead = c->a_next;
    free(c);
  }
}

void loop_close(struct http_conn *c)
{
  if(c->fd < 0)
    return;
  conn_free(c);
  loop_unlink(c, NULL);
  close(c->fd);
  loop_bury(c);
}

void loop_detach(struct http_conn *c, struct http_slot *slot)
{
  loop_unlink(c, slot);
  loop_bury(c);
}

void http_conn_resume(struct http_conn *c)
{
  struct http_loop *l = c->loop;
  bool wake = false;
  pthread_mutex_lock(&l->lock);
  if(!c->resume_queued) {
    c->resume_queued = true;
    c->rq_next = l->rq_head;
    l->rq_head = c;
    wake = true;
  }
  pthread_mutex_unlock(&l->lock);
  if(wake) {
    uint64_t one = 1;
    if(write(l->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
      log_warn("http: eventfd: %s", strerror(errno));
  }
}

void http_conn_suspend(struct http_conn *c)
{
  c->suspended = true;
}

const struct sockaddr *http_conn_peer(const struct http_conn *c)
{
  return c ? &c->peer.sa : NULL;
}

/* Makes a new connection one of `c->loop`'s; on that loop's thread. */
static void loop_link(struct http_conn *c)
{
  struct http_loop *l = c->loop;
  c->a_next = l->all;
  if(l->all)
    l->all->a_prev = c;
  l->all = c;
  loop_touch(c, CT_SHORT);
  loop_watch(c, EPOLLIN);
}

static void loop_resumes(struct http_loop *l)
{
  uint64_t n;
  if(read(l->evfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
    return;
  /* What is queued now; what comes meanwhile (a connection may queue
   * itself again to yield) waits for the next round of the loop. */
  pthread_mutex_lock(&l->lock);
  struct http_conn *batch = l->rq_head;
  l->rq_head = NULL;
  pthread_mutex_unlock(&l->lock);
  while(batch) {
    /* Each stays marked queued until taken, so a resume meanwhile is
     * served by this round and never relinks it. */
    pthread_mutex_lock(&l->lock);
    struct http_conn *c = batch;
    batch = c->rq_next;
    c->resume_queued = false;
    pthread_mutex_unlock(&l->lock);
    if(c->fresh) {
      c->fresh = false;
      loop_link(c);
    }
    else if(c->suspended && c->fd >= 0) {
      c->suspended = false;
      conn_run(c);
    }
  }
}

/* Takes one new socket: the global cap, then the per-address one. */
static void loop_adopt(struct http_loop *l, int fd, const struct sockaddr_storage *ss)
{
  struct cidr_addr a;
  bool counted = false;
  struct http_conn *c = NULL;
  if(atomic_fetch_add(&open_conns, 1) >= cfg.max_connections)
    goto refuse;
  if(cfg.per_ip && cidr_addr_from_sockaddr((const struct sockaddr *)ss, &a) &&
     !conn_limit_exempt(&a)) {
    if(!conn_limit_take(&a))
      goto refuse;   /* no HTTP reply: one address may not hold more */
    counted = true;
  }
  c = calloc(1, sizeof(*c));
  if(!c)
    goto refuse;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->fd = fd;
  c->loop = &loops[atomic_fetch_add(&next_loop, 1) % (unsigned)nloops];
  c->counted = counted;
  c->tclass = CT_NONE;
  memcpy(&c->peer, ss, ss->ss_family == AF_INET6 ? sizeof(c->peer.in6) : sizeof(c->peer.in4));
  metric_add(&metric_http_connections, NULL, 1);
  metric_add(&metric_http_open_connections, NULL, 1);
  if(c->loop == l)
    loop_link(c);
  else {
    c->fresh = true;
    http_conn_resume(c);   /* its thread links it */
  }
  return;
refuse:
  if(counted)
    conn_limit_give(&a);
  atomic_fetch_sub(&open_conns, 1);
  close(fd);
}

/* Takes the listening socket in or out of this thread's epoll. */
static void loop_listen_set(struct http_loop *l, bool on)
{
  struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listen_marker};
  if(on == l->listening)
    return;
  if(epoll_ctl(l->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, loop_listen_fd, on ? &le : NULL) == 0)
    l->listening = on;
}

/* Out of descriptors: the connection stays queued in the kernel and the
 * level-triggered listening socket stays readable, so retrying at once
 * would spin. This thread stops watching it for a moment instead. */
static void loop_accept_pause(struct http_loop *l, int err)
{
  int64_t now = loop_now_ms(), warned = atomic_load(&accept_warned_ms);
  if(now - warned >= LOOP_ACCEPT_WARN_MS &&
     atomic_compare_exchange_strong(&accept_warned_ms, &warned, now))
    log_warn("http: accept: %s; new connections wait (open connections: %d)", strerror(err),
             atomic_load(&open_conns));
  loop_listen_set(l, false);
  l->accept_resume_ms = now + LOOP_ACCEPT_PAUSE_MS;
}

static void loop_accept(struct http_loop *l)
{
  for(int i = 0; i < LOOP_ACCEPT_BATCH; i++) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(loop_listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if(fd < 0) {
      if(errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        loop_accept_pause(l, errno);
      return;   /* EAGAIN: another thread took it, or none left */
    }
    if(ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
      close(fd);
      continue;
    }
    loop_adopt(l, fd, &ss);
  }
}

/* Closes what has been silent too long; each list is in activity order. */
static void loop_sweep(struct http_loop *l)
{
  int64_t now = loop_now_ms();
  for(int t = 0; t < CT_COUNT; t++) {
    int64_t limit = (int64_t)loop_timeout_s((enum conn_timer)t) * 1000;
    while(l->t_head[t] && now - l->t_head[t]->last_ms >= limit)
      loop_close(l->t_head[t]);
  }
  if(atomic_load(&quiesce))   /* stopping: idle keep-alive connections go now */
    for(struct http_conn *c = l->all, *next; c; c = next) {
      next = c->a_next;
      if(conn_idle(c))
        loop_close(c);
    }
}

static void *loop_main(void *arg)
{
  struct http_loop *l = arg;
  struct epoll_event ev[LOOP_EVENTS];
  int64_t last_sweep = loop_now_ms();
  cur_loop = l;
  while(!atomic_load(&stop_now)) {
    int wait_ms = 250;
    if(atomic_load(&quiesce)) {
      if(!l->accept_stopped) {
        loop_listen_set(l, false);
        l->accept_stopped = true;
        atomic_fetch_add(&quiesced, 1);
      }
    }
    else if(!l->listening) {
      int64_t left = l->accept_resume_ms - loop_now_ms();
      if(left <= 0)
        loop_listen_set(l, true);
      else if(left < wait_ms)
        wait_ms = (int)left;
    }
    int n = epoll_wait(l->ep, ev, LOOP_EVENTS, wait_ms);
    for(int i = 0; i < n; i++) {
      void *p = ev[i].data.ptr;
      if(p == &listen_marker)
        loop_accept(l);
      else if(p == &wake_marker)
        loop_resumes(l);
      else if(((struct http_conn *)p)->fd >= 0)
        conn_run(p);
    }
    int64_t now = loop_now_ms();
    if(now - last_sweep >= 250) {
      last_sweep = now;
      loop_sweep(l);
    }
    loop_free_dead(l);
  }
  while(l->all)
    loop_close(l->all);
  loop_free_dead(l);
  return NULL;
}

int loop_start(int listen_fd, const struct loop_config *c)
{
  cfg = *c;
  loop_listen_fd = listen_fd;
  atomic_store(&quiesce, false);
  atomic_store(&stop_now, false);
  atomic_store(&quiesced, 0);
  loops = calloc((size_t)c->threads, sizeof(*loops));
  if(!loops)
    return -1;
  /* Every loop is set up before any thread runs: the first accept may
   * already hand a connection to any of them. */
  nloops = c->threads;
  for(int i = 0; i < nloops; i++) {
    struct http_loop *l = &loops[i];
    pthread_mutex_init(&l->lock, NULL);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listen_marker};
    struct epoll_event we = {.events = EPOLLIN, .data.ptr = &wake_marker};
    if(l->ep < 0 || l->evfd < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, listen_fd, &le) != 0 ||
       epoll_ctl(l->ep, EPOLL_CTL_ADD, l->evfd, &we) != 0)
      goto fail;
    l->listening = true;
  }
  for(nthreads = 0; nthreads < nloops; nthreads++) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 8 * 1024 * 1024);
    int rc = pthread_create(&loops[nthreads].thread, &attr, loop_main, &loops[nthreads]);
    pthread_attr_destroy(&attr);
    if(rc != 0)
      goto fail;
  }
  return 0;
fail:
  loop_stop();
  return -1;
}

/* Wakes every poll thread, so it sees a changed flag at once. */
static void loop_wake_all(void)
{
  for(int i = 0; i < nloops; i++) {
    uint64_t one = 1;
    if(write(loops[i].evfd, &one, sizeof(one)) < 0)
      continue;   /* the counter is full: the thread has a wake pending anyway */
  }
}

void loop_quiesce(void)
{
  atomic_store(&quiesce, true);
  loop_wake_all();
  for(int waited = 0; waited < 1000 && atomic_load(&quiesced) < nloops; waited += 5)
    usleep(5000);
}

void loop_stop(void)
{
  atomic_store(&stop_now, true);
  loop_wake_all();
  for(int i = 0; i < nthreads; i++)
    pthread_join(loops[i].thread, NULL);
  nthreads = 0;
  for(int i = 0; i < nloops; i++) {
    /* New connections handed to a thread that had already stopped. */
    while(loops[i].rq_head) {
      struct http_conn *c = loops[i].rq_head;
      loops[i].rq_head = c->rq_next;
      if(c->fresh) {
        struct cidr_addr a;
        if(c->counted && cidr_addr_from_sockaddr(&c->peer.sa, &a))
          conn_limit_give(&a);
        atomic_fetch_sub(&open_conns, 1);
        metric_add(&metric_http_open_connections, NULL, (uint64_t)-1);
        close(c->fd);
        free(c);
      }
    }
    if(loops[i].ep > 0)
      close(loops[i].ep);
    if(loops[i].evfd > 0)
      close(loops[i].evfd);
    pthread_mutex_destroy(&loops[i].lock);
  }
  free(loops);
  loops = NULL;
  nloops = 0;
  if(loop_listen_fd >= 0)
    close(loop_listen_fd);
  loop_listen_fd = -1;
}
