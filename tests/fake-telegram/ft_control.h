/* ft_control: the /_fake/ routes tests use to look inside the fake and
 * steer it: messages, stats, reset-stats, config, reset-pace. They are never
 * delayed or faulted. */
#ifndef FT_CONTROL_H
#define FT_CONTROL_H
#include <microhttpd.h>

#include "ft_request.h"

/** Answers a /_fake/<name> request. */
enum MHD_Result ft_control_serve(struct ft_req *r);

#endif
