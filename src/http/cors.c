#include <stdlib.h>
#include <string.h>
#include "http/cors.h"
#include "util/strlist.h"

#define CORS_MAX_ORIGINS 32

static char *cors_list[CORS_MAX_ORIGINS];
static int cors_count;
static bool cors_any;

int cors_init(const char *origins)
{
  struct strlist_iter it;
  const char *item;
  size_t n;
  cors_free();
  strlist_begin(&it, origins);
  while(strlist_next(&it, &item, &n)) {
    while(n && item[n - 1] == '/') /* browsers send Origin without one */
      n--;
    if(n == 1 && *item == '*')
      cors_any = true;
    else if(n && cors_count < CORS_MAX_ORIGINS) {
      char *o = strndup(item, n);
      if(!o)
        return -1;
      cors_list[cors_count++] = o;
    }
  }
  return 0;
}

void cors_free(void)
{
  for(int i = 0; i < cors_count; i++)
    free(cors_list[i]);
  cors_count = 0;
  cors_any = false;
}

const char *cors_allowed_origin(const char *origin)
{
  if(!origin || !*origin)
    return NULL;
  if(cors_any)
    return origin;
  for(int i = 0; i < cors_count; i++)
    if(cors_list[i] && !strcmp(cors_list[i], origin))
      return origin;
  return NULL;
}

void cors_add_headers(const struct http_req *r, struct http_response *resp)
{
  http_response_header(resp, "Vary", "Origin");
  if(!r->cors_origin)
    return;
  http_response_header(resp, "Access-Control-Allow-Origin", r->cors_origin);
  http_response_header(resp, "Access-Control-Expose-Headers",
                          "Content-Disposition, Content-Range, Content-Length, ETag, "
                          "X-Total-Count, X-Request-Id, Retry-After, Accept-Ranges");
}

void cors_preflight(struct http_req *r)
{
  struct http_response *resp = http_response_buffer(0, "", HTTP_MEM_PERSISTENT);
  if(!resp)
    return;
  http_response_header(resp, "Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  if(r->cors_origin) {
    http_response_header(resp, "Access-Control-Allow-Methods",
                            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    http_response_header(resp, "Access-Control-Allow-Headers",
                            "Authorization, Content-Type, Range, If-Range, If-None-Match, "
                            "X-Share-Password, X-Requested-With");
    http_response_header(resp, "Access-Control-Max-Age", "600");
  }
  http_reply_response(r, HTTP_NO_CONTENT, resp);
}
