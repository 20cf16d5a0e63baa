/* ft_control: test control routes. */
#include "ft_control.h"

#include <string.h>

#include "ft_http.h"

static enum MHD_Result done(struct ft_req *r)
{
  return ft_http_json(r->conn, 200, json_pack("{s:b}", "ok", 1));
}

enum MHD_Result ft_control_serve(struct ft_req *r)
{
  struct ft_app *app = r->app;
  int get = !strcmp(r->http_method, "GET") || !strcmp(r->http_method, "HEAD");
  int post = !strcmp(r->http_method, "POST");
  char err[128];

  if(!strcmp(r->method, "messages") && get)
    return ft_http_json(r->conn, 200, ft_store_messages_json(&app->store));
  if(!strcmp(r->method, "stats") && get)
    return ft_http_json(r->conn, 200, ft_stats_json(&app->stats));
  if(!strcmp(r->method, "reset-stats") && post) {
    ft_stats_reset(&app->stats);
    return done(r);
  }
  if(!strcmp(r->method, "reset-pace") && post) {
    ft_pace_reset(&app->pace);
    return done(r);
  }
  if(!strcmp(r->method, "config") && get)
    return ft_http_json(r->conn, 200, ft_config_json(&app->cfg));
  if(!strcmp(r->method, "config") && post) {
    if(r->too_large)
      return ft_http_error(r->conn, 413, "Request Entity Too Large");
    if(ft_config_update(&app->cfg, r->text.data ? r->text.data : "", r->text.len, err,
                        sizeof(err)))
      return ft_http_error(r->conn, 400, err);
    return ft_http_json(r->conn, 200, ft_config_json(&app->cfg));
  }
  return ft_http_error(r->conn, 404, "Not Found");
}
