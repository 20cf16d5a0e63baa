/* access_log: one line per request, written when it ends (DECISIONS
 * "Logs"): method, route template, status, duration, bytes in and out,
 * request id, user id and client address, as key=value text or a JSON
 * object (LOG_FORMAT). Nothing secret is in it: no query string, no
 * header, no body; what comes from the client is escaped by util/log. */
#ifndef NETRA_HTTP_ACCESS_LOG_H
#define NETRA_HTTP_ACCESS_LOG_H
#include <stdbool.h>
#include "http/http.h"

/** The hook that names the caller of an authenticated request (NULL: none). */
void http_access_log_setup(const char *(*auth_user)(const void *auth));
/** Logs `r` (at info level); `completed` false for a request cut short. */
void http_access_log(const struct http_req *r, bool completed, double ms);

#endif
