/* service: /, /healthz, /readyz. */
#include "api/api.h"
#include "drive/domain.h"

static int service_root(struct http_req *r)
{
  return http_reply_json(r, HTTP_OK, json_pack("{s:s}", "message", "Welcome to NetraDrive API"));
}

static int service_healthz(struct http_req *r)
{
  return http_reply_json(r, HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

static int service_readyz(struct http_req *r)
{
  struct drive_health h;
  drive_health(&h);
  bool db_ok = h.database, store_ok = h.storage;
  bool ok = db_ok && store_ok;
  return http_reply_json(r, ok ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE,
                         json_pack("{s:s,s:s,s:s}", "status", ok ? "ready" : "unavailable",
                                   "database", db_ok ? "ok" : "unreachable",
                                   "storage", store_ok ? "ok" : "unreachable"));
}

const struct http_route api_service_routes[] = {
  {"GET", "/", service_root, 0, NULL},
  {"GET", "/healthz", service_healthz, 0, NULL},
  {"GET", "/readyz", service_readyz, 0, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
