#include "api/api.h"
#include "db/db.h"
#include "util/log.h"

const struct config *api_cfg;

static const struct http_route *const api_tables[] = {
  api_service_routes,
  api_auth_routes,
  api_folder_routes,
  api_item_routes,
  api_user_routes,
  NULL,
};

int api_init(const struct config *cfg, char *err, size_t errlen)
{
  api_cfg = cfg;
  (void)err;
  (void)errlen;
  return 0;
}

void api_shutdown(void)
{
}

const struct http_route *const *api_route_tables(void)
{
  return api_tables;
}

int api_reply_db_error(struct http_req *r, int rc)
{
  if(rc == DB_UNAVAILABLE)
    return http_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable");
  log_error("request %s: database error %d", r->request_id, rc);
  return http_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
}
