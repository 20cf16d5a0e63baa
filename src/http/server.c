/* server: starts and stops the HTTP server (the poll threads of loop.c and
 * the helpers every request uses), and its counters. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "http/access_log.h"
#include "http/client_addr.h"
#include "http/conn.h"
#include "http/conn_limit.h"
#include "http/cors.h"
#include "http/defer.h"
#include "http/loop.h"
#include "http/server_priv.h"
#include "http/websocket.h"
#include "util/log.h"

/* The read buffer of a streaming (upload) body when CONNECTION_MEMORY is
 * not set. Only an upload that is being read holds one; an idle connection
 * holds no buffer at all. */
#define SRV_UPLOAD_BUFFER (256 * 1024)

const struct http_route *const *srv_tables;
http_auth_fn srv_auth;
void (*srv_auth_free)(void *auth);
atomic_uint_fast64_t srv_inflight;
atomic_uint_fast64_t srv_requests;
atomic_uint_fast64_t srv_bytes_in;
static bool srv_running;

/* Descriptors kept free of connections: the database, chunk files, spool,
 * sockets to Telegram and SMTP. */
#define SRV_FD_RESERVE 256
#define SRV_MAX_CONNECTIONS 1024   /* when none is configured (tests) */

void http_stats_get(struct http_stats *out)
{
  out->requests = atomic_load(&srv_requests);
  out->bytes_in = atomic_load(&srv_bytes_in);
  out->inflight = atomic_load(&srv_inflight);
}

int http_start(const struct http_options *opt, char *err, size_t errlen)
{
  if(opt->listen_fd < 0) {
    snprintf(err, errlen, "no listening socket");
    return -1;
  }
  int lfd = opt->listen_fd;
  bool cors = false, defer = false, ws = false, limits = false;
  srv_tables = opt->tables;
  srv_auth = opt->auth;
  srv_auth_free = opt->auth_free;
  http_client_addr_setup(opt->trusted_proxies);
  http_access_log_setup(opt->auth_user);
  if(cors_init(opt->cors_origins) != 0) {
    snprintf(err, errlen, "CORS_ORIGINS: could not parse");
    goto fail;
  }
  cors = true;
  if(http_defer_start() != 0) {
    snprintf(err, errlen, "cannot start the background work threads");
    goto fail;
  }
  defer = true;
  if(http_ws_start(opt->ws_max, opt->ws_ping_ms) != 0) {
    snprintf(err, errlen, "cannot start the WebSocket thread");
    goto fail;
  }
  ws = true;
  /* The caps (DECISIONS "HTTP"): connections over MAX_CONNECTIONS, or over
   * MAX_CONNECTIONS_PER_IP from one address, are closed at accept, so idle
   * sockets from one address cannot lock other clients out. */
  int want = opt->max_connections > 0 ? opt->max_connections : SRV_MAX_CONNECTIONS;
  unsigned max_conn = conn_limit_fit_fds((unsigned)want, SRV_FD_RESERVE);
  if(max_conn < (unsigned)want)
    log_warn("MAX_CONNECTIONS lowered from %d to %u to fit the open-file limit", want, max_conn);
  bool per_ip = opt->max_connections_per_ip > 0;
  if(conn_limit_init(per_ip ? opt->max_connections_per_ip : 0, opt->trusted_proxies, max_conn) !=
     0) {
    snprintf(err, errlen, "MAX_CONNECTIONS_PER_IP: out of memory");
    goto fail;
  }
  limits = true;
  int fl = fcntl(lfd, F_GETFL);
  if(fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) != 0) {
    snprintf(err, errlen, "cannot set up the listening socket");
    goto fail;
  }
  struct loop_config lc = {
    .threads = opt->threads > 0 ? opt->threads : 1,
    .max_connections = (int)max_conn,
    .per_ip = per_ip,
    .short_timeout = opt->keepalive_timeout > 0 ? opt->keepalive_timeout : 15,
    .long_timeout = HTTP_LONG_TIMEOUT,
    .upload_buffer = opt->connection_memory ? opt->connection_memory : SRV_UPLOAD_BUFFER,
  };
  if(loop_start(lfd, &lc) != 0) {
    snprintf(err, errlen, "cannot start the HTTP server on %s port %d", opt->host, opt->port);
    lfd = -1;   /* loop_stop closed it */
    goto fail;
  }
  srv_running = true;
  return 0;
fail:
  if(limits)
    conn_limit_free();
  if(ws)
    http_ws_stop();
  if(defer)
    http_defer_stop();
  if(cors)
    cors_free();
  if(lfd >= 0)
    close(lfd);
  return -1;
}

void http_stop(int grace_ms)
{
  if(!srv_running)
    return;
  /* Stop accepting (idle keep-alive connections close), then give
   * in-flight requests time to finish. */
  loop_quiesce();
  /* WebSockets never finish by themselves: close them (1001) first. */
  http_ws_stop();
  for(int waited = 0; waited < grace_ms && atomic_load(&srv_inflight) > 0; waited += 20)
    usleep(20 * 1000);
  /* Deferred work still queued runs now and resumes its requests. */
  http_defer_stop();
  loop_stop();
  srv_running = false;
  conn_limit_free();
  cors_free();
}

void http_suspend(struct http_req *r)
{
  r->suspended = true;
  http_conn_suspend(r->conn);
}

void http_resume(struct http_req *r)
{
  r->suspended = false;
  http_conn_resume(r->conn);
}
