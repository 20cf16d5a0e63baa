/* access_log: see access_log.h. */
#include <stdio.h>
#include <string.h>
#include "http/access_log.h"
#include "util/log.h"

#define ACCESS_PATH_MAX 256   /* an unrouted path is cut here: it is the client's text */

static const char *(*access_user)(const void *auth);

void http_access_log_setup(const char *(*auth_user)(const void *auth))
{
  access_user = auth_user;
}

void http_access_log(const struct http_req *r, bool completed, double ms)
{
  if(!log_enabled(LOG_INFO))
    return;
  char client[64], path[ACCESS_PATH_MAX + 4];
  http_client_addr(r, client, sizeof(client));
  /* The route's template names what was asked without the ids in it; a
   * request that matched no route shows its own path, cut and escaped. */
  const char *route = r->route ? r->route->pattern : NULL;
  if(!route) {
    size_t n = strlen(r->path);
    snprintf(path, sizeof(path), "%.*s%s", ACCESS_PATH_MAX, r->path,
             n > ACCESS_PATH_MAX ? "..." : "");
    route = path;
  }
  const char *user = r->auth && access_user ? access_user(r->auth) : NULL;
  const struct log_field f[] = {
    LOG_STR("method", r->method),
    LOG_STR("route", route),
    LOG_INT("status", r->status),
    LOG_REAL("ms", ms),
    LOG_INT("in", r->bytes_in),
    LOG_INT("out", r->bytes_out),
    LOG_STR("id", r->request_id),
    LOG_STR("user", user),
    LOG_STR("client", client),
  };
  log_fields(LOG_INFO, completed ? "request" : "request aborted", f, sizeof(f) / sizeof(f[0]));
}
