/* ft_api: the Bot API methods (getMe, getChat, sendDocument, getFile,
 * deleteMessage, deleteMessages) answered once a request's body is in,
 * with the real service's error texts and order of checks. */
#ifndef FT_API_H
#define FT_API_H
#include <microhttpd.h>

#include "ft_fault.h"
#include "ft_request.h"

/** Answers a /bot<token>/<method> request. */
enum MHD_Result ft_api_serve(struct ft_req *r);
/** Answers an injected 5xx (JSON, or nginx's HTML page). */
enum MHD_Result ft_api_fault_answer(struct ft_req *r, const struct ft_fault_plan *plan);

#endif
