/* ws_loop: the one thread that runs every WebSocket (see websocket.h).
 *
 * Other threads touch a socket only through its queue, under ws_qlock: they
 * append (http_ws_send), put it on the ready list and wake the thread with
 * an eventfd. The thread moves a few queued messages at a time into wslay
 * (which copies them) and lets wslay write until the socket would block;
 * wslay's own queue so stays short and the bounded one is ours. A socket is
 * closed only here: epoll forgets it, the route's `closed` runs (after which
 * nobody sends to it), its queue is freed and the descriptor closed. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http/ws_priv.h"
#include "util/log.h"
#include "util/timefmt.h"

#define WS_BATCH 8                 /* messages handed to wslay at a time */
#define WS_SNDBUF (64 * 1024)      /* kernel send buffer: what a non-reader may hold */
#define WS_STOP_GRACE_MS 1000      /* for clients to answer the close at shutdown */
#define WS_EVENTS 64

static pthread_mutex_t ws_qlock = PTHREAD_MUTEX_INITIALIZER;
static struct http_ws *ws_new;     /* handed over, not yet in epoll (ws_qlock) */
static struct http_ws *ws_ready;   /* with messages to move or a drop (ws_qlock) */
static bool ws_running;            /* the thread takes new sockets (ws_qlock) */
static struct http_ws *ws_all;     /* the thread's */
static atomic_int ws_open;
static atomic_bool ws_stopping;
static int ws_max, ws_ping_ms;
static int ws_epfd = -1, ws_efd = -1;
static pthread_t ws_thread;

static void ws_wake(void)
{
  uint64_t one = 1;
  ssize_t n = write(ws_efd, &one, sizeof(one));
  (void)n;   /* a full counter means a wake-up is pending anyway */
}

bool ws_reserve(void)
{
  if(atomic_load(&ws_stopping))
    return false;
  if(atomic_fetch_add(&ws_open, 1) >= ws_max) {
    atomic_fetch_sub(&ws_open, 1);
    return false;
  }
  return true;
}

void ws_unreserve(void)
{
  /* A stopping thread waits for handshakes in flight: the last one
   * given back lets it go now. */
  if(atomic_fetch_sub(&ws_open, 1) == 1 && atomic_load(&ws_stopping)) {
    pthread_mutex_lock(&ws_qlock);
    if(ws_running)
      ws_wake();
    pthread_mutex_unlock(&ws_qlock);
  }
}

int http_ws_count(void)
{
  return atomic_load(&ws_open);
}

static void ws_queue_free_locked(struct http_ws *ws)
{
  while(ws->q_head) {
    struct ws_msg *m = ws->q_head;
    ws->q_head = m->next;
    free(m);
  }
  ws->q_tail = NULL;
  ws->q_count = ws->q_bytes = 0;
}

/* Puts the socket on the ready list; true when the thread must be woken.
 * Not before ws_loop_add: `open` may send while the handshake thread still
 * holds the socket, and the event thread must not touch it until then. */
static bool ws_mark_ready_locked(struct http_ws *ws)
{
  if(ws->ready || !ws->handed)
    return false;
  ws->ready = true;
  ws->ready_next = ws_ready;
  ws_ready = ws;
  return true;
}

int http_ws_send(struct http_ws *ws, const char *key, const char *text, size_t len)
{
  size_t klen = key ? strlen(key) : 0;
  if(klen >= WS_KEY_MAX)
    return -1;
  struct ws_msg *m = malloc(sizeof(*m) + len);
  if(!m)
    return -1;
  m->next = NULL;
  memcpy(m->key, key ? key : "", klen + 1);
  m->len = len;
  memcpy(m->text, text, len);
  int rc = 0;
  bool wake = false;
  pthread_mutex_lock(&ws_qlock);
  struct ws_msg **pp = &ws->q_head;
  if(klen)
    while(*pp && strcmp((*pp)->key, m->key) != 0)
      pp = &(*pp)->next;
  if(ws->drop)
    rc = -1;
  else if(klen && *pp) {
    /* The same key waits: the newer message takes its place. */
    struct ws_msg *old = *pp;
    m->next = old->next;
    *pp = m;
    if(ws->q_tail == old)
      ws->q_tail = m;
    ws->q_bytes = ws->q_bytes - old->len + len;
    free(old);
    m = NULL;
  }
  else if(ws->q_count >= HTTP_WS_QUEUE_MAX ||
          (ws->q_count && ws->q_bytes + len > HTTP_WS_QUEUE_BYTES)) {
    /* The client does not keep up: drop it rather than hold more. */
    ws->drop = true;
    ws_queue_free_locked(ws);
    wake = ws_mark_ready_locked(ws);
    rc = -1;
  }
  else {
    if(ws->q_tail)
      ws->q_tail->next = m;
    else
      ws->q_head = m;
    ws->q_tail = m;
    ws->q_count++;
    ws->q_bytes += len;
    m = NULL;
    wake = ws_mark_ready_locked(ws);
  }
  pthread_mutex_unlock(&ws_qlock);
  free(m);
  if(wake)
    ws_wake();
  return rc;
}

/* ---- wslay callbacks ------------------------------------------------------ */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *user)
{
  struct http_ws *ws = user;
  (void)flags;
  if(ws->extra_off < ws->extra_len) {
    size_t n = ws->extra_len - ws->extra_off;
    n = n < len ? n : len;
    memcpy(buf, ws->extra + ws->extra_off, n);
    ws->extra_off += n;
    return (ssize_t)n;
  }
  ssize_t n = recv(ws->fd, buf, len, 0);
  if(n > 0) {
    ws->last_rx_ms = time_mono_ms();
    return n;
  }
  if(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
  else
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);   /* EOF or reset */
  return -1;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                          int flags, void *user)
{
  struct http_ws *ws = user;
  (void)flags;
  ssize_t n = send(ws->fd, data, len, MSG_NOSIGNAL);
  if(n >= 0)
    return n;
  if(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
  else
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}

/* Clients have nothing to tell us: data messages are read (bounded by
 * HTTP_WS_RECV_MAX, a longer one fails the socket) and ignored; wslay
 * answers pings and closes itself. */
static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
  (void)ctx;
  (void)arg;
  (void)user;
}

static const struct wslay_event_callbacks ws_callbacks = {
  ws_recv_cb, ws_send_cb, NULL, NULL, NULL, NULL, ws_msg_cb,
};

/* Builds the socket's wslay context (any thread, before ws_loop_add). */
int ws_context_init(struct http_ws *ws)
{
  if(wslay_event_context_server_init(&ws->ctx, &ws_callbacks, ws) != 0)
    return -1;
  wslay_event_config_set_max_recv_msg_length(ws->ctx, HTTP_WS_RECV_MAX);
  return 0;
}

/* ---- the thread ----------------------------------------------------------- */

static void ws_close(struct http_ws *ws)
{
  epoll_ctl(ws_epfd, EPOLL_CTL_DEL, ws->fd, NULL);
  if(ws->prev)
    ws->prev->next = ws->next;
  else if(ws_all == ws)
    ws_all = ws->next;
  if(ws->next)
    ws->next->prev = ws->prev;
  ws->ops->closed(ws->arg);   /* nobody sends to it from here on */
  pthread_mutex_lock(&ws_qlock);
  if(ws->ready)
    for(struct http_ws **pp = &ws_ready; *pp; pp = &(*pp)->ready_next)
      if(*pp == ws) {
        *pp = ws->ready_next;
        break;
      }
  ws_queue_free_locked(ws);
  pthread_mutex_unlock(&ws_qlock);
  wslay_event_context_free(ws->ctx);
  shutdown(ws->fd, SHUT_RDWR);
  close(ws->fd);
  http_slot_release(&ws->slot);
  free(ws->extra);
  free(ws);
  atomic_fetch_sub(&ws_open, 1);
}

/* Moves queued messages into wslay and writes what the socket takes; then
 * closes the socket when it is done (close handshake over, or failed) or
 * asks epoll for what wslay wants next. */
static void ws_pump(struct http_ws *ws)
{
  bool drop = false;
  for(;;) {
    struct ws_msg *batch = NULL;
    pthread_mutex_lock(&ws_qlock);
    drop = ws->drop;   /* read even while wslay is full: that is when it overflows */
    pthread_mutex_unlock(&ws_qlock);
    if(drop)
      break;
    if(wslay_event_get_queued_msg_count(ws->ctx) == 0) {
      pthread_mutex_lock(&ws_qlock);
      batch = ws->q_head;
      struct ws_msg *last = NULL;
      for(int i = 0; ws->q_head && i < WS_BATCH; i++) {
        last = ws->q_head;
        ws->q_head = last->next;
        ws->q_count--;
        ws->q_bytes -= last->len;
      }
      if(last)
        last->next = NULL;
      else
        batch = NULL;
      if(!ws->q_head)
        ws->q_tail = NULL;
      pthread_mutex_unlock(&ws_qlock);
    }
    while(batch) {
      struct ws_msg *m = batch;
      batch = m->next;
      struct wslay_event_msg wm = {WSLAY_TEXT_FRAME, (const uint8_t *)m->text, m->len};
      wslay_event_queue_msg(ws->ctx, &wm);   /* copies; refused once closing */
      free(m);
    }
    if(wslay_event_send(ws->ctx) != 0) {
      drop = true;
      break;
    }
    /* Stop when wslay still holds something (the socket is full) or when
     * nothing of ours is left. */
    if(wslay_event_get_queued_msg_count(ws->ctx) > 0)
      break;
    pthread_mutex_lock(&ws_qlock);
    bool more = ws->q_head != NULL || ws->drop;
    pthread_mutex_unlock(&ws_qlock);
    if(!more)
      break;
  }
  if(drop || (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx))) {
    if(drop)
      log_info("websocket: dropping a client (its queue overflowed or a write failed)");
    ws_close(ws);
    return;
  }
  uint32_t mask = (wslay_event_want_read(ws->ctx) ? EPOLLIN : 0) |
                  (wslay_event_want_write(ws->ctx) ? EPOLLOUT : 0);
  if(mask != ws->mask) {
    struct epoll_event ev = {.events = mask, .data.ptr = ws};
    ws->mask = mask;
    epoll_ctl(ws_epfd, EPOLL_CTL_MOD, ws->fd, &ev);
  }
}

/* Takes a handed-over socket into epoll; ws_pump follows (it is on the
 * ready list), which also closes it if this failed. */
static void ws_adopt(struct http_ws *ws)
{
  int one = 1, sndbuf = WS_SNDBUF;
  setsockopt(ws->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(ws->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  ws->last_rx_ms = time_mono_ms();
  ws->mask = EPOLLIN;
  ws->prev = NULL;
  ws->next = ws_all;
  if(ws_all)
    ws_all->prev = ws;
  ws_all = ws;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ws};
  if(epoll_ctl(ws_epfd, EPOLL_CTL_ADD, ws->fd, &ev) != 0) {
    log_warn("websocket: epoll_ctl: %s", strerror(errno));
    pthread_mutex_lock(&ws_qlock);
    ws->drop = true;
    pthread_mutex_unlock(&ws_qlock);
  }
  if(atomic_load(&ws_stopping))
    wslay_event_queue_close(ws->ctx, 1001, (const uint8_t *)"Server shutting down", 20);
}

void ws_loop_add(struct http_ws *ws)
{
  pthread_mutex_lock(&ws_qlock);
  bool running = ws_running;
  if(running) {
    ws->next = ws_new;   /* `next` joins ws_all only once adopted */
    ws_new = ws;
    ws->handed = true;
    ws_mark_ready_locked(ws);   /* pumps what `open` queued */
  }
  pthread_mutex_unlock(&ws_qlock);
  if(running) {
    ws_wake();
    return;
  }
  /* The thread has stopped (a handshake that outlived the stop grace):
   * close it here, as ws_close would, still saying why. Nothing was
   * written to the socket yet, so the close frame fits its buffer. */
  wslay_event_queue_close(ws->ctx, 1001, (const uint8_t *)"Server shutting down", 20);
  wslay_event_send(ws->ctx);
  ws->ops->closed(ws->arg);
  pthread_mutex_lock(&ws_qlock);
  ws_queue_free_locked(ws);
  pthread_mutex_unlock(&ws_qlock);
  wslay_event_context_free(ws->ctx);
  close(ws->fd);
  http_slot_release(&ws->slot);
  free(ws->extra);
  free(ws);
  atomic_fetch_sub(&ws_open, 1);
}

/* New sockets and those with messages or a drop, as other threads left
 * them. Every new one is on the ready list too, so it is pumped once
 * adopted; each socket is on that list at most once, and the only one a
 * pump may close is its own. */
static void ws_take_handed(void)
{
  uint64_t n;
  ssize_t r = read(ws_efd, &n, sizeof(n));
  (void)r;
  pthread_mutex_lock(&ws_qlock);
  struct http_ws *fresh = ws_new, *ready = ws_ready;
  ws_new = ws_ready = NULL;
  for(struct http_ws *ws = ready; ws; ws = ws->ready_next)
    ws->ready = false;
  pthread_mutex_unlock(&ws_qlock);
  while(fresh) {
    struct http_ws *ws = fresh;
    fresh = ws->next;
    ws_adopt(ws);
  }
  while(ready) {
    struct http_ws *ws = ready;
    ready = ws->ready_next;
    ws_pump(ws);
  }
}

/* Every interval: drop the silent, send the heartbeat and a protocol ping. */
static void ws_tick(int64_t now)
{
  for(struct http_ws *ws = ws_all, *next; ws; ws = next) {
    next = ws->next;
    if(now - ws->last_rx_ms > (int64_t)ws_ping_ms * 5 / 2) {
      log_info("websocket: dropping a client silent for %lld ms", (long long)(now - ws->last_rx_ms));
      ws_close(ws);
      continue;
    }
    if(ws->ops->heartbeat)
      http_ws_send(ws, "\x01heartbeat", ws->ops->heartbeat, strlen(ws->ops->heartbeat));
    struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
    wslay_event_queue_msg(ws->ctx, &ping);
    ws_pump(ws);
  }
}

static void ws_begin_stop(void)
{
  for(struct http_ws *ws = ws_all, *next; ws; ws = next) {
    next = ws->next;
    wslay_event_queue_close(ws->ctx, 1001, (const uint8_t *)"Server shutting down", 20);
    ws_pump(ws);
  }
}

static void *ws_main(void *arg)
{
  (void)arg;
  struct epoll_event evs[WS_EVENTS];
  int64_t next_tick = time_mono_ms() + ws_ping_ms, stop_at = 0;
  for(;;) {
    int64_t now = time_mono_ms();
    if(atomic_load(&ws_stopping) && !stop_at) {
      stop_at = now + WS_STOP_GRACE_MS;
      ws_begin_stop();
    }
    /* Handshakes in flight count too (ws_open): their sockets arrive
     * during the grace and get the close frame on adoption. */
    if(stop_at && (atomic_load(&ws_open) == 0 || now >= stop_at))
      break;
    int64_t wait = (stop_at ? stop_at : next_tick) - now;
    int n = epoll_wait(ws_epfd, evs, WS_EVENTS, wait < 0 ? 0 : (int)wait);
    if(n < 0 && errno != EINTR) {
      log_error("websocket: epoll_wait: %s", strerror(errno));
      break;
    }
    /* Sockets first: one an event names is still open (only this thread
     * closes, and only the one it is working on). */
    for(int i = 0; i < n; i++) {
      struct http_ws *ws = evs[i].data.ptr;
      if(!ws)
        continue;
      if((evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && wslay_event_recv(ws->ctx) != 0) {
        ws_close(ws);
        /* A later entry of this batch may name it no more: epoll reports
         * each descriptor once per wait. */
        continue;
      }
      ws_pump(ws);
    }
    for(int i = 0; i < n; i++)
      if(!evs[i].data.ptr)
        ws_take_handed();
    now = time_mono_ms();
    if(!stop_at && now >= next_tick) {
      ws_tick(now);
      next_tick = now + ws_ping_ms;
    }
  }
  pthread_mutex_lock(&ws_qlock);
  ws_running = false;
  pthread_mutex_unlock(&ws_qlock);
  ws_take_handed();   /* any handed over meanwhile */
  while(ws_all)
    ws_close(ws_all);
  return NULL;
}

int http_ws_start(int max, int ping_ms)
{
  ws_max = max;
  ws_ping_ms = ping_ms > 0 ? ping_ms : 30000;
  atomic_store(&ws_stopping, false);
  ws_epfd = epoll_create1(EPOLL_CLOEXEC);
  ws_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if(ws_epfd < 0 || ws_efd < 0 || epoll_ctl(ws_epfd, EPOLL_CTL_ADD, ws_efd, &ev) != 0)
    goto fail;
  ws_running = true;
  if(pthread_create(&ws_thread, NULL, ws_main, NULL) != 0) {
    ws_running = false;
    goto fail;
  }
  return 0;
fail:
  if(ws_epfd >= 0)
    close(ws_epfd);
  if(ws_efd >= 0)
    close(ws_efd);
  ws_epfd = ws_efd = -1;
  return -1;
}

void http_ws_stop(void)
{
  if(ws_epfd < 0)
    return;
  atomic_store(&ws_stopping, true);
  ws_wake();
  pthread_join(ws_thread, NULL);
  close(ws_epfd);
  close(ws_efd);
  ws_epfd = ws_efd = -1;
}
