/* websocket: RFC 6455 server sockets taken over from an HTTP connection after an
 * upgrade. One event thread (epoll) runs every socket; wslay does the
 * framing, control frames (ping, pong, close) included. Other threads only
 * enqueue text messages (http_ws_send): each socket has a bounded queue in
 * which a message with a key replaces a queued one with the same key, and a
 * socket whose queue overflows is dropped, so a slow or dead client never
 * blocks a sender or another socket. */
#ifndef NETRA_HTTP_WEBSOCKET_H
#define NETRA_HTTP_WEBSOCKET_H
#include <stddef.h>
#include "http/http.h"

#define HTTP_WS_QUEUE_MAX 64             /* messages waiting per socket */
#define HTTP_WS_QUEUE_BYTES (256 * 1024) /* ... and their bytes (one bigger message may wait alone) */
#define HTTP_WS_RECV_MAX 4096            /* longest message taken from a client */

struct http_ws;

/** What a route does with its sockets. `open` runs once the socket is
 *  taken over (on an HTTP thread), before any frame goes out; `closed` runs
 *  exactly once when it is gone (or when the upgrade never happened): after
 *  it returns nobody may call http_ws_send for it. `heartbeat` (or NULL) is
 *  sent as a text message every ping interval, with a protocol ping. */
struct http_ws_ops {
  void (*open)(struct http_ws *ws, void *arg);
  void (*closed)(void *arg);
  const char *heartbeat;
};

/** Starts the event thread: sockets at most `max` in all, a heartbeat
 *  every `ping_ms`; a socket that sent nothing (not even a pong) for two
 *  and a half intervals is dropped. 0 or -1. */
int http_ws_start(int max, int ping_ms);
/** Sends every socket a close frame (1001), also those whose handshake is
 *  still in flight, waits up to a second for the clients to answer, closes
 *  what is left and joins the thread. */
void http_ws_stop(void);

/** Answers a WebSocket handshake: 400 for a malformed one (Upgrade,
 *  Connection, Sec-WebSocket-Key), 426 for another Sec-WebSocket-Version,
 *  503 when `max` sockets are open; else 101, and the socket goes to the
 *  event thread. Returns 0 when the upgrade was queued: `ops->closed(arg)`
 *  will then run exactly once. Non-zero when it replied with an error: `arg`
 *  stays the caller's. */
int http_ws_upgrade(struct http_req *r, const struct http_ws_ops *ops, void *arg);

/** Queues a text message (copied) for the socket; any thread, never blocks
 *  on the network. With `key`, replaces a message with the same key still
 *  waiting (keeping its place). 0, or -1 when the socket is being dropped
 *  (its queue overflowed) or out of memory. */
int http_ws_send(struct http_ws *ws, const char *key, const char *text, size_t len);

/** Open sockets (for tests and /metrics). */
int http_ws_count(void);

#endif
