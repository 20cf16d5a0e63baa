/* conn: one client connection's state machine (conn.c), run by the poll
 * thread (loop.c) that accepted it, and the request lifecycle it drives
 * (request.c). A connection holds only this struct while idle: its read
 * buffer exists while a head or body is being read and is freed when the
 * request completes (a pipelined remainder keeps just its bytes). */
#ifndef NETRA_HTTP_CONN_H
#define NETRA_HTTP_CONN_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "http/h1parse.h"
#include "http/http.h"

struct http_loop;

enum conn_state { CS_HEAD, CS_BEGIN, CS_BODY, CS_HANDLER, CS_WRITE, CS_LINGER };
/* Timer classes: each list is ordered by last activity, so a sweep stops
 * at the first connection not yet expired. */
enum conn_timer { CT_SHORT, CT_LONG, CT_LINGER, CT_COUNT, CT_NONE = CT_COUNT };

struct http_conn {
  int fd;
  struct http_loop *loop;
  enum conn_state state;
  bool suspended;         /* loop thread: nothing runs until resumed */
  bool resume_queued;     /* under the loop's lock */
  bool in_epoll;
  bool head_started;      /* a head's first byte came: its timer no longer restarts */
  bool counted;           /* holds a MAX_CONNECTIONS_PER_IP slot */
  bool fresh;             /* accepted by another thread, not yet taken by its own */
  bool keep;              /* the reply being written leaves the connection open */
  bool close_after;       /* body left unread: close (lingering) after the reply */
  bool continue_sent;     /* 100 Continue written */
  bool body_to_read;      /* the body is still (partly) on the socket */
  bool resp_chunked, resp_body, resp_eof;
  uint32_t ev;            /* epoll events asked for */
  enum conn_timer tclass;
  int64_t last_ms;        /* monotonic: last progress */
  int64_t linger_until;
  struct http_conn *t_prev, *t_next;  /* timer list */
  struct http_conn *a_prev, *a_next;  /* every connection of the loop */
  struct http_conn *rq_next;          /* resume queue */
  union {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
  } peer;
  /* input: a head being read, or a pipelined remainder */
  char *in;
  size_t in_len, in_cap, in_off, scan;
  /* the body */
  struct http_req *req;
  uint64_t body_left;
  struct h1_chunked ck;
  char *bbuf;
  size_t bbuf_cap;
  /* output: the head, then a slice of body */
  char *out;
  size_t out_len, out_off;
  const char *odata;
  size_t odata_len, odata_off;
  struct http_response *resp;
  uint64_t resp_pos;
  char *blk;
};

/* ---- loop.c ---- */
/** The monotonic clock, in microseconds and in milliseconds. */
int64_t loop_now_us(void);
int64_t loop_now_ms(void);
/** Puts `c` on timer list `t` (CT_NONE: none) as just active. */
void loop_touch(struct http_conn *c, enum conn_timer t);
/** Asks epoll for `ev` (0: the connection is not watched). */
void loop_watch(struct http_conn *c, uint32_t ev);
/** Closes the socket and frees the connection (conn_free first). */
void loop_close(struct http_conn *c);
/** Unlinks `c` from the loop without closing its socket (an upgrade); its
 *  connection slots go to *slot. */
void loop_detach(struct http_conn *c, struct http_slot *slot);
/** A scratch buffer of the calling poll thread (LOOP_SCRATCH bytes). */
char *loop_scratch(void);
#define LOOP_SCRATCH (16 * 1024)
bool loop_stopping(void);
size_t loop_upload_buffer(void);

/* ---- conn.c ---- */
enum step { STEP_AGAIN, STEP_WAIT_IN, STEP_WAIT_OUT, STEP_PAUSE, STEP_CLOSED };
/** The connection made progress: its silence timer starts again. */
void conn_progress(struct http_conn *c);
/** Runs the connection as far as it goes without waiting. */
void conn_run(struct http_conn *c);
/** Frees what the connection holds (its request ends as failed). */
void conn_free(struct http_conn *c);
/** True for a connection with nothing in progress (idle keep-alive). */
bool conn_idle(const struct http_conn *c);

/* ---- conn_write.c ---- */
/** Writes the reply's head into c->out and decides how its body goes. */
int conn_reply_head(struct http_conn *c);
/** Asks the reader for the next block: STEP_AGAIN with data, STEP_PAUSE
 *  when it suspended, STEP_CLOSED on an error (the connection is gone). */
enum step conn_produce(struct http_conn *c);
/** Writes what is pending: STEP_AGAIN when all of it went out. */
enum step conn_flush(struct http_conn *c);

/* ---- request.c ---- */
/** Makes the request of a complete head (`head`, `len` bytes, taken over),
 *  parses, checks and routes it. NULL only when out of memory. After it
 *  the request has replied, or is suspended, or wants its body. */
struct http_req *req_open(struct http_conn *c, char *head, size_t len);
/** A request refused before it could be parsed (status, detail), its
 *  reply made; the connection closes after it. NULL when out of memory. */
struct http_req *req_refuse(struct http_conn *c, unsigned status, const char *detail);
/** A `begin` deferral's work is done (after the resume). */
void req_begin_done(struct http_req *r);
/** One piece of the body. */
void req_body(struct http_req *r, const char *data, size_t n);
/** The body is complete (or the handler was resumed): run the handler,
 *  `end`, or a deferral's `done`. */
void req_run(struct http_req *r);
/** The request is over (`ok`: its reply went out whole); frees it. */
void req_close(struct http_req *r, bool ok);
/** Routed to a streaming or HTTP_LONG route: the long timeout applies. */
bool req_long(const struct http_req *r);

#endif
