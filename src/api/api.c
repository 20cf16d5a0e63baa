/* api: the route tables, in matching order. */
#include "api/api.h"

static const struct http_route *const api_tables[] = {
  api_service_routes,
  api_auth_routes,
  api_search_routes, /* before any /files/{id} route */
  api_file_routes,
  api_folder_routes,
  api_item_routes,
  api_user_routes,
  api_app_password_routes,
  api_upload_routes,
  api_download_routes,
  api_share_routes,
  api_task_routes,
  api_ws_routes,
  api_metrics_routes,
  api_docs_routes,
  api_url_routes,
  NULL,
};

const struct http_route *const *api_route_tables(void)
{
  return api_tables;
}
