/* api: one file per resource (`*_routes.c`). Each parses the request, calls
 * drive/, and renders JSON. This header lists the route tables and the
 * helpers they share. api/ never touches the database itself. */
#ifndef NETRA_API_H
#define NETRA_API_H
#include <stdbool.h>
#include "http/http.h"

/** The NULL-terminated list of route tables for http_start. */
const struct http_route *const *api_route_tables(void);

/** Bearer-token check the HTTP core runs for HTTP_AUTH routes (caller.c):
 *  on success *auth holds the caller, freed with api_auth_free. */
int api_auth_bearer(struct http_req *r, const char *token, void **auth);
void api_auth_free(void *auth);
/** Records a caller proved some other way (WebDAV's Basic credentials) so
 *  the access log names them as it does for bearer tokens; -1: no memory. */
int api_caller_set(struct http_req *r, const char *id, const char *username);
/** The id of the caller an auth value stands for (the access log's user). */
const char *api_auth_user(const void *auth);
/** The signed-in caller of an HTTP_AUTH route: id and username. */
const char *api_user_id(const struct http_req *r);
const char *api_username(const struct http_req *r);
/** Whether the caller's pending operations were found done (settle.c). */
bool api_caller_settled(const struct http_req *r);
void api_caller_mark_settled(struct http_req *r);

/** For a write of the caller's drive (settle.c): true when it may run now,
 *  nothing of the caller's pending. Else false, and the handler returns at
 *  once: it replied (a fault), or the caller's pending bin or restore
 *  batches are being completed on the http_defer pool, after which the
 *  route's handler (a streaming route's `begin`) runs again. */
bool api_settled(struct http_req *r);
/** The same with `again` run after the batches instead of the route (NULL:
 *  the route), and `fail` replying for a fault (NULL: api_reply_error). */
bool api_settled_then(struct http_req *r, int (*again)(struct http_req *r),
                      int (*fail)(struct http_req *r, int rc));

/** Replies for a drive/ result that is not DRIVE_OK: the status the code
 *  means (drive/drive.h), with `detail` as the message, or the code's
 *  standard message when `detail` is NULL. Faults (database, internal) are
 *  logged with the request id and always get their standard message. */
int api_reply_error(struct http_req *r, int rc, const char *detail);
/** The standard message of a drive/ code (as api_reply_error sends it). */
const char *api_error_detail(int rc);

extern const struct http_route api_service_routes[];
extern const struct http_route api_auth_routes[];
extern const struct http_route api_folder_routes[];
extern const struct http_route api_item_routes[];
extern const struct http_route api_user_routes[];
extern const struct http_route api_app_password_routes[];
extern const struct http_route api_upload_routes[];
extern const struct http_route api_download_routes[];
extern const struct http_route api_search_routes[];
extern const struct http_route api_file_routes[];
extern const struct http_route api_share_routes[];
extern const struct http_route api_task_routes[];
extern const struct http_route api_ws_routes[];
extern const struct http_route api_docs_routes[];

/** The bearer token GET /metrics requires (copied); NULL or "" leaves it
 *  open. 0, or -1 when out of memory. */
int api_metrics_set_token(const char *token);
extern const struct http_route api_metrics_routes[];

/** Open task WebSockets one user may have (ws_routes.c; default 8). */
void api_ws_set_limit(int per_user);
extern const struct http_route api_url_routes[];

#endif
