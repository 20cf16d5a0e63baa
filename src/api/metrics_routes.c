/* metrics: GET /metrics, the Prometheus text exposition format 0.0.4 of
 * util/metric_list.h. With METRICS_TOKEN set it asks for that bearer token
 * (compared in constant time); without, it is open, for a scraper on a
 * private network (docs/DECISIONS.md). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api/api.h"
#include "http/websocket.h"
#include "util/metric_list.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_MAX (4 * 1024 * 1024)   /* bounded: the families are */

static char *metrics_token;   /* set once at start, before the server runs */

int api_metrics_set_token(const char *token)
{
  free(metrics_token);
  metrics_token = NULL;
  if(!token || !*token)
    return 0;
  return (metrics_token = strdup(token)) ? 0 : -1;
}

/* Compares digests, so neither the content nor the length of the token
 * leaks through the time taken. */
static bool metrics_token_ok(const char *given, size_t len)
{
  unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
  crypto_generichash(a, sizeof(a), (const unsigned char *)given, len, NULL, 0);
  crypto_generichash(b, sizeof(b), (const unsigned char *)metrics_token, strlen(metrics_token),
                     NULL, 0);
  return sodium_memcmp(a, b, sizeof(a)) == 0;
}

static bool metrics_authorized(struct http_req *r)
{
  if(!metrics_token)
    return true;
  const char *h = http_header(r, HTTP_HEADER_AUTHORIZATION);
  return h && !strncasecmp(h, "Bearer ", 7) && metrics_token_ok(h + 7, strlen(h + 7));
}

/* Gauges read at scrape time from the layers that own them. */
static void metrics_collect(void)
{
  struct http_stats hs;
  http_stats_get(&hs);
  metric_set(&metric_http_in_flight, NULL, (int64_t)hs.inflight);
  metric_set(&metric_websockets_open, NULL, http_ws_count());
}

static int metrics_get(struct http_req *r)
{
  if(!metrics_authorized(r)) {
    http_add_header(r, HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return http_reply_error(r, HTTP_UNAUTHORIZED, "Not authenticated");
  }
  metrics_collect();
  buf_t out;
  buf_init(&out, METRICS_MAX);
  if(buf_reserve(&out, 64 * 1024) != BUF_OK || metrics_render(&out) != BUF_OK) {
    buf_free(&out);
    return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  }
  size_t len = out.len;
  char *text = buf_steal(&out);
  struct http_response *resp = http_response_buffer(len, text, HTTP_MEM_MUST_FREE);
  if(!resp) {
    free(text);   /* not taken over when the response could not be made */
    return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  }
  http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
  http_response_header(resp, HTTP_HEADER_CACHE_CONTROL, "no-store");
  http_set_body_size(r, len);
  return http_reply_response(r, HTTP_OK, resp);
}

const struct http_route api_metrics_routes[] = {
  {"GET", "/metrics", metrics_get, 0, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
