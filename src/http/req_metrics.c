/* req_metrics: see req_metrics.h. Four lock-free series lookups and a few
 * atomic adds per request (util/metrics.c): no lock on the request path. */
#include <stdio.h>
#include <string.h>
#include "http/req_metrics.h"
#include "util/metric_list.h"

/* A client may send any token as a method; only these are labels. */
static const char *method_label(const char *m)
{
  static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
                                      "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK",
                                      "UNLOCK", NULL};
  for(int i = 0; m && known[i]; i++)
    if(!strcmp(m, known[i]))
      return known[i];
  return "other";
}

const char *http_req_route_label(const struct http_req *r)
{
  return r->route ? r->route->pattern : "unmatched";
}

void http_req_metrics(const struct http_req *r, double seconds)
{
  char status[8];
  if(r->status)
    snprintf(status, sizeof(status), "%u", r->status % 1000);
  else
    snprintf(status, sizeof(status), "none");   /* the client left before a reply */
  const char *route = http_req_route_label(r), *method = method_label(r->method);
  const char *req[] = {route, method, status};
  metric_inc(&metric_http_requests, req);
  metric_observe(&metric_http_duration, req, seconds);
  const char *rl[] = {route};
  if(r->bytes_in)
    metric_add(&metric_http_received_bytes, rl, r->bytes_in);
  if(r->bytes_out)
    metric_add(&metric_http_sent_bytes, rl, r->bytes_out);
}
