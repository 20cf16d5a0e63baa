#include <stdio.h>
#include "api/api.h"
#include "db/db.h"
#include "drive/mail.h"
#include "drive/tokens.h"
#include "drive/users.h"
#include "drive/janitor.h"
#include "drive/store.h"
#include "drive/tasks.h"
#include "drive/upload.h"
#include "util/timefmt.h"
#include "util/log.h"

const struct config *api_cfg;

static const struct http_route *const api_tables[] = {
  api_service_routes,
  api_auth_routes,
  api_search_routes, /* before any /files/{id} route */
  api_file_routes,
  api_folder_routes,
  api_item_routes,
  api_user_routes,
  api_upload_routes,
  api_download_routes,
  api_share_routes,
  api_task_routes,
  NULL,
};

int api_init(const struct config *cfg, char *err, size_t errlen)
{
  api_cfg = cfg;
  tokens_init(cfg->secret_key, (int64_t)cfg->access_token_expire_minutes * 60,
              (int64_t)cfg->refresh_token_expire_days * 86400);
  /* Verification needs a way to deliver the link: without SMTP it is off. */
  struct users_options uo = {
    .login_max_failures = cfg->login_max_failures,
    .login_window_s = cfg->login_window_seconds,
    .public_url = cfg->public_url,
    .require_verification = cfg->smtp_url && cfg->require_email_verification,
  };
  if(users_init(&uo) != 0) {
    snprintf(err, errlen, "users: cannot initialise (out of memory?)");
    return -1;
  }
  if(mail_start(cfg->smtp_url, cfg->smtp_from, err, errlen) != 0) {
    users_shutdown();
    return -1;
  }
  if(store_init(cfg, true, err, errlen) != 0) {
    mail_stop(0);
    users_shutdown();
    return -1;
  }
  /* One server per SQLite database: a chunk still staged at start belongs to
   * an upload that died with the previous process. */
  db_t *db = db_get();
  if(db) {
    store_reclaim_staged(db, time_now_ms());
    tasks_init(db);   /* what the previous process left running died with it */
  }
  if(janitor_start(cfg) != 0) {
    snprintf(err, errlen, "cannot start the janitor thread");
    store_shutdown();
    mail_stop(0);
    users_shutdown();
    return -1;
  }
  return 0;
}

void api_shutdown(void)
{
  janitor_stop();
  store_shutdown();   /* the last abandoned uploads release their tasks here */
  tasks_shutdown();
  upload_shutdown();
  /* Give queued mail (a verification link just promised) a moment to leave. */
  mail_stop(5000);
  users_shutdown();
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
