/* loop: the poll threads that accept and run connections (see loop.c). */
#ifndef NETRA_HTTP_LOOP_H
#define NETRA_HTTP_LOOP_H
#include <stdbool.h>
#include <stddef.h>

struct loop_config {
  int threads;
  int max_connections;    /* open in all: more are closed at accept */
  bool per_ip;            /* MAX_CONNECTIONS_PER_IP is on (conn_limit.c) */
  int short_timeout;      /* s: idle keep-alive, a head, an ordinary reply */
  int long_timeout;       /* s: a streaming or HTTP_LONG route's silence */
  size_t upload_buffer;   /* read size of a streaming body */
};

/** Starts the threads on the (non-blocking) listening socket, which is
 *  theirs from then on. 0 or -1. */
int loop_start(int listen_fd, const struct loop_config *cfg);
/** Stops accepting and closes idle keep-alive connections. */
void loop_quiesce(void);
/** Closes every connection, joins the threads, closes the listening socket. */
void loop_stop(void);
/** Open connections (for tests, /metrics). */
int loop_open_connections(void);

#endif
