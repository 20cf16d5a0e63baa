/* ft_download: GET/HEAD /file/bot<token>/<file_path>: the stored bytes,
 * with single Range requests (206/416), the per-connection bandwidth cap,
 * and injected faults including bodies cut short. */
#ifndef FT_DOWNLOAD_H
#define FT_DOWNLOAD_H
#include <microhttpd.h>

#include "ft_request.h"

/** Answers a file download request. */
enum MHD_Result ft_download_serve(struct ft_req *r);

#endif
