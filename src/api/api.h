/* api: one file per resource. Each parses the request, calls drive/, and
 * renders JSON. This header lists the route tables and the shared helpers. */
#ifndef NETRA_API_H
#define NETRA_API_H
#include "config.h"
#include "http/http.h"

/** The configuration every handler reads (immutable after start). */
extern const struct config *api_cfg;

/** Stores the config and prepares the api modules; 0 or -1 with err. */
int api_init(const struct config *cfg, char *err, size_t errlen);
/** Stops background work started by api_init. */
void api_shutdown(void);
/** The NULL-terminated list of route tables for http_start. */
const struct http_route *const *api_route_tables(void);

/** Bearer-token check used by the HTTP core for HTTP_AUTH routes (auth.c). */
int api_auth_bearer(struct http_req *r, const char *token);

/** Replies 503 when the database is unreachable, 500 otherwise (and logs). */
int api_reply_db_error(struct http_req *r, int rc);

extern const struct http_route api_service_routes[];
extern const struct http_route api_auth_routes[];
extern const struct http_route api_folder_routes[];
extern const struct http_route api_item_routes[];
extern const struct http_route api_user_routes[];
extern const struct http_route api_upload_routes[];
extern const struct http_route api_download_routes[];
extern const struct http_route api_search_routes[];
extern const struct http_route api_file_routes[];
extern const struct http_route api_share_routes[];
extern const struct http_route api_task_routes[];

#endif
