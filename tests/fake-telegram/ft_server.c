/* ft_server: daemon and request routing. */
#include "ft_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "ft_api.h"
#include "ft_control.h"
#include "ft_download.h"
#include "ft_http.h"
#include "ft_request.h"

static int expects_continue(struct MHD_Connection *conn)
{
  const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
  return e && !strcasecmp(e, "100-continue");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
  struct ft_app *app = cls;
  struct ft_req *r = *con_cls;

  (void)version;
  if(!r) {
    r = ft_req_new(app, conn, url, method);
    if(!r)
      return MHD_NO;
    *con_cls = r;
    ft_req_begin_body(r);
    /* an announced oversized body the client has not sent yet: refuse it now,
     * as nginx does, instead of reading 50 MB for nothing */
    if(r->too_large && expects_continue(conn))
      return ft_api_serve(r);
    return MHD_YES;
  }
  if(*upload_data_size) {
    ft_req_feed(r, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  ft_req_end_body(r);
  switch(r->route) {
  case FT_ROUTE_API:
    return ft_api_serve(r);
  case FT_ROUTE_FILE:
    return ft_download_serve(r);
  case FT_ROUTE_CONTROL:
    return ft_control_serve(r);
  default:
    return ft_http_error(conn, 404, "Not Found");
  }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  (void)cls;
  (void)conn;
  (void)toe;
  ft_req_free(*con_cls);
  *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  (void)cls;
  (void)fmt;
  (void)ap; /* dropped and truncated connections are deliberate; stay quiet */
}

struct MHD_Daemon *ft_server_start(struct ft_app *app, int port)
{
  struct sockaddr_in sa;

  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
      MHD_USE_ERROR_LOG,
    0, NULL, NULL, on_request, app,
    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
    MHD_OPTION_NOTIFY_COMPLETED, on_completed, app,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
    MHD_OPTION_END);
}

int ft_server_port(struct MHD_Daemon *d)
{
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  return info ? (int)info->port : 0;
}
