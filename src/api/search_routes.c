/* search: GET /api/v1/files/search?q=&limit= (API §5). Parses the query,
 * calls drive/search and renders {"folders":[Folder],"files":[File]}. */
#include <errno.h>
#include <stdlib.h>
#include "api/api.h"
#include "api/list_params.h"
#include "api/render.h"
#include "util/jsonw.h"
#include "drive/search.h"

/* Parses limit: absent or empty = default; else a decimal 1..max. */
static int search_parse_limit(const char *s, int64_t *out)
{
  if(!s || !*s) {
    *out = SEARCH_LIMIT_DEFAULT;
    return 0;
  }
  if(*s < '0' || *s > '9')
    return -1;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if(errno || *end || v < 1 || v > SEARCH_LIMIT_MAX)
    return -1;
  *out = (int64_t)v;
  return 0;
}

/* The reply, {"folders":[...],"files":[...]}, written as the rows arrive:
 * the sink gets every folder before any file. */
struct search_reply {
  buf_t out;
  size_t count;     /* items in the list being written */
  bool in_files;    /* the folders' list is closed */
  int rc;           /* BUF_OK, or the first error writing it */
};

/* Before an item of the files' list (files) or of the folders' list. */
static int search_next(struct search_reply *s, bool file)
{
  if(s->rc == BUF_OK && file && !s->in_files) {
    s->rc = jsonw_raw(&s->out, "],\"files\":[");
    s->in_files = true;
    s->count = 0;
  }
  if(s->rc == BUF_OK && s->count++ > 0)
    s->rc = jsonw_raw(&s->out, ",");
  return s->rc == BUF_OK ? DRIVE_OK : DRIVE_INTERNAL;
}

static int search_add_folder(const struct folder *f, void *arg)
{
  struct search_reply *s = arg;
  if(search_next(s, false) == DRIVE_OK)
    s->rc = render_folder(&s->out, f);
  return s->rc == BUF_OK ? DRIVE_OK : DRIVE_INTERNAL;
}

static int search_add_file(const struct file_rec *f, void *arg)
{
  struct search_reply *s = arg;
  if(search_next(s, true) == DRIVE_OK)
    s->rc = render_file(&s->out, f);
  return s->rc == BUF_OK ? DRIVE_OK : DRIVE_INTERNAL;
}

/* GET /api/v1/files/search?q=&limit= */
static int search_files(struct http_req *r)
{
  char key[SEARCH_QUERY_MAX + 1];
  size_t qlen = 0;
  int64_t limit;
  const char *q = http_query_n(r, "q", &qlen);
  int rc = search_prepare(q, q ? qlen : 0, key, sizeof(key));
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_MISSING ? "Query must not be empty"
                                                      : "Query must be valid UTF-8 text");
  if(search_parse_limit(http_query(r, "limit"), &limit) != 0)
    return http_reply_error(r, HTTP_BAD_REQUEST, "limit must be an integer from 1 to 1000");

  struct search_reply res = {.rc = BUF_OK};
  buf_init(&res.out, 2 * LISTING_REPLY_MAX);
  res.rc = jsonw_raw(&res.out, "{\"folders\":[");
  struct search_sink sink = {search_add_folder, search_add_file, &res};
  /* An empty key is a query longer than any name: it matches nothing. */
  rc = key[0] ? search_names(api_user_id(r), key, limit, &sink) : DRIVE_OK;
  /* DRIVE_INTERNAL from a sink means the reply could not be written: 500 below. */
  if(rc != DRIVE_OK && !(rc == DRIVE_INTERNAL && res.rc != BUF_OK)) {
    buf_free(&res.out);
    return api_reply_error(r, rc, NULL);
  }
  if(res.rc == BUF_OK && !res.in_files)
    res.rc = jsonw_raw(&res.out, "],\"files\":[");
  if(res.rc == BUF_OK)
    res.rc = jsonw_raw(&res.out, "]}");
  return render_reply(r, HTTP_OK, &res.out, res.rc);
}

const struct http_route api_search_routes[] = {
  {"GET", "/api/v1/files/search", search_files, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
