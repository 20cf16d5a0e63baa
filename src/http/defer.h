/* defer: the server core's side of http_defer() (http.h): the pool's
 * lifetime and the step that finishes a deferred request. */
#ifndef NETRA_HTTP_DEFER_H
#define NETRA_HTTP_DEFER_H
#include "http/http.h"

/** Starts the pool: one thread per core, a bounded queue. 0 or -1. */
int http_defer_start(void);
/** Runs what is queued (each job resumes its request), joins the pool. */
void http_defer_stop(void);
/** On the request's thread once the work is done: replies 429 if the pool
 *  refused it, then hands the request to the route's `done`. */
void http_defer_finish(struct http_req *r);
/** The request ends with deferred work unfinished (shutdown): frees it. */
void http_defer_drop(struct http_req *r);

#endif
