/* ft_http: answers. */
#include "ft_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_NAME "nginx/1.18.0"

const char *ft_http_reason(unsigned code)
{
  switch(code) {
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 413: return "Request Entity Too Large";
  case 416: return "Requested Range Not Satisfiable";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  default: return "Error";
  }
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *ctype,
                             const char *body, size_t len, int retry_after)
{
  struct MHD_Response *resp;
  enum MHD_Result ret;
  char ra[16];

  resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if(!resp)
    return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, SERVER_NAME);
  if(retry_after > 0) {
    snprintf(ra, sizeof(ra), "%d", retry_after);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
  }
  ret = MHD_queue_response(c, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

enum MHD_Result ft_http_send(struct MHD_Connection *c, unsigned status, const char *ctype,
                             const char *body, size_t len)
{
  return queue(c, status, ctype, body, len, 0);
}

static enum MHD_Result json_queue(struct MHD_Connection *c, unsigned status, json_t *body,
                                  int retry_after)
{
  char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  enum MHD_Result ret;

  json_decref(body);
  if(!text)
    return MHD_NO;
  ret = queue(c, status, "application/json", text, strlen(text), retry_after);
  free(text);
  return ret;
}

enum MHD_Result ft_http_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
  return json_queue(c, status, body, 0);
}

enum MHD_Result ft_http_ok(struct MHD_Connection *c, json_t *result)
{
  return json_queue(c, 200, json_pack("{s:b, s:o}", "ok", 1, "result", result), 0);
}

enum MHD_Result ft_http_error(struct MHD_Connection *c, unsigned code, const char *desc)
{
  return json_queue(c, code, json_pack("{s:b, s:i, s:s}", "ok", 0, "error_code", (int)code,
                                       "description", desc), 0);
}

enum MHD_Result ft_http_retry_after(struct MHD_Connection *c, int seconds)
{
  char desc[64];

  snprintf(desc, sizeof(desc), "Too Many Requests: retry after %d", seconds);
  return json_queue(c, 429,
                    json_pack("{s:b, s:i, s:s, s:{s:i}}", "ok", 0, "error_code", 429,
                              "description", desc, "parameters", "retry_after", seconds),
                    seconds);
}

enum MHD_Result ft_http_nginx_page(struct MHD_Connection *c, unsigned code)
{
  char page[512];
  int n;

  n = snprintf(page, sizeof(page),
               "<html>\r\n<head><title>%u %s</title></head>\r\n<body>\r\n"
               "<center><h1>%u %s</h1></center>\r\n<hr><center>" SERVER_NAME "</center>\r\n"
               "</body>\r\n</html>\r\n",
               code, ft_http_reason(code), code, ft_http_reason(code));
  return queue(c, code, "text/html", page, (size_t)n, 0);
}
