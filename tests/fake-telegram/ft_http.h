/* ft_http: building and queueing answers in the Bot API's shapes:
 * {"ok":true,"result":...}, {"ok":false,"error_code":N,"description":"..."}
 * (+ "parameters":{"retry_after":N} and a Retry-After header on 429), and
 * nginx's HTML error pages, which the real service sometimes returns. */
#ifndef FT_HTTP_H
#define FT_HTTP_H
#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

/** Queues `body` (copied) with the given status and Content-Type. */
enum MHD_Result ft_http_send(struct MHD_Connection *c, unsigned status, const char *ctype,
                             const char *body, size_t len);
/** Queues a JSON value (reference stolen) as application/json. */
enum MHD_Result ft_http_json(struct MHD_Connection *c, unsigned status, json_t *body);
/** Queues {"ok":true,"result":result} (reference stolen). */
enum MHD_Result ft_http_ok(struct MHD_Connection *c, json_t *result);
/** Queues {"ok":false,"error_code":code,"description":desc}. */
enum MHD_Result ft_http_error(struct MHD_Connection *c, unsigned code, const char *desc);
/** Queues the 429 answer: description, parameters.retry_after, Retry-After. */
enum MHD_Result ft_http_retry_after(struct MHD_Connection *c, int seconds);
/** Queues nginx's HTML page for `code` (e.g. 413, 502). */
enum MHD_Result ft_http_nginx_page(struct MHD_Connection *c, unsigned code);
/** The reason phrase for the status codes the fake uses. */
const char *ft_http_reason(unsigned code);

#endif
