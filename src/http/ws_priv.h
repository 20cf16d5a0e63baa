/* ws_priv: what websocket.c (the handshake) and ws_loop.c (the event thread)
 * share about one socket. */
#ifndef NETRA_HTTP_WS_PRIV_H
#define NETRA_HTTP_WS_PRIV_H
#include <stdbool.h>
#include <stdint.h>
#include <wslay/wslay.h>
#include "http/websocket.h"

#define WS_KEY_MAX 48

struct ws_msg {
  struct ws_msg *next;
  char key[WS_KEY_MAX];   /* "" = no key */
  size_t len;
  char text[];
};

struct http_ws {
  /* The event thread's own. */
  struct http_ws *next, *prev;
  int fd;
  struct http_slot slot;       /* the connection's caps, given back at close */
  wslay_event_context_ptr ctx;
  const struct http_ws_ops *ops;
  void *arg;
  char *extra;                 /* bytes read past the handshake */
  size_t extra_len, extra_off;
  int64_t last_rx_ms;          /* monotonic: the last byte from the client */
  uint32_t mask;               /* epoll events asked for */
  /* Under the loop's queue lock. */
  struct http_ws *ready_next;  /* on the ready list (messages or a drop) */
  bool ready;
  bool handed;                 /* ws_loop_add gave it to the thread */
  bool drop;                   /* the queue overflowed */
  struct ws_msg *q_head, *q_tail;
  size_t q_count, q_bytes;
};

/** Builds the socket's wslay context (before ws_loop_add). 0 or -1. */
int ws_context_init(struct http_ws *ws);
/** Takes a slot of the global cap: false when full or stopping. */
bool ws_reserve(void);
/** Gives a slot back (a handshake that never became a socket). */
void ws_unreserve(void);
/** Hands an upgraded socket to the event thread (it was reserved). When the
 *  thread is gone it is closed here, `closed` called. */
void ws_loop_add(struct http_ws *ws);

#endif
