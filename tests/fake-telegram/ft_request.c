/* ft_request: per-request context and body streaming. */
#include "ft_request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ft_num.h"
#include "ft_time.h"

#define CONTROL_BODY_MAX 65536

static const char body_error[] = "Bad Request: failed to parse request body";

void ft_req_fail(struct ft_req *r, unsigned code, const char *desc)
{
  if(r->err_code)
    return;
  r->err_code = code;
  snprintf(r->err_desc, sizeof(r->err_desc), "%s", desc);
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
  struct ft_req *r = cls;

  (void)kind;
  if(!key)
    return MHD_YES;
  if(ft_params_set(&r->params, key, value ? value : "", value ? strlen(value) : 0))
    ft_req_fail(r, 400, "Bad Request: too many or too long parameters");
  return MHD_YES;
}

/* Splits the URL into route, token, method and file path. */
static void route(struct ft_req *r, const char *url)
{
  const char *rest, *slash;
  size_t n;

  if(!strncmp(url, "/_fake/", 7)) {
    r->route = FT_ROUTE_CONTROL;
    snprintf(r->method, sizeof(r->method), "%s", url + 7);
    return;
  }
  if(!strncmp(url, "/bot", 4))
    rest = url + 4, r->route = FT_ROUTE_API;
  else if(!strncmp(url, "/file/bot", 9))
    rest = url + 9, r->route = FT_ROUTE_FILE;
  else
    return;
  slash = strchr(rest, '/');
  if(!slash || slash == rest) {
    r->route = FT_ROUTE_NOT_FOUND;
    return;
  }
  n = (size_t)(slash - rest);
  if(n <= FT_TOKEN_MAX) {
    memcpy(r->token, rest, n);
    r->token[n] = '\0';
    r->token_ok = !ft_token_parse(r->token, &r->bot_id) &&
                  !ft_runtime_token_denied(&r->rt, r->token);
  }
  rest = slash + 1;
  if(r->route == FT_ROUTE_API) {
    /* method names are single path segments of letters */
    if(!*rest || strchr(rest, '/') || strlen(rest) >= sizeof(r->method))
      r->route = FT_ROUTE_NOT_FOUND;
    else
      snprintf(r->method, sizeof(r->method), "%s", rest);
  }
  else if(!*rest || strlen(rest) >= sizeof(r->path))
    r->route = FT_ROUTE_NOT_FOUND;
  else
    snprintf(r->path, sizeof(r->path), "%s", rest);
}

struct ft_req *ft_req_new(struct ft_app *app, struct MHD_Connection *conn, const char *url,
                          const char *http_method)
{
  struct ft_req *r = calloc(1, sizeof(*r));
  size_t i;

  if(!r)
    return NULL;
  r->app = app;
  r->conn = conn;
  r->http_method = http_method;
  r->t_start = ft_time_mono();
  for(i = 0; i < FT_UPLOADS_MAX; i++)
    r->up[i].fd = -1;
  ft_params_init(&r->params);
  ft_buf_init(&r->text, FT_TEXT_BODY_MAX);
  ft_config_snapshot(&app->cfg, &r->rt);
  route(r, url);
  if(r->route == FT_ROUTE_API)
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, r);
  return r;
}

static void upload_close(struct ft_upload *u, int remove)
{
  if(u->fd >= 0)
    close(u->fd);
  u->fd = -1;
  if(u->sha)
    EVP_MD_CTX_free(u->sha);
  u->sha = NULL;
  if(remove && u->tmp_path[0]) {
    unlink(u->tmp_path);
    u->tmp_path[0] = '\0';
  }
}

void ft_req_free(struct ft_req *r)
{
  size_t i;

  if(!r)
    return;
  for(i = 0; i < r->nup; i++)
    upload_close(&r->up[i], 1);
  ft_params_free(&r->params);
  ft_buf_free(&r->text);
  free(r);
}

/* Stops storing anything: the rest of the body is read and thrown away. */
static void discard_rest(struct ft_req *r)
{
  size_t i;

  for(i = 0; i < r->nup; i++)
    upload_close(&r->up[i], 1);
  r->nup = 0;
  r->cur = NULL;
  r->in_param = 0;
  r->body = FT_BODY_DISCARD;
}

static void set_too_large(struct ft_req *r)
{
  r->too_large = 1;
  discard_rest(r);
}

static int mp_begin(void *ud, const struct ft_mp_part *part)
{
  struct ft_req *r = ud;
  struct ft_upload *u;

  r->cur = NULL;
  r->in_param = 0;
  if(!part->has_filename) {
    if(!part->name[0])
      return 0;
    snprintf(r->cur_param, sizeof(r->cur_param), "%s", part->name);
    r->in_param = 1;
    if(ft_params_set(&r->params, part->name, "", 0)) {
      ft_req_fail(r, 400, "Bad Request: too many or too long parameters");
      return 1;
    }
    return 0;
  }
  if(!r->want_files)
    return 0; /* file parts of other methods are read and dropped */
  if(r->nup >= FT_UPLOADS_MAX) {
    ft_req_fail(r, 400, "Bad Request: too many files in the request");
    return 1;
  }
  u = &r->up[r->nup];
  memset(u, 0, sizeof(*u));
  u->fd = ft_store_tmp_open(&r->app->store, u->tmp_path, sizeof(u->tmp_path));
  if(u->fd < 0) {
    u->tmp_path[0] = '\0';
    ft_req_fail(r, 500, "Internal Server Error");
    return 1;
  }
  r->nup++;
  u->sha = EVP_MD_CTX_new();
  if(!u->sha || !EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL)) {
    ft_req_fail(r, 500, "Internal Server Error");
    return 1;
  }
  snprintf(u->part_name, sizeof(u->part_name), "%s", part->name);
  snprintf(u->file_name, sizeof(u->file_name), "%s", part->filename);
  /* keep the media type without parameters */
  snprintf(u->mime, sizeof(u->mime), "%.*s", (int)strcspn(part->content_type, "; \t"),
           part->content_type);
  r->cur = u;
  return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
  while(len) {
    ssize_t n = write(fd, p, len);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int mp_data(void *ud, const char *data, size_t len)
{
  struct ft_req *r = ud;
  struct ft_upload *u = r->cur;

  if(r->in_param) {
    if(ft_params_append(&r->params, r->cur_param, data, len)) {
      ft_req_fail(r, 400, "Bad Request: too many or too long parameters");
      return 1;
    }
    return 0;
  }
  if(!u)
    return 0;
  u->size += len;
  if(u->size > r->rt.upload_limit) {
    set_too_large(r);
    return 1;
  }
  if(write_all(u->fd, data, len) || !EVP_DigestUpdate(u->sha, data, len)) {
    ft_req_fail(r, 500, "Internal Server Error");
    return 1;
  }
  return 0;
}

static int mp_end(void *ud)
{
  struct ft_req *r = ud;
  struct ft_upload *u = r->cur;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0, i;

  r->in_param = 0;
  r->cur = NULL;
  if(!u)
    return 0;
  if(!EVP_DigestFinal_ex(u->sha, md, &mdlen) || mdlen != 32) {
    ft_req_fail(r, 500, "Internal Server Error");
    return 1;
  }
  for(i = 0; i < mdlen; i++)
    snprintf(u->sha256 + 2 * i, 3, "%02x", md[i]);
  close(u->fd);
  u->fd = -1;
  return 0;
}

static const struct ft_mp_callbacks mp_callbacks = {mp_begin, mp_data, mp_end};

static int ctype_is(const char *ctype, const char *want)
{
  size_t n = strlen(want);
  return ctype && !strncasecmp(ctype, want, n) &&
         (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

void ft_req_begin_body(struct ft_req *r)
{
  const char *ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_TYPE);
  const char *clen = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
  uint64_t len = 0;

  if(r->route == FT_ROUTE_CONTROL) {
    r->body = FT_BODY_TEXT;
    r->text.max = CONTROL_BODY_MAX;
    return;
  }
  if(r->route != FT_ROUTE_API || !r->token_ok) {
    r->body = FT_BODY_DISCARD;
    return;
  }
  r->want_files = !strcasecmp(r->method, "sendDocument");
  if(clen && !ft_num_u64(clen, &len) && len > r->rt.upload_limit + FT_UPLOAD_OVERHEAD) {
    set_too_large(r);
    return;
  }
  if(ctype_is(ctype, "multipart/form-data")) {
    r->body = FT_BODY_MULTIPART;
    if(ft_mp_init(&r->mp, ctype, &mp_callbacks, r)) {
      ft_req_fail(r, 400, body_error);
      r->body = FT_BODY_DISCARD;
    }
  }
  else if(ctype_is(ctype, "application/x-www-form-urlencoded"))
    r->body = FT_BODY_TEXT;
  else if(ctype_is(ctype, "application/json"))
    r->body = FT_BODY_JSON;
  else
    r->body = FT_BODY_DISCARD; /* like the Bot API: other bodies are ignored */
}

void ft_req_feed(struct ft_req *r, const char *data, size_t len)
{
  int rc;

  r->received += len;
  switch(r->body) {
  case FT_BODY_TEXT:
  case FT_BODY_JSON:
    if(ft_buf_append(&r->text, data, len))
      set_too_large(r);
    break;
  case FT_BODY_MULTIPART:
    if(r->received > r->rt.upload_limit + FT_UPLOAD_OVERHEAD) {
      set_too_large(r);
      break;
    }
    rc = ft_mp_feed(&r->mp, data, len);
    if(rc == FT_MP_EMALFORMED)
      ft_req_fail(r, 400, body_error);
    if(rc)
      discard_rest(r);
    break;
  default:
    break;
  }
  /* the per-connection bandwidth cap: hold the connection until on schedule */
  ft_time_pace(r->t_start, r->received, r->rt.bandwidth);
}

void ft_req_end_body(struct ft_req *r)
{
  size_t i;

  switch(r->body) {
  case FT_BODY_TEXT:
    if(r->route == FT_ROUTE_API && r->text.len &&
       ft_params_parse_urlencoded(&r->params, r->text.data, r->text.len))
      ft_req_fail(r, 400, body_error);
    break;
  case FT_BODY_JSON:
    if(r->text.len && ft_params_parse_json(&r->params, r->text.data, r->text.len))
      ft_req_fail(r, 400, body_error);
    break;
  case FT_BODY_MULTIPART:
    if(ft_mp_finish(&r->mp)) {
      ft_req_fail(r, 400, body_error);
      discard_rest(r);
    }
    break;
  default:
    break;
  }
  for(i = 0; i < r->nup; i++)
    upload_close(&r->up[i], 0);
}

struct ft_upload *ft_req_upload(struct ft_req *r, const char *name)
{
  size_t i;
  for(i = 0; i < r->nup; i++)
    if(!strcmp(r->up[i].part_name, name))
      return &r->up[i];
  return NULL;
}
