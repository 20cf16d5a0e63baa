/* req_metrics: a finished request's counts for /metrics (util/metric_list.h):
 * requests by route template, method and status, the latency histogram and
 * the body bytes. Labels come only from bounded sets (route table patterns,
 * known methods), never from the raw path. */
#ifndef NETRA_REQ_METRICS_H
#define NETRA_REQ_METRICS_H
#include "http/http.h"

/** Counts request `r`, which took `seconds`; called once, as it completes. */
void http_req_metrics(const struct http_req *r, double seconds);

/** The route label of `r`: its pattern, or "unmatched" (404, 405, a
 *  preflight, a request refused before routing). */
const char *http_req_route_label(const struct http_req *r);

#endif
